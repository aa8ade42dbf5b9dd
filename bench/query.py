"""Query benchmark: the portal's JSON API at scale, beside the framework's own ceiling, one run.

    .venv/bin/python bench/query.py [--subjects N] [--records M] [--pg URL]
                                    [--clients C] [--seconds S] [--keep DIR]

Builds a database through the Alembic migrations (a SQLite file in a temporary folder, or with
``--pg`` a fresh schema of that PostgreSQL database, dropped afterwards) and loads N synthetic
subjects (90 % organisations and individual businesses named as ``xinyong.sample.world`` names
them, 5 % of those with a former name, 10 % natural persons) and M records spread over the
catalogue's datasets (mostly 行政许可 / 行政处罚, some lists, ratings and commitments).

The records are written by bulk inserts (``xinyong.db.bulk_insert``: executemany on SQLite,
COPY on PostgreSQL) that bypass ingestion: ingestion speed is bench/ingest.py's job. To keep
them what ingestion would have made, every record is a copy of a record that the real ingestion
stored from the synthetic sample (``xinyong sample generate`` + ``load`` into a scratch
database first): its data JSON with the catalogue's item codes, raw cells, decision date,
publicity rule, class and ends; only the subject's fields and the document number change. Each
dataset gets one batch row; list datasets get their ``list_entries`` rows. A record whose
publicity end is already past is loaded as 期满停止公示, as if `xinyong daily` had run today.

Then the app (``xinyong.web.app.create_app``) is served by uvicorn, one worker, in a subprocess
(rate limits off: XINYONG_RATE_LIMIT_*=0), and ``wrk`` (C clients, one thread, a Lua script
drawing random paths) drives it for S seconds per figure from a second process:

* raw limit: ``GET /api/v1/health`` (constant answer, no database): the framework's ceiling;
* profile ``GET /api/v1/subjects/{id}`` of random organisations: req/s, p50, p99, ratio;
* records page ``GET /api/v1/subjects/{id}/records`` of random organisations;
* name search ``GET /api/v1/subjects?q=`` with 2-, 3- and 4-8-character fragments of names;
* one credit report: ``POST /api/v1/reports`` then ``GET …pdf`` for a company with about 50
  records, sequentially, after warm-up;
* ``xinyong daily --as-of`` tomorrow (steady state: what ends today), then a date a year ahead
  (a backlog: a good share of records expire), run twice (the second changes nothing), beside
  the raw limit: one UPDATE of the same rows' state without history or audit (rolled back,
  measured just before).

The machine is shared and noisy: compare ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import orjson  # noqa: E402
from query_search import fragments  # noqa: E402
from sqlalchemy import Engine, create_engine, insert, text  # noqa: E402

from xinyong.batches.models import batches  # noqa: E402
from xinyong.catalog.loader import Catalog, load_catalog  # noqa: E402
from xinyong.codes.uscc import USCC_CHARSET  # noqa: E402
from xinyong.db import bulk_insert, make_engine, timestamp_param, upgrade_schema  # noqa: E402
from xinyong.records.states import EXPIRED, PUBLISHED  # noqa: E402
from xinyong.settings import Settings  # noqa: E402
from xinyong.subjects.models import subject_names, subjects  # noqa: E402
from xinyong.subjects.refs import INDIVIDUAL_BUSINESS, ORGANISATION, PERSON  # noqa: E402

XINYONG = str(ROOT / ".venv" / "bin" / "xinyong")
PYTHON = sys.executable
CHUNK = 50_000
COMMIT_EVERY = 500_000
LONG_TERM = date(2099, 12, 31)
TODAY = date.today()

# Share of organisations' records per dataset (the rest of the catalogue: what is left).
ORG_MIX = {
    "XZXK": 0.40,
    "XZCF": 0.40,
    "FRJC": 0.06,
    "NSXY": 0.03,
    "XYCN": 0.03,
    "SXHMD": 0.02,
    "JYYC": 0.02,
    "YZSX": 0.01,
    "ZDGZ": 0.01,
    "BZRY": 0.01,
    "GZRY": 0.01,
}
PERSON_SHARE = 0.04  # of all records: persons' penalties (not public) and 失信被执行人
PERSON_MIX = {"XZCF": 0.75, "SXBZX": 0.25}


# ---------------------------------------------------------------------------------------------
# templates: records the real ingestion stored from the synthetic sample


@dataclass(frozen=True)
class Template:
    dataset: str
    person: bool
    dept_uscc: str
    data: dict[str, Any]
    raw: str
    decision_date: date | None
    rule: str | None
    klass: str | None
    min_end: date | None
    max_end: date | None
    valid_until: date | None  # list_entries.valid_until of a list record


def _d(value: Any) -> date | None:
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def load_templates(workdir: Path) -> dict[tuple[str, bool], list[Template]]:
    """Run the real ingestion of the synthetic sample into a scratch SQLite file and keep its
    records as templates, by (dataset, about a natural person)."""
    sample, db = workdir / "sample", workdir / "templates.db"
    env = {**os.environ, "XINYONG_DATABASE_URL": f"sqlite:///{db}"}
    for cmd in (
        ["db", "upgrade"],
        ["sample", "generate", "--output", str(sample)],
        ["sample", "load", str(sample)],
    ):
        subprocess.run([XINYONG, *cmd], env=env, check=True, capture_output=True)
    engine = create_engine(f"sqlite:///{db}")
    out: dict[tuple[str, bool], list[Template]] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT r.dataset, r.dept_uscc, r.data, r.raw, r.decision_date, r.publicity_rule,"
                " r.publicity_class, r.publicity_min_end, r.publicity_max_end, s.category,"
                " l.valid_until FROM records r JOIN subjects s ON s.id = r.subject_id"
                " LEFT JOIN list_entries l ON l.record_id = r.id WHERE r.state = :s"
            ),
            {"s": PUBLISHED},
        )
        for r in rows:
            t = Template(
                r.dataset,
                r.category == PERSON,
                r.dept_uscc,
                json.loads(r.data),
                r.raw,
                _d(r.decision_date),
                r.publicity_rule,
                r.publicity_class,
                _d(r.publicity_min_end),
                _d(r.publicity_max_end),
                _d(r.valid_until),
            )
            out.setdefault((t.dataset, t.person), []).append(t)
    engine.dispose()
    shutil.rmtree(sample)
    db.unlink()
    return out


# ---------------------------------------------------------------------------------------------
# loading


@dataclass(frozen=True)
class Subj:
    id: int
    category: str
    name: str
    uscc: str | None
    id_number: str | None


def stored_subjects(engine: Engine) -> tuple[list[Subj], list[Subj], Any]:
    """The subjects of a kept database, read back (generating the world again takes longer
    than the queries): organisations, persons, and an object with ``orgs`` for the search
    fragments."""
    orgs: list[Subj] = []
    persons: list[Subj] = []
    with engine.connect() as conn:
        for r in conn.execute(
            text("SELECT id, category, name, uscc, id_number FROM subjects ORDER BY id")
        ):
            (persons if r.category == PERSON else orgs).append(
                Subj(r.id, r.category, r.name, r.uscc, r.id_number)
            )
    return orgs, persons, SimpleNamespace(orgs=orgs)


def copy_subjects(engine: Engine, sqlite_file: Path) -> None:
    """Copy ``subjects`` and ``subject_names`` from a database this script built (on SQLite)
    into this one, as they are (ids included): the same world without generating it again."""
    source = create_engine(f"sqlite:///{sqlite_file}")
    with source.connect() as src, engine.begin() as dst:
        for table in (subjects, subject_names):
            cols = [c.name for c in table.columns]
            rows = src.execute(text(f"SELECT {', '.join(cols)} FROM {table.name}"))
            bulk_insert(dst, table, cols, (tuple(r) for r in rows))
    source.dispose()


# ---------------------------------------------------------------------------------------------
# subjects, generated set-based in SQL

ORG_SHARE = 0.9  # of subjects: organisations and individual businesses (ids first), then persons
INDIVIDUAL_SHARE = 0.15  # of organisations: 个体工商户
FORMER_SHARE = 0.05  # of organisations: a former name
# distinct company names: brand x brand x trade x place x form; individual businesses: surname x
# given x given x shop x place. A multiplier prime to each walks every combination once before
# any repeats, so names stay unique up to these counts (576,000 and 1,944,000).
_COMPANY_FORMS = ("有限公司", "有限责任公司", "股份有限公司")
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # GB 11714 values (A=10 … Z=35)
_NAME_MULT = 7919


def _sql_fns(pg: bool) -> SimpleNamespace:
    """The few functions whose names differ between the dialects."""
    return SimpleNamespace(
        pos=(lambda hay, needle: f"strpos({hay}, {needle})")
        if pg
        else (lambda hay, needle: f"instr({hay}, {needle})"),
        pad=(lambda x, w: f"lpad(CAST({x} AS text), {w}, '0')")
        if pg
        else (lambda x, w: f"printf('%0{w}d', {x})"),
        day=(lambda d: f"to_char(DATE '1955-01-01' + CAST({d} AS integer), 'YYYYMMDD')")
        if pg
        else (lambda d: f"strftime('%Y%m%d', '1955-01-01', '+' || ({d}) || ' days')"),
    )


def _weighted(col: str, weights: Sequence[int], value: Any) -> str:
    """Σ weight_k · value(k-th character of ``col``), as SQL."""
    return " + ".join(
        f"{w} * ({value(f'substr({col}, {k + 1}, 1)')})" for k, w in enumerate(weights)
    )


def _check_sql(pg: bool) -> SimpleNamespace:
    """The check characters of GB 11714 (organisation code), GB 32100 (USCC), GB 11643 (ID
    number) and GS 15 (registration number) as SQL over text columns, so that every generated
    code is valid as the registries' are (tests of the bench compare them with xinyong.codes)."""
    f = _sql_fns(pg)
    uscc_chars = "'0123456789ABCDEFGHJKLMNPQRTUWXY'"

    def org(body8: str) -> str:
        s = _weighted(
            body8, (3, 7, 9, 10, 5, 8, 4, 2), lambda c: f"{f.pos(repr(_ORG_ALPHABET), c)} - 1"
        )
        return f"substr('0123456789X', 1 + (11 - ({s}) % 11) % 11, 1)"

    def uscc(first17: str) -> str:
        weights = [pow(3, k, 31) for k in range(17)]
        s = _weighted(first17, weights, lambda c: f"{f.pos(uscc_chars, c)} - 1")
        return f"substr({uscc_chars}, 1 + (31 - ({s}) % 31) % 31, 1)"

    def idcard(body17: str) -> str:
        weights = [pow(2, 17 - k, 11) for k in range(17)]
        s = _weighted(body17, weights, lambda c: f"CAST({c} AS integer)")
        return f"substr('0123456789X', 1 + (12 - ({s}) % 11) % 11, 1)"

    return SimpleNamespace(org=org, uscc=uscc, idcard=idcard)


def _regno_steps(p: str, digits: str, first: int, count: int) -> str:
    """GS 15 (ISO 7064 MOD 11,10): the running product ``p`` after ``count`` more digits of the
    text column ``digits`` (from its ``first``-th), as SQL: each step holds the previous once,
    so the text grows linearly (SQLite's parser allows a few levels of nesting only)."""
    for k in range(first, first + count):
        d = f"CAST(substr({digits}, {k}, 1) AS integer)"
        p = f"(2 * ((({p}) + {d} + 9) % 10) + 2) % 11"
    return p


def _regno_product(digits: str) -> int:
    """The running MOD 11,10 product after ``digits`` (a division code), in Python."""
    p = 10
    for ch in digits:
        p = (2 * ((p + int(ch) - 1) % 10 + 1)) % 11
    return p


def load_subjects(engine: Engine, n: int) -> None:
    """Generate ``n`` subjects in SQL over a series of ids (``INSERT … SELECT``, as the
    records are): organisations first (15 % individual businesses, named 个体工商户 style),
    then natural persons; names composed from ``xinyong.sample.world``'s parts, unique up to
    the counts above; valid USCCs, organisation codes, registration numbers and ID numbers
    (check characters computed in SQL), all distinct by construction; 5 % of organisations with
    a former name. The name index (FTS5 / bigrams) is filled by its own triggers."""
    from xinyong.sample import world as parts

    pg = engine.dialect.name == "postgresql"
    f, check = _sql_fns(pg), _check_sql(pg)
    n_orgs = int(n * ORG_SHARE)
    series = (
        "generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g(n)"
        if pg
        else "(WITH RECURSIVE s(n) AS (SELECT :lo UNION ALL SELECT n + 1 FROM s WHERE n < :hi)"
        " SELECT n FROM s) AS g"
    )
    words: list[tuple[str, int, str]] = []
    for kind, values in (
        ("brand", parts._BRANDS),
        ("trade", parts._TRADES),
        ("form", _COMPANY_FORMS),
        ("shop", parts._SHOPS),
        ("surname", parts._SURNAMES),
        ("given", parts._GIVEN),
    ):
        words += [(kind, k, w) for k, w in enumerate(values)]
    divisions = list(parts.PUYANG_DIVISIONS)
    words += [("place", k, parts.PLACE_PREFIX[d]) for k, d in enumerate(divisions)]
    words += [("division", k, d) for k, d in enumerate(divisions)]
    # the registration number's running check product after the division code, per division
    words += [("regp", k, str(_regno_product(d))) for k, d in enumerate(divisions)]
    sizes = {kind: sum(1 for w in words if w[0] == kind) for kind, _, _ in words}

    def word(kind: str, index: str) -> str:
        return (
            f"(SELECT w FROM bench_words WHERE kind = '{kind}' AND k = ({index}) % {sizes[kind]})"
        )

    # per id: a hash for choices, and a permutation index for the name's parts
    h = "((g.n * 40503 + 12345) % 65536)"
    q = f"(g.n * {_NAME_MULT})"
    company = (
        f"{word('place', f'{q} % 576000 / 96000')} || {word('brand', f'{q} % 576000')}"
        f" || {word('brand', f'{q} % 576000 / 40')} || {word('trade', f'{q} % 576000 / 1600')}"
        f" || {word('form', f'{q} % 576000 / 32000')}"
    )
    shop = (
        f"{word('place', f'{q} % 1944000 / 324000')} || {word('surname', f'{q} % 1944000')}"
        f" || {word('given', f'{q} % 1944000 / 30')}"
        f" || substr({word('given', f'{q} % 1944000 / 900')}, 1, 1)"
        f" || {word('shop', f'{q} % 1944000 / 27000')}"
    )
    individual = f"{h} < {int(65536 * INDIVIDUAL_SHARE)}"
    body = " || ".join(
        f"substr('{USCC_CHARSET}', CAST(1 + g.n / {31**k} % 31 AS integer), 1)"
        for k in range(5, -1, -1)
    )
    orgs_sql = (
        "CREATE TABLE bench_new_subjects AS SELECT g.n AS id,"
        f" CASE WHEN {individual} THEN '{INDIVIDUAL_BUSINESS}' ELSE '{ORGANISATION}' END"
        " AS category,"
        f" CASE WHEN {individual} THEN {shop} ELSE {company} END AS name,"
        f" CASE WHEN {individual} THEN '92' ELSE '91' END AS prefix,"
        f" {word('division', f'{h} % 6')} AS division,"
        f" CAST({word('regp', f'{h} % 6')} AS integer) AS regp,"
        f" 'MA' || {body} AS body8, {f.pad('g.n', 8)} AS seq8"
        f" FROM {series}"
    )
    # the check characters from stored columns, one step at a time: SQLite flattens a subquery
    # into its outer query, so a check computed there is computed again at each use (7 s for
    # 45,000 rows when the USCC's check read the organisation code's check 17 times)
    org_code = f"b.body8 || {check.org('b.body8')}"
    checked_sql = (
        "CREATE TABLE bench_checked AS SELECT b.id, b.category, b.name,"
        f" b.prefix || b.division || {org_code} AS first17, {org_code} AS org_code,"
        f" b.division || b.seq8 AS reg14, {_regno_steps('b.regp', 'b.seq8', 1, 4)} AS regp4"
        " FROM bench_new_subjects b"
    )
    insert_orgs = (
        "INSERT INTO subjects (id, category, database, name, name_norm, uscc, org_code, reg_no,"
        " status, created_at, updated_at)"
        " SELECT s.id, s.category, '法人', s.name, s.name,"
        f" s.first17 || {check.uscc('s.first17')}, s.org_code,"
        f" s.reg14 || CAST((11 - {_regno_steps('s.regp4', 's.reg14', 11, 4)}) % 10 AS text),"
        " '存续', '@TS@', '@TS@' FROM bench_checked s"
    )
    # persons: born 1955-1999 (adults, as the world's), a birthday per thousand of them so that
    # (division, birthday, sequence) never repeats below 16 million persons
    birth = f.day("(g.n / 1000 * 997) % 16425")
    persons_sql = (
        "CREATE TABLE bench_new_subjects AS SELECT g.n AS id,"
        f" {word('surname', f'{q}')} || {word('given', f'{q} / 30')} AS name,"
        f" {word('division', f'{h} % 6')} || {birth} || {f.pad('g.n % 1000', 3)} AS body17"
        f" FROM {series}"
    )
    insert_persons = (
        "INSERT INTO subjects (id, category, database, name, name_norm, id_number, created_at,"
        f" updated_at) SELECT s.id, '{PERSON}', '自然人', s.name, s.name,"
        f" s.body17 || {check.idcard('s.body17')}, '@TS@', '@TS@' FROM bench_new_subjects s"
    )
    # names: every subject's current one (the id of its subject), a former one for some
    # organisations: the same place, another's 字号 and trade (ids past the subjects')
    other = f"(1 + (s.id * 31337) % {n_orgs})"
    names_sql = (
        "INSERT INTO subject_names (id, subject_id, name, name_norm, kind, created_at)"
        " SELECT id, id, name, name_norm, 'current', created_at FROM subjects"
    )
    formers_sql = (
        "INSERT INTO subject_names (id, subject_id, name, name_norm, kind, created_at)"
        f" SELECT {n} + s.id, s.id, substr(s.name, 1, 3) || substr(o.name, 4),"
        " substr(s.name, 1, 3) || substr(o.name, 4), 'former', s.created_at FROM subjects s"
        f" JOIN subjects o ON o.id = {other}"
    )
    formers_where = (
        f" WHERE s.id <= {n_orgs} AND (s.id * 2654435761) % 4294967296 < "
        f"{int(4294967296 * FORMER_SHARE)} AND substr(s.name, 4) <> substr(o.name, 4)"
    )
    with engine.begin() as conn:
        ts = timestamp_param(conn, datetime.now(UTC))
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_words")
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_new_subjects")
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_checked")
        conn.exec_driver_sql(
            "CREATE TABLE bench_words (kind TEXT, k INTEGER, w TEXT, PRIMARY KEY (kind, k))"
        )
        conn.execute(
            text("INSERT INTO bench_words VALUES (:kind, :k, :w)"),
            [{"kind": kind, "k": k, "w": w} for kind, k, w in words],
        )
        if n_orgs:
            conn.execute(text(orgs_sql), {"lo": 1, "hi": n_orgs})
            conn.execute(text(checked_sql))
            conn.execute(text(insert_orgs.replace("@TS@", ts)))
            conn.exec_driver_sql("DROP TABLE bench_checked")
            conn.exec_driver_sql("DROP TABLE bench_new_subjects")
        if n > n_orgs:
            conn.execute(text(persons_sql), {"lo": n_orgs + 1, "hi": n})
            conn.execute(text(insert_persons.replace("@TS@", ts)))
            conn.exec_driver_sql("DROP TABLE bench_new_subjects")
        conn.execute(text(names_sql))
        conn.execute(text(formers_sql + formers_where))
        conn.exec_driver_sql("DROP TABLE bench_words")


def _subject_fields(catalog: Catalog, dataset: str, data: dict[str, Any], s: Subj) -> None:
    fields = catalog.dataset(dataset).subject
    for f in ("reg_no", "org_code", "id_number", "uscc"):
        code = getattr(fields, f, None)
        if code:
            data.pop(code, None)
    data[fields.name] = s.name
    if s.uscc and fields.uscc:
        data[fields.uscc] = s.uscc
    if s.id_number and fields.id_number:
        data[fields.id_number] = s.id_number
    category = getattr(fields, "category", None)
    if category and category in data:
        data[category] = s.category


def _choose(rng: random.Random, mix: dict[str, float]) -> str:
    x = rng.random() * sum(mix.values())
    for code, share in mix.items():
        x -= share
        if x <= 0:
            return code
    return next(iter(mix))


def _mix_table(
    rng: random.Random, templates: dict[tuple[str, bool], list[Template]]
) -> list[tuple[int, int, int]]:
    """Template numbers by slot: ``SLOTS`` slots drawn once by the dataset mix (persons'
    records ``PERSON_SHARE`` of them), so that SQL can pick a record's template by its id."""
    slots: list[tuple[int, int, int]] = []
    numbered: dict[tuple[str, bool], list[int]] = {}
    k = 0
    for key, pool in templates.items():
        numbered[key] = list(range(k, k + len(pool)))
        k += len(pool)
    for slot in range(SLOTS):
        person = rng.random() < PERSON_SHARE
        code = _choose(rng, PERSON_MIX if person else ORG_MIX)
        key = (code, person) if (code, person) in numbered else ("XZCF", person)
        slots.append((slot, rng.choice(numbered[key]), int(person)))
    return slots


SLOTS = 10_007  # a prime: slot = id * 7919 % SLOTS spreads consecutive ids over the mix


def load_records(
    engine: Engine,
    catalog: Catalog,
    templates: dict[tuple[str, bool], list[Template]],
    orgs: list[Subj],
    persons: list[Subj],
    m: int,
    first: int = 1,
) -> dict[str, int]:
    """Insert records ``first`` to ``m`` set-based, in SQL (``INSERT … SELECT`` over a series of
    ids): each a copy of a template record (picked by the id through a slot table drawn by the
    dataset mix) about a subject picked by a hash of the id (organisations skewed, as real data
    is: half uniform, half towards the low ids; persons uniform). The template's JSON is kept
    as is: the subject's own name and code in it are the template's (the pages show the
    subject row).
    A record whose publicity end is past is 期满停止公示. Returns the count per dataset."""
    rng = random.Random(m)
    now = datetime.now(UTC)
    flat = [t for pool in templates.values() for t in pool]
    list_codes = sorted(c for c, d in catalog.datasets.items() if d.list_kind)
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        ts = timestamp_param(conn, now)
        batch_ids: dict[str, int] = {}
        for code in sorted({t.dataset for t in flat}):
            pool = [t for t in flat if t.dataset == code]
            batch_ids[code] = conn.execute(
                insert(batches)
                .values(
                    dataset=code,
                    dept_uscc=pool[0].dept_uscc,
                    actor="bench",
                    channel="cli",
                    file_name=f"bench_{code}.csv",
                    file_sha256="0" * 64,
                    file_format="csv",
                    received_at=now,
                    finished_at=now,
                    received=0,
                    new=0,
                    updated=0,
                    unchanged=0,
                    pending=0,
                    rejected=0,
                    warnings=0,
                )
                .returning(batches.c.id)
            ).scalar_one()
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_templates")
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_slots")
        conn.exec_driver_sql(
            "CREATE TABLE bench_templates (k INTEGER PRIMARY KEY, dataset TEXT,"
            " dept_uscc TEXT, data TEXT, raw TEXT, decision_date DATE, rule TEXT, klass TEXT,"
            " min_end DATE, max_end DATE, valid_until DATE, batch_id INTEGER)"
        )
        conn.exec_driver_sql(
            "CREATE TABLE bench_slots (slot INTEGER PRIMARY KEY, k INTEGER, person INTEGER)"
        )
        conn.execute(
            text(
                "INSERT INTO bench_templates VALUES (:k, :dataset, :dept, :data, :raw, :dd,"
                " :rule, :klass, :min_end, :max_end, :valid_until, :batch)"
            ),
            [
                {
                    "k": k,
                    "dataset": t.dataset,
                    "dept": t.dept_uscc,
                    "data": orjson.dumps(t.data).decode(),
                    "raw": t.raw,
                    "dd": t.decision_date,
                    "rule": t.rule,
                    "klass": t.klass,
                    "min_end": t.min_end,
                    "max_end": t.max_end,
                    "valid_until": t.valid_until,
                    "batch": batch_ids[t.dataset],
                }
                for k, t in enumerate(flat)
            ],
        )
        conn.execute(
            text("INSERT INTO bench_slots VALUES (:s, :k, :p)"),
            [{"s": s, "k": k, "p": p} for s, k, p in _mix_table(rng, templates)],
        )
    n_orgs, n_persons = len(orgs), len(persons)
    first_person = persons[0].id if persons else 1
    json_cast = "::jsonb" if pg else ""
    # a uniform value in [0, 1) from the id (Knuth's multiplicative hash), and a second one
    u1 = "((g.n * 2654435761) % 4294967296) / 4294967296.0"
    u2 = "((g.n * 40503 + 12345) % 65536) / 65536.0"
    # whole part: SQLite's CAST truncates, PostgreSQL's rounds (a subject past the last)
    whole = "floor" if pg else ""
    org = (
        f"CASE WHEN {u2} < 0.5 THEN 1 + CAST({whole}({n_orgs} * {u1} * {u1}) AS INTEGER)"
        f" ELSE 1 + CAST({whole}({n_orgs} * {u1}) AS INTEGER) END"
    )
    person = f"{first_person} + CAST({whole}({max(n_persons, 1)} * {u1}) AS INTEGER)"
    state = f"CASE WHEN t.max_end < '{TODAY.isoformat()}' THEN '{EXPIRED}' ELSE '{PUBLISHED}' END"
    series = (
        "generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g(n)"
        if pg
        else "(WITH RECURSIVE s(n) AS (SELECT :lo UNION ALL SELECT n + 1 FROM s WHERE n < :hi)"
        " SELECT n FROM s) AS g"
    )
    insert_records = text(
        "INSERT INTO records (id, dataset, natural_key, subject_id, database, dept_uscc, state,"
        " version, content_hash, data, raw, decision_date, batch_id, row_no, created_at,"
        " updated_at, publicity_rule, publicity_class, publicity_min_end, publicity_max_end)"
        f" SELECT g.n, t.dataset, 'BENCH:' || g.n, x.sid, x.db, t.dept_uscc, {state}, 1,"
        f" substr(md5(CAST(g.n AS text)), 1, 32), t.data{json_cast}, t.raw{json_cast},"
        f" t.decision_date, t.batch_id, g.n, '{ts}', '{ts}', t.rule, t.klass, t.min_end,"
        " t.max_end"
        f" FROM {series}"
        f" JOIN bench_slots sl ON sl.slot = (g.n * 7919) % {SLOTS}"
        " JOIN bench_templates t ON t.k = sl.k"
        " CROSS JOIN LATERAL (SELECT CASE WHEN sl.person = 1"
        f" THEN {person} ELSE {org} END AS sid,"
        " CASE WHEN sl.person = 1 THEN '自然人' ELSE '法人' END AS db) AS x"
        if pg
        else "INSERT INTO records (id, dataset, natural_key, subject_id, database, dept_uscc,"
        " state, version, content_hash, data, raw, decision_date, batch_id, row_no, created_at,"
        " updated_at, publicity_rule, publicity_class, publicity_min_end, publicity_max_end)"
        f" SELECT g.n, t.dataset, 'BENCH:' || g.n, CASE WHEN sl.person = 1 THEN {person}"
        f" ELSE {org} END, CASE WHEN sl.person = 1 THEN '自然人' ELSE '法人' END, t.dept_uscc,"
        f" {state}, 1, printf('%032x', g.n), t.data, t.raw, t.decision_date, t.batch_id, g.n,"
        f" '{ts}', '{ts}', t.rule, t.klass, t.min_end, t.max_end"
        f" FROM {series}"
        f" JOIN bench_slots sl ON sl.slot = (g.n * 7919) % {SLOTS}"
        " JOIN bench_templates t ON t.k = sl.k"
    )
    codes = ", ".join(f"'{c}'" for c in list_codes)
    insert_entries = text(
        "INSERT INTO list_entries (record_id, dataset, subject_id, dept_uscc, listed_on,"
        " valid_until, status, updated_at)"
        " SELECT r.id, r.dataset, r.subject_id, r.dept_uscc, r.decision_date, t.valid_until,"
        f" 'listed', '{ts}' FROM records r JOIN bench_slots sl ON sl.slot = (r.id * 7919) %"
        f" {SLOTS} JOIN bench_templates t ON t.k = sl.k"
        f" WHERE r.id BETWEEN :lo AND :hi AND r.dataset IN ({codes})"
    )
    done = first - 1
    while done < m:
        upto = min(m, done + COMMIT_EVERY)
        with engine.begin() as conn:
            conn.execute(insert_records, {"lo": done + 1, "hi": upto})
            conn.execute(insert_entries, {"lo": done + 1, "hi": upto})
        done = upto
        print(f"  records loaded: {done:,}", flush=True)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_templates")
        conn.exec_driver_sql("DROP TABLE bench_slots")
        per_dataset = {
            r[0]: r[1]
            for r in conn.execute(text("SELECT dataset, count(*) FROM records GROUP BY dataset"))
        }
    return per_dataset


def finish_pg_load(engine: Engine) -> None:
    """Sequences past the ids we gave, and what autovacuum does soon after a bulk load."""
    with engine.begin() as conn:
        for table in ("subjects", "subject_names", "records", "batches"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        for table in (
            "subjects",
            "subject_names",
            "subject_search",
            "records",
            "list_entries",
            "batches",
        ):
            c.exec_driver_sql(f"VACUUM ANALYZE {table}")


# ---------------------------------------------------------------------------------------------
# serving and driving


def serve(url: str, port: int) -> None:
    """The server process: the app as `xinyong serve` builds it, without access log."""
    import uvicorn

    from xinyong.web.app import create_app

    settings = Settings(database_url=url)
    app = create_app(settings)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    for _ in range(600):
        if proc.poll() is not None:
            sys.exit("the server process ended before it answered")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    sys.exit("the server did not answer within 120 s")


LUA = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local i = 0
request = function()
    i = i + 1
    return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
    local f = io.open("%(out)s", "w")
    f:write(string.format(
        '{"requests": %%d, "seconds": %%f, "p50": %%f, "p99": %%f, "max": %%f, '
        .. '"non2xx": %%d, "errors": %%d}',
        summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000, summary.errors.status,
        summary.errors.connect + summary.errors.read + summary.errors.write
        + summary.errors.timeout))
    f:close()
end
"""


@dataclass
class Load:
    label: str
    rps: float
    p50: float
    p99: float
    max: float
    requests: int
    non2xx: int


def drive(base: str, label: str, paths: list[str], clients: int, seconds: int, work: Path) -> Load:
    """wrk, one thread, ``clients`` connections, cycling through ``paths`` (already shuffled)."""
    listing, out, script = work / "paths.txt", work / "wrk.json", work / "wrk.lua"
    listing.write_text("\n".join(paths) + "\n")
    script.write_text(LUA % {"paths": listing, "out": out})
    out.unlink(missing_ok=True)
    subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{clients}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base,
        ],
        check=True,
        capture_output=True,
    )
    r = json.loads(out.read_text())
    return Load(
        label,
        r["requests"] / r["seconds"],
        r["p50"],
        r["p99"],
        r["max"],
        r["requests"],
        r["non2xx"],
    )


def list_page_paths(conn: Any, rng: random.Random) -> list[tuple[str, list[str], str]]:
    """The public lists as visitors and scrapers read them: first pages (with and without a
    department, a type, a month), and deep pages from cursors of records drawn at random over
    the whole list (what walking by ``next`` reaches), 双公示 and 红黑榜."""
    plans: list[tuple[str, list[str], str]] = []
    for kind, code in (("xzcf", "XZCF"), ("xzxk", "XZXK")):
        depts = [
            r[0]
            for r in conn.execute(
                text("SELECT DISTINCT dept_uscc FROM batches WHERE dataset = :d"), {"d": code}
            )
        ]
        first = [f"/api/v1/publicity/{kind}"]
        first += [f"/api/v1/publicity/{kind}?dept={d}" for d in depts]
        first += [f"/api/v1/publicity/{kind}?date_from=2026-{m:02d}-01" for m in range(1, 10)]
        if kind == "xzcf":
            first += [f"/api/v1/publicity/{kind}?type={quote(t)}" for t in ("罚款", "警告")]
        plans.append((f"双公示 {kind}, first pages", first * 20, "100"))
        deep = cursors(conn, code, rng)
        plans.append(
            (
                f"双公示 {kind}, deep pages",
                [f"/api/v1/publicity/{kind}?after={c}" for c in deep],
                "100",
            )
        )
    for kind, codes in (("black", ("YZSX", "SXBZX")), ("red", ("SXHMD",))):
        deep = [c for code in codes for c in cursors(conn, code, rng)]
        rng.shuffle(deep)
        paths = [f"/api/v1/lists/{kind}"] * 50 + [f"/api/v1/lists/{kind}?after={c}" for c in deep]
        plans.append((f"红黑榜 {kind}, first and deep", paths, "100"))
    return plans


def cursors(conn: Any, code: str, rng: random.Random, n: int = 2000) -> list[str]:
    """Cursors (decision date, id) of ``n`` random published records of a dataset."""
    hi = conn.execute(text("SELECT max(id) FROM records")).scalar_one()
    out: list[str] = []
    for _ in range(5):
        ids = [rng.randint(1, hi) for _ in range(n * 20)]
        rows = conn.execute(
            text(
                "SELECT id, decision_date FROM records WHERE dataset = :d AND state = :s"
                f" AND id IN ({','.join(map(str, ids))})"
            ),
            {"d": code, "s": PUBLISHED},
        ).all()
        out += [
            f"{str(r.decision_date).replace('-', '')[:8]}.{r.id}"
            for r in rows
            if r.decision_date is not None
        ]
        if len(out) >= n:
            break
    rng.shuffle(out)
    return out[:n] or ["20260101.1"]


def report_times(base: str, subject_id: int, runs: int) -> tuple[list[float], int]:
    """POST a report, then download its PDF; wall time of both, after 3 warm-up rounds."""
    import httpx

    times: list[float] = []
    size = 0
    with httpx.Client(base_url=base, timeout=60) as client:
        for i in range(3 + runs):
            start = time.perf_counter()
            made = client.post("/api/v1/reports", json={"subject_id": subject_id})
            made.raise_for_status()
            pdf = client.get(made.json()["links"]["pdf"])
            pdf.raise_for_status()
            if i >= 3:
                times.append((time.perf_counter() - start) * 1000)
            size = len(pdf.content)
    return times, size


def daily(url: str, as_of: date) -> tuple[float, dict[str, Any]]:
    env = {**os.environ, "XINYONG_DATABASE_URL": url}
    start = time.perf_counter()
    done = subprocess.run(
        [XINYONG, "daily", "--as-of", as_of.isoformat(), "--json"],
        env=env,
        check=True,
        capture_output=True,
    )
    took = time.perf_counter() - start
    result: dict[str, Any] = json.loads(done.stdout)
    return took, result


def raw_expiry(engine: Engine, as_of: date) -> tuple[float, int]:
    """The raw limit: one UPDATE of the same rows' state, no history, no audit; rolled back."""
    with engine.connect() as conn:
        tx = conn.begin()
        start = time.perf_counter()
        n = conn.execute(
            text("UPDATE records SET state = :e WHERE state = :p AND publicity_max_end < :d"),
            {"e": EXPIRED, "p": PUBLISHED, "d": as_of},
        ).rowcount
        took = time.perf_counter() - start
        tx.rollback()
    return took, n


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--pg", help="PostgreSQL URL (a fresh schema is made and dropped)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections of wrk")
    parser.add_argument("--seconds", type=int, default=15, help="seconds per measured figure")
    parser.add_argument("--report-runs", type=int, default=10)
    parser.add_argument(
        "--keep",
        help="keep the database (SQLite: in this folder; PostgreSQL: this schema) and reuse it "
        "when it is already loaded (same --subjects and --records)",
    )
    parser.add_argument("--no-daily", action="store_true", help="skip the `xinyong daily` runs")
    parser.add_argument(
        "--resume", action="store_true", help="a kept database loaded part-way: load the rest"
    )
    parser.add_argument(
        "--copy-subjects",
        help="a SQLite database this script kept: copy its subjects instead of generating them",
    )
    parser.add_argument(
        "--only",
        help="measure only the figures whose label contains this, or any of several given "
        "comma-separated (and /health)",
    )
    parser.add_argument("--load-only", action="store_true", help="build the database and stop")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # internal: the server process
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed (apt-get install -y wrk)")

    work = Path(tempfile.mkdtemp(prefix="xinyong-query-"))
    catalog = load_catalog(ROOT / "catalog")
    t0 = time.perf_counter()
    templates = load_templates(work)
    print(
        f"templates: {sum(map(len, templates.values())):,} records stored by the real "
        f"ingestion of the sample, in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )

    admin: Engine | None = None
    schema = args.keep or f"bench_{uuid.uuid4().hex[:8]}"
    if args.pg:
        admin = create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as c:
            c.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        sep = "&" if "?" in args.pg else "?"
        url = f"{args.pg}{sep}options=-csearch_path%3D{schema}"
        where = "PostgreSQL"
    else:
        folder = Path(args.keep) if args.keep else work
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / 'query.db'}"
        where = "SQLite"
    engine = make_engine(Settings(database_url=url))
    server: subprocess.Popen[bytes] | None = None
    try:
        upgrade_schema(engine)
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT count(*) FROM subjects")).scalar_one() > 0
        t0 = time.perf_counter()
        if kept:
            orgs, persons, world = stored_subjects(engine)
        elif args.copy_subjects:
            copy_subjects(engine, Path(args.copy_subjects))
            orgs, persons, world = stored_subjects(engine)
            print(f"subjects copied from {args.copy_subjects}: {len(orgs) + len(persons):,}")
        else:
            load_subjects(engine, args.subjects)
            orgs, persons, world = stored_subjects(engine)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT coalesce(max(id), 0) FROM records")).scalar_one()
        if kept and stored < args.records and args.resume:
            # a load that stopped part-way: on from the last committed chunk
            t2 = time.perf_counter()
            load_records(engine, catalog, templates, orgs, persons, args.records, stored + 1)
            print(f"records loaded from {stored + 1:,} in {time.perf_counter() - t2:.0f} s")
        if kept and args.pg and args.resume:
            finish_pg_load(engine)
        if kept:
            print(f"reusing the kept database ({where}, {args.keep}, {stored:,} records)")
        else:
            t1 = time.perf_counter()
            print(f"subjects ready: {len(orgs) + len(persons):,} in {t1 - t0:.0f} s", flush=True)
            per_dataset = load_records(engine, catalog, templates, orgs, persons, args.records)
            t2 = time.perf_counter()
            print(f"records loaded: {args.records:,} in {t2 - t1:.0f} s (set-based SQL)")
            print(
                "  by dataset: " + ", ".join(f"{k} {v:,}" for k, v in sorted(per_dataset.items()))
            )
            if args.pg:
                finish_pg_load(engine)
                print(f"  VACUUM ANALYZE in {time.perf_counter() - t2:.0f} s")
        with engine.connect() as conn:
            published = conn.execute(
                text("SELECT count(*) FROM records WHERE state = :p"), {"p": PUBLISHED}
            ).scalar_one()
        print(f"  published now: {published:,}; the rest are past their end (期满停止公示)")

        if args.load_only:
            return
        # the subject of the report: an organisation with about 50 records
        with engine.connect() as conn:
            report_id, subject_records = conn.execute(
                text(
                    "SELECT subject_id, count(*) FROM records WHERE subject_id <= :n"
                    " GROUP BY subject_id HAVING count(*) BETWEEN 40 AND 60 LIMIT 1"
                ),
                {"n": len(orgs)},
            ).one()
            list_paths = list_page_paths(conn, random.Random(3))

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "XINYONG_RATE_LIMIT_SEARCH_PER_MINUTE": "0",
            "XINYONG_RATE_LIMIT_LIST_PER_MINUTE": "0",
            "XINYONG_RATE_LIMIT_REPORT_PER_MINUTE": "0",
        }
        server = subprocess.Popen([PYTHON, __file__, "--serve", url, "--port", str(port)], env=env)
        wait_up(base, server)
        print(
            f"server: uvicorn, 1 worker (pid {server.pid}) on {base}; {where}; "
            f"wrk -t1 -c{args.clients}, {args.seconds} s per figure",
            flush=True,
        )
        rng = random.Random(7)
        org_ids = [rng.choice(orgs).id for _ in range(20_000)]
        plans: list[tuple[str, list[str], str]] = [
            ("raw limit: GET /health", ["/api/v1/health"], ""),
            ("profile /subjects/{id}", [f"/api/v1/subjects/{i}" for i in org_ids], "50"),
            ("records page", [f"/api/v1/subjects/{i}/records" for i in org_ids], ""),
            *list_paths,
        ]
        for label, lo, hi, target in (
            ("search, 2 characters", 2, 2, ""),
            ("search, 3 characters", 3, 3, "100"),
            ("search, 4-8 characters", 4, 8, "100"),
        ):
            frags = fragments(world, rng, 3000, lo, hi)
            plans.append((label, [f"/api/v1/subjects?q={quote(f)}" for f in frags], target))
        if args.only:
            wanted = [w for w in args.only.split(",") if w]
            plans = [p for p in plans if p is plans[0] or any(w in p[0] for w in wanted)]
        # warm-up: the caches a running server would have
        drive(base, "warm-up", plans[1][1][-2000:], args.clients, 5, work)
        loads = []
        for label, paths, target in plans:
            load = drive(base, label, paths, args.clients, args.seconds, work)
            loads.append((load, target))
            print(f"  measured {label}: {load.rps:,.0f} req/s", flush=True)
        reports, pdf_size = (
            report_times(base, report_id, args.report_runs) if not args.only else ([0.0], 0)
        )
        server.terminate()
        server.wait(30)
        server = None

        # steady state: the run of tomorrow morning (what ends today); then a backlog of a year
        tomorrow = TODAY + timedelta(days=1)
        as_of = TODAY + timedelta(days=365)
        if not (args.no_daily or args.only):
            day_s, day = daily(url, tomorrow)
            raw_s, raw_n = raw_expiry(engine, as_of)
            first_s, first = daily(url, as_of)
            second_s, second = daily(url, as_of)

        health = loads[0][0]
        print()
        print(
            f"{where}: {len(orgs) + len(persons):,} subjects, {args.records:,} records; "
            f"{args.clients} clients, {args.seconds} s each"
        )
        print(
            f"{'':30}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
            f"{'non-2xx':>9}{'vs raw':>8}   target"
        )
        for load, target in loads:
            ratio = load.rps / health.rps
            goal = f"p99 < {target} ms" if target else ""
            if load.label.startswith("profile"):
                goal += ", ratio >= 0.5"
            print(
                f"{load.label:30}{load.rps:9,.0f}{load.p50:9.1f}{load.p99:9.1f}{load.max:9.1f}"
                f"{load.non2xx:9,}{ratio:8.2f}   {goal}"
            )
        if args.only:
            return
        print(
            f"{'report (POST + PDF)':30}  median {statistics.median(reports):6.0f} ms, "
            f"p90 {pct(reports, 0.9):6.0f} ms, max {max(reports):6.0f} ms over {len(reports)} "
            f"runs; {subject_records} records, PDF {pdf_size / 1024:,.0f} KiB   target < 500 ms"
        )
        if args.no_daily:
            return
        print(
            f"{'daily --as-of ' + tomorrow.isoformat():30}  {day_s:6.1f} s, expired "
            f"{day['steps']['publicity.expiry']['expired']:,} (one day's due)   target < 30 s"
        )
        expired = first["steps"]["publicity.expiry"]["expired"]
        again = second["steps"]["publicity.expiry"]["expired"]
        print(
            f"{'daily --as-of ' + as_of.isoformat():30}  {first_s:6.1f} s, expired "
            f"{expired:,} (second run {second_s:.1f} s, expired {again:,})   target < 30 s"
        )
        print(
            f"{'raw limit: one UPDATE':30}  {raw_s:6.1f} s for {raw_n:,} rows; "
            f"ratio raw / ours {raw_s / first_s:.2f} (ours includes process start)"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        engine.dispose()
        if admin is not None:
            if args.keep:
                print(f"kept schema {schema}")
            else:
                with admin.begin() as c:
                    c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
        # the work folder holds the scratch files (and the SQLite database unless --keep)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
