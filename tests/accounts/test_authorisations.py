"""Written authorisations (信用信息查询授权): grant, use, expiry, revoke, scope, scans, the
command line; on every test database.

The bundled catalogue has no 授权查询 dataset yet, so these tests use a copy in which two
datasets are 授权查询: GZRY (公职人员诚信档案) and NSXY (纳税信用).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fixtures.cli import reset_cli
from fixtures.clock import TEST_START
from fixtures.deliveries import ENV, LI, SAMR, WANG, XINYUAN, make_id
from sqlalchemy import Connection, Engine, func, insert, select
from typer.testing import CliRunner, Result

from xinyong.accounts import authorisations as auth
from xinyong.accounts.models import authorisations
from xinyong.accounts.roles import Principal, Role
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
from xinyong.catalog.schema import Disclosure
from xinyong.cli import app
from xinyong.disclosure.view import Access, access_to
from xinyong.errors import XinyongError
from xinyong.notifications import inbox
from xinyong.settings import Settings
from xinyong.subjects.models import subjects

NOW = TEST_START  # the test clock's start: authorisations are read against it
YEAR = timedelta(days=365)
PURPOSE = "办理公务员录用政审"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64

ORG = "11410900PY0000145M"  # 中共濮阳市委组织部, submits GZRY


@pytest.fixture(scope="module")
def authorised_catalog(catalog: Catalog) -> Catalog:
    datasets = dict(catalog.datasets)
    for code in ("GZRY", "NSXY"):
        datasets[code] = datasets[code].model_copy(update={"disclosure": Disclosure.AUTHORISED})
    return dataclasses.replace(catalog, datasets=datasets)


@pytest.fixture
def store(settings: Settings, tmp_path: Path) -> Settings:
    """Settings whose data_dir is this test's own folder."""
    return settings.model_copy(update={"data_dir": tmp_path / "data"})


def _subject(conn: Connection, name: str, **codes: str) -> int:
    person = "id_number" in codes
    new_id = conn.scalar(
        insert(subjects)
        .values(
            category="自然人" if person else "法人及非法人组织",
            database="自然人" if person else "法人",
            name=name,
            name_norm=name,
            created_at=NOW,
            updated_at=NOW,
            **codes,
        )
        .returning(subjects.c.id)
    )
    assert new_id is not None
    return int(new_id)


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    with engine.begin() as conn:
        return {
            "wang": _subject(conn, WANG.name, id_number=WANG.id_number),
            "li": _subject(conn, LI.name, id_number=LI.id_number),
            "xinyuan": _subject(conn, XINYUAN.name, uscc=XINYUAN.uscc),
        }


def _self(subject_id: int) -> Principal:
    return Principal(role=Role.SUBJECT, name=f"subject{subject_id}", subject_id=subject_id)


def _clerk(dept: str = ORG, name: str = "org.clerk") -> Principal:
    return Principal(role=Role.CLERK, name=name, dept_uscc=dept, source="10.0.0.8")


OPERATOR = Principal.cli("tester@host")
SECOND_OPERATOR = Principal(role=Role.OPERATOR, name="zhao.operator", account_id=7)


def _grant(conn: Connection, cat: Catalog, subject_id: int, **kw: Any) -> auth.Authorisation:
    args: dict[str, Any] = {
        "catalog": cat,
        "subject_id": subject_id,
        "dept_uscc": ORG,
        "purpose": PURPOSE,
        "valid_from": NOW - timedelta(days=1),
        "valid_until": NOW + timedelta(days=90),
        "now": NOW,
    }
    args.update(kw)
    principal = args.pop("principal", _self(subject_id))
    return auth.grant_online(conn, principal, **args)


def _paper(
    conn: Connection, cat: Catalog, store: Settings, subject_id: int, **kw: Any
) -> auth.Authorisation:
    args: dict[str, Any] = {
        "catalog": cat,
        "settings": store,
        "subject_id": subject_id,
        "dept_uscc": ORG,
        "purpose": PURPOSE,
        "valid_from": NOW - timedelta(days=1),
        "valid_until": NOW + timedelta(days=90),
        "scan": PDF,
        "scan_name": "王建国授权书.pdf",
        "now": NOW,
    }
    args.update(kw)
    principal = args.pop("principal", _clerk())
    confirmed = args.pop("confirmed", True)
    recorded = auth.record_paper(conn, principal, notify=inbox.tell_subject, **args)
    if not confirmed:
        return recorded
    # the second person: an operator other than the recorder
    return auth.confirm(conn, SECOND_OPERATOR, recorded.id, notify=inbox.tell_subject, now=NOW)


def _refused(code: str, fn: Any, *args: Any, **kw: Any) -> XinyongError:
    with pytest.raises(XinyongError) as caught:
        fn(*args, **kw)
    assert caught.value.code == code, caught.value.message
    return caught.value


def _checks(conn: Connection, subject_id: int, **kw: Any) -> bool:
    args: dict[str, Any] = {
        "subject_id": subject_id,
        "dept_uscc": ORG,
        "purpose": PURPOSE,
        "dataset": "GZRY",
        "at": NOW,
    }
    args.update(kw)
    return auth.is_authorised(conn, **args)


def _events(conn: Connection, action: str) -> list[audit.AuditEvent]:
    return audit.search(conn, action=action)


def _stored_files(store: Settings) -> list[Path]:
    folder = auth.scan_dir(store)
    return sorted(folder.iterdir()) if folder.exists() else []


# -- granting and using ------------------------------------------------------------------------


def test_a_subject_grants_online_and_the_department_may_query(
    engine: Engine, authorised_catalog: Catalog, people: dict[str, int]
) -> None:
    wang = people["wang"]
    with engine.begin() as conn:
        granted = _grant(conn, authorised_catalog, wang, purpose="  办理公务员录用政审 ")
    assert granted.channel == "online" and granted.datasets is None
    assert granted.purpose == PURPOSE  # whitespace-normalised
    with engine.begin() as conn:
        assert _checks(conn, wang)
        assert _checks(conn, wang, dataset="NSXY")  # no scope: every 授权查询 dataset
        assert _checks(conn, wang, purpose="办理公务员录用政审")
        assert not _checks(conn, wang, purpose="招标投标资格审查")  # another purpose
        assert not _checks(conn, wang, dept_uscc=SAMR.uscc)  # another department
        assert not _checks(conn, people["li"])  # another subject
        [event] = _events(conn, "authorisation.grant")
    assert (event.actor, event.role, event.subject_id) == (f"subject{wang}", "subject", wang)
    assert event.purpose == PURPOSE
    assert event.detail["requester"] == ORG and event.detail["channel"] == "online"


def test_an_authorisation_holds_only_within_its_validity(
    engine: Engine, authorised_catalog: Catalog, people: dict[str, int]
) -> None:
    wang = people["wang"]
    start, end = NOW + timedelta(days=2), NOW + timedelta(days=32)
    with engine.begin() as conn:
        _grant(conn, authorised_catalog, wang, valid_from=start, valid_until=end)
    with engine.begin() as conn:
        assert not _checks(conn, wang, at=NOW)  # not yet
        assert _checks(conn, wang, at=start)
        assert _checks(conn, wang, at=end - timedelta(seconds=1))
        assert not _checks(conn, wang, at=end)  # expired
        assert not _checks(conn, wang, at=end + timedelta(days=1))
        active = auth.list_authorisations(conn, OPERATOR, active_at=end)
    assert active == []


def test_the_scope_limits_the_datasets(
    engine: Engine, authorised_catalog: Catalog, people: dict[str, int]
) -> None:
    wang = people["wang"]
    with engine.begin() as conn:
        granted = _grant(conn, authorised_catalog, wang, datasets=["gzry"])
    assert granted.datasets == ("GZRY",)
    clerk = _clerk()
    with engine.begin() as conn:
        assert _checks(conn, wang, dataset="GZRY")
        assert not _checks(conn, wang, dataset="NSXY")
        held = auth.authorised_datasets(conn, clerk, wang, PURPOSE, NOW, catalog=authorised_catalog)
        assert held == frozenset({"GZRY"})
        # Roles without a department hold no authorisation; no purpose, nothing.
        assert not auth.authorised_datasets(
            conn, OPERATOR, wang, PURPOSE, NOW, catalog=authorised_catalog
        )
        assert not auth.authorised_datasets(
            conn, clerk, wang, None, NOW, catalog=authorised_catalog
        )
    # What the disclosure engine makes of it.
    subject = {"id": wang, "category": "自然人"}
    gzry, nsxy = authorised_catalog.dataset("GZRY"), authorised_catalog.dataset("NSXY")
    assert access_to(clerk, gzry, subject, authorised="GZRY" in held) is Access.FULL
    assert access_to(clerk, nsxy, subject, authorised="NSXY" in held) is Access.NONE


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"valid_until": NOW - timedelta(days=3)}, "AUTHORISATION_INVALID"),  # until < from
        (
            {"valid_from": NOW - timedelta(days=10), "valid_until": NOW - timedelta(days=2)},
            "AUTHORISATION_INVALID",
        ),  # already over
        ({"valid_until": NOW + YEAR + timedelta(days=5)}, "AUTHORISATION_INVALID"),  # > 1 year
        ({"purpose": "   "}, "AUTHORISATION_INVALID"),
        ({"purpose": "查" * 201}, "AUTHORISATION_INVALID"),
        ({"dept_uscc": "91410902MA0000000X"}, "DEPT_UNKNOWN"),
        ({"datasets": ["XZCF"]}, "AUTHORISATION_INVALID"),  # 公开公示: needs no authorisation
        ({"datasets": ["NOPE"]}, "DATASET_UNKNOWN"),
        ({"datasets": []}, "AUTHORISATION_INVALID"),
    ],
)
def test_bad_grants_are_refused_and_nothing_is_stored(
    engine: Engine,
    authorised_catalog: Catalog,
    people: dict[str, int],
    changes: dict[str, Any],
    code: str,
) -> None:
    with engine.connect() as conn, conn.begin():
        _refused(code, _grant, conn, authorised_catalog, people["wang"], **changes)
    with engine.begin() as conn:
        assert conn.scalar(select(func.count()).select_from(authorisations)) == 0


def test_a_subject_cannot_grant_for_another_subject(
    engine: Engine, authorised_catalog: Catalog, people: dict[str, int]
) -> None:
    wang, li = people["wang"], people["li"]
    with engine.begin() as conn:
        _refused(
            "AUTHORISATION_NOT_OWN",
            _grant,
            conn,
            authorised_catalog,
            li,
            principal=_self(wang),
        )
        # Nor can a department authorise itself online.
        _refused("AUTHORISATION_NOT_OWN", _grant, conn, authorised_catalog, li, principal=_clerk())
        assert conn.scalar(select(func.count()).select_from(authorisations)) == 0


# -- paper authorisations ----------------------------------------------------------------------


def test_a_clerk_records_a_paper_authorisation_with_its_scan(
    engine: Engine, authorised_catalog: Catalog, people: dict[str, int], store: Settings
) -> None:
    wang = people["wang"]
    with engine.begin() as conn:
        recorded = _paper(conn, authorised_catalog, store, wang, datasets=["GZRY"], confirmed=False)
    assert recorded.channel == "paper" and recorded.scan_type == "pdf"
    assert recorded.scan_sha256 == hashlib.sha256(PDF).hexdigest()
    assert recorded.scan_name == "王建国授权书.pdf" and recorded.scan_size == len(PDF)
    assert recorded.provisional and recorded.state_at(NOW) == "待确认"
    [stored] = _stored_files(store)
    # A random name: nothing the sender chose reaches the file system.
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", stored.name)
    assert stored.read_bytes() == PDF
    with engine.begin() as conn:
        assert not _checks(conn, wang)  # provisional: it opens nothing yet
        data, content_type, _ = auth.read_scan(conn, _self(wang), store, recorded.id)
        [event] = _events(conn, "authorisation.record")
        [told] = inbox.messages(conn, subject_id=wang, dept_uscc=None)
    assert (data, content_type) == (PDF, "application/pdf")
    assert (event.actor, event.dept_uscc) == ("org.clerk", ORG)
    assert event.detail["scan_sha256"] == recorded.scan_sha256
    assert event.detail["provisional"] is True
    assert "待确认" in told.title and told.link == "/me#authorisations"


def test_a_paper_authorisation_needs_a_second_person(
    engine: Engine, authorised_catalog: Catalog, people: dict[str, int], store: Settings
) -> None:
    """Provisional until an operator other than the recorder, or the subject itself, confirms
    it; the subject is told either way; every confirmation is an audit event."""
    wang, li = people["wang"], people["li"]
    with engine.begin() as conn:
        by_operator = _paper(conn, authorised_catalog, store, wang, confirmed=False)
        by_self = _paper(conn, authorised_catalog, store, li, principal=OPERATOR, confirmed=False)
    with engine.begin() as conn:
        for who, code in (
            (_clerk(), "AUTHORISATION_NOT_ALLOWED"),  # the recording side cannot vouch
            (_self(li), "AUTHORISATION_NOT_FOUND"),  # another subject's: not there
        ):
            _refused(code, auth.confirm, conn, who, by_operator.id, notify=inbox.tell_subject)
        # the operator who recorded it is not a second person
        _refused(
            "AUTHORISATION_SAME_PERSON",
            auth.confirm,
            conn,
            OPERATOR,
            by_self.id,
            notify=inbox.tell_subject,
        )
    with engine.begin() as conn:
        confirmed = auth.confirm(
            conn, SECOND_OPERATOR, by_operator.id, notify=inbox.tell_subject, now=NOW
        )
        accepted = auth.confirm(conn, _self(li), by_self.id, notify=inbox.tell_subject, now=NOW)
        assert _checks(conn, wang) and _checks(conn, li)
        _refused(
            "AUTHORISATION_CONFIRMED",
            auth.confirm,
            conn,
            SECOND_OPERATOR,
            by_operator.id,
            notify=inbox.tell_subject,
        )
        events = _events(conn, "authorisation.confirm")
        titles = [m.title for m in inbox.messages(conn, subject_id=wang, dept_uscc=None)]
    assert (confirmed.confirmed_by, confirmed.confirmed_role) == ("zhao.operator", "operator")
    assert (accepted.confirmed_by, accepted.confirmed_role) == (f"subject{li}", "subject")
    assert sorted(e.actor for e in events) == sorted(["zhao.operator", f"subject{li}"])
    assert titles == ["书面查询授权已确认生效", "有单位登记了您的书面查询授权（待确认）"]


@pytest.mark.parametrize(("scan", "kind"), [(PNG, "png"), (JPEG, "jpeg")])
def test_an_operator_records_image_scans(
    engine: Engine,
    authorised_catalog: Catalog,
    people: dict[str, int],
    store: Settings,
    scan: bytes,
    kind: str,
) -> None:
    with engine.begin() as conn:
        recorded = _paper(
            conn, authorised_catalog, store, people["li"], scan=scan, principal=OPERATOR
        )
    assert recorded.scan_type == kind
    assert [p.suffix for p in _stored_files(store)] == [".png" if kind == "png" else ".jpg"]


def test_a_clerk_cannot_record_for_another_department(
    engine: Engine, authorised_catalog: Catalog, people: dict[str, int], store: Settings
) -> None:
    samr_clerk = _clerk(SAMR.uscc, "samr.clerk")
    with engine.begin() as conn:
        _refused(
            "AUTHORISATION_OTHER_DEPT",
            _paper,
            conn,
            authorised_catalog,
            store,
            people["wang"],
            principal=samr_clerk,
        )
        for principal in (_self(people["wang"]), Principal(role=Role.AUDITOR, name="auditor")):
            _refused(
                "AUTHORISATION_NOT_ALLOWED",
                _paper,
                conn,
                authorised_catalog,
                store,
                people["wang"],
                principal=principal,
            )
        assert conn.scalar(select(func.count()).select_from(authorisations)) == 0
    assert _stored_files(store) == []


@pytest.mark.parametrize(
    "scan",
    [
        b"",
        "这是一份授权书".encode(),  # text named .pdf
        b"PK\x03\x04" + b"\x00" * 40,  # a Word document (ZIP)
        b"GIF89a" + b"\x00" * 40,
        b"%PDF-1.7\n" + b"0" * auth.MAX_SCAN_BYTES,  # one byte too many
    ],
    ids=["empty", "text", "docx", "gif", "too-big"],
)
def test_bad_scans_are_refused_and_nothing_is_written(
    engine: Engine,
    authorised_catalog: Catalog,
    people: dict[str, int],
    store: Settings,
    scan: bytes,
) -> None:
    with engine.begin() as conn:
        error = _refused(
            "SCAN_REFUSED", _paper, conn, authorised_catalog, store, people["wang"], scan=scan
        )
        assert conn.scalar(select(func.count()).select_from(authorisations)) == 0
        assert _events(conn, "authorisation.record") == []
    assert "扫描件" in error.message
    assert _stored_files(store) == []


def test_a_replaced_scan_is_caught(
    engine: Engine, authorised_catalog: Catalog, people: dict[str, int], store: Settings
) -> None:
    with engine.begin() as conn:
        recorded = _paper(conn, authorised_catalog, store, people["wang"])
    [stored] = _stored_files(store)
    stored.write_bytes(PDF.replace(b"1.4", b"1.5"))
    with engine.begin() as conn:
        _refused("SCAN_ALTERED", auth.read_scan, conn, OPERATOR, store, recorded.id)
        # Others' scans are not for everyone.
        _refused(
            "AUTHORISATION_NOT_ALLOWED",
            auth.read_scan,
            conn,
            _self(people["li"]),
            store,
            recorded.id,
        )


# -- revoking ----------------------------------------------------------------------------------


def test_the_subject_revokes_and_later_queries_are_not_authorised(
    engine: Engine, authorised_catalog: Catalog, people: dict[str, int]
) -> None:
    wang = people["wang"]
    with engine.begin() as conn:
        granted = _grant(conn, authorised_catalog, wang)
    revoked_at = NOW + timedelta(hours=1)
    with engine.begin() as conn:
        revoked = auth.revoke(conn, _self(wang), granted.id, " 已录用完毕 ", now=revoked_at)
    assert revoked.revoked_at == revoked_at and revoked.revoke_reason == "已录用完毕"
    with engine.begin() as conn:
        assert _checks(conn, wang, at=NOW)  # queries before the revocation stay explained
        assert not _checks(conn, wang, at=revoked_at)
        assert not _checks(conn, wang, at=revoked_at + timedelta(days=1))
        [event] = _events(conn, "authorisation.revoke")
        assert event.detail["reason"] == "已录用完毕"
        _refused("AUTHORISATION_REVOKED", auth.revoke, conn, _self(wang), granted.id, "再撤销")


def test_who_may_revoke(
    engine: Engine, authorised_catalog: Catalog, people: dict[str, int], store: Settings
) -> None:
    wang, li = people["wang"], people["li"]
    with engine.begin() as conn:
        first = _paper(conn, authorised_catalog, store, wang)
        second = _grant(conn, authorised_catalog, li)
    with engine.begin() as conn:
        for outsider in (_self(li), _clerk(SAMR.uscc, "samr.clerk")):
            _refused("AUTHORISATION_NOT_ALLOWED", auth.revoke, conn, outsider, first.id, "越权")
        _refused("AUTHORISATION_INVALID", auth.revoke, conn, _self(wang), first.id, "  ")
        _refused("AUTHORISATION_NOT_FOUND", auth.revoke, conn, OPERATOR, 999, "不存在")
        assert auth.revoke(conn, _clerk(), first.id, "政审结束").revoked_by == "org.clerk"
        assert auth.revoke(conn, OPERATOR, second.id, "主体来电要求").revoked_by == OPERATOR.name


# -- refusing and listing ----------------------------------------------------------------------


def test_a_query_without_authorisation_is_refused_and_audited(
    engine: Engine, authorised_catalog: Catalog, people: dict[str, int]
) -> None:
    wang = people["wang"]
    with engine.begin() as conn:
        _grant(conn, authorised_catalog, wang, datasets=["GZRY"])
    clerk = _clerk()
    with engine.connect() as conn:
        tx = conn.begin()
        held = auth.require_authorisation(
            conn,
            clerk,
            catalog=authorised_catalog,
            subject_id=wang,
            purpose=PURPOSE,
            datasets=["GZRY", "XZCF"],  # XZCF is public: no authorisation needed
        )
        assert held == frozenset({"GZRY"})
        with pytest.raises(auth.AuthorisationRequired) as caught:
            auth.require_authorisation(
                conn, clerk, catalog=authorised_catalog, subject_id=wang, purpose=PURPOSE
            )
        tx.rollback()  # the refused request rolls back ...
    assert caught.value.missing == ("NSDJ", "NSXY")  # NSDJ is 授权查询 in the catalogue itself
    auth.audit_denial(engine, caught.value)  # ... and its refusal is written on its own
    with engine.begin() as conn:
        [event] = _events(conn, "access.denied")
        # the subject itself needs no authorisation
        assert auth.require_authorisation(
            conn, _self(wang), catalog=authorised_catalog, subject_id=wang, purpose=None
        ) == frozenset({"GZRY", "NSDJ", "NSXY"})
        assert audit.verify(conn).ok
    assert (event.outcome, event.subject_id, event.purpose) == ("denied", wang, PURPOSE)
    assert (event.actor, event.dept_uscc) == ("org.clerk", ORG)
    assert event.detail == {"code": "AUTHORISATION_REQUIRED", "datasets": ["NSDJ", "NSXY"]}


def test_each_sees_only_its_own_authorisations(
    engine: Engine, authorised_catalog: Catalog, people: dict[str, int], store: Settings
) -> None:
    wang, li = people["wang"], people["li"]
    with engine.begin() as conn:
        a = _grant(conn, authorised_catalog, wang)
        b = _grant(conn, authorised_catalog, li, dept_uscc=ENV.uscc)
        c = _paper(conn, authorised_catalog, store, li)

    def ids(principal: Principal, **kw: Any) -> list[int]:
        with engine.begin() as conn:
            return [x.id for x in auth.list_authorisations(conn, principal, **kw)]

    assert ids(_self(wang)) == [a.id]
    assert ids(_self(li)) == [c.id, b.id]
    assert ids(_self(wang), subject_id=li) == []  # a filter never widens
    assert ids(_clerk()) == [c.id, a.id]
    assert ids(_clerk(ENV.uscc, "env.clerk")) == [b.id]
    assert ids(OPERATOR) == [c.id, b.id, a.id]
    assert ids(Principal(role=Role.AUDITOR, name="auditor"), subject_id=li) == [c.id, b.id]
    with engine.begin() as conn:
        _refused(
            "AUTHORISATION_NOT_ALLOWED",
            auth.list_authorisations,
            conn,
            Principal.public("10.0.0.1"),
        )


# -- the command line --------------------------------------------------------------------------


@pytest.fixture
def cli_store(
    cli: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> Iterator[Path]:
    """The command line with a catalogue in which GZRY and NSXY are 授权查询, and its own
    data folder."""
    catalog_dir = tmp_path / "catalog"
    shutil.copytree(Path(__file__).resolve().parents[2] / "catalog", catalog_dir)
    for code in ("GZRY", "NSXY"):
        path = catalog_dir / "datasets" / f"{code}.yaml"
        path.write_text(
            path.read_text(encoding="utf-8").replace(
                "disclosure: 政务共享", "disclosure: 授权查询"
            ),
            encoding="utf-8",
        )
    monkeypatch.setenv("XINYONG_CATALOG_DIR", str(catalog_dir))
    monkeypatch.setenv("XINYONG_DATA_DIR", str(tmp_path / "data"))
    reset_cli()
    yield tmp_path / "data" / auth.SCAN_DIR
    reset_cli()


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, ["authorisations", *args])


def test_the_command_line_records_lists_and_revokes(
    cli_store: Path, engine: Engine, people: dict[str, int], tmp_path: Path
) -> None:
    scan = tmp_path / "授权书.png"
    scan.write_bytes(PNG)
    start = TEST_START.date()
    until = (start + timedelta(days=180)).isoformat()
    result = _run(
        "record", WANG.id_number, "--dept", ORG, "--purpose", PURPOSE,
        "--from", start.isoformat(), "--until", until, "--scan", str(scan),
        "--datasets", "GZRY", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    recorded = json.loads(result.stdout)
    assert recorded["channel"] == "paper" and recorded["datasets"] == ["GZRY"]
    assert recorded["created_by"].startswith("cli:")
    assert [p.suffix for p in cli_store.iterdir()] == [".png"]
    assert json.loads(_run("list", "--active", "--json").stdout) == []  # provisional
    own = _run("confirm", str(recorded["id"]), "--json")
    assert own.exit_code == 1
    assert json.loads(own.stdout)["error"]["code"] == "AUTHORISATION_SAME_PERSON"
    with engine.begin() as conn:
        auth.confirm(conn, SECOND_OPERATOR, recorded["id"], notify=inbox.tell_subject)

    listed = _run("list", "--subject", WANG.id_number, "--active", "--json")
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert (row["id"], row["subject_name"]) == (recorded["id"], WANG.name)
    table = _run("list")
    assert table.exit_code == 0 and "查询授权（1 份）" in table.stdout

    revoked = _run("revoke", str(recorded["id"]), "--reason", "主体书面申请撤销")
    assert revoked.exit_code == 0, revoked.output
    assert "已于" in revoked.stdout
    again = _run("revoke", str(recorded["id"]), "--reason", "再次撤销", "--json")
    assert again.exit_code == 1
    assert json.loads(again.stdout)["error"]["code"] == "AUTHORISATION_REVOKED"
    assert json.loads(_run("list", "--active", "--json").stdout) == []
    with engine.begin() as conn:
        actions = [e.action for e in audit.search(conn)]
        outcomes = [e.outcome for e in audit.search(conn)]
    assert actions == [
        "authorisation.revoke",
        "authorisation.revoke",
        "authorisation.confirm",
        "authorisation.confirm",
        "authorisation.record",
    ]
    assert outcomes == ["denied", "ok", "ok", "denied", "ok"]


def test_the_command_line_refuses_bad_input(
    cli_store: Path, engine: Engine, people: dict[str, int], tmp_path: Path
) -> None:
    text = tmp_path / "授权书.pdf"
    text.write_text("不是扫描件", encoding="utf-8")
    today = TEST_START.date()
    base = ["--dept", ORG, "--purpose", PURPOSE, "--from", today.isoformat()]
    until = ["--until", (today + timedelta(days=30)).isoformat()]
    bad_scan = _run("record", WANG.id_number, *base, *until, "--scan", str(text), "--json")
    assert bad_scan.exit_code == 2
    assert json.loads(bad_scan.stdout)["error"]["code"] == "SCAN_REFUSED"
    too_long = ["--until", (today + timedelta(days=400)).isoformat()]
    long_result = _run("record", WANG.id_number, *base, *too_long, "--scan", str(text), "--json")
    assert long_result.exit_code == 2
    assert json.loads(long_result.stdout)["error"]["code"] == "AUTHORISATION_INVALID"
    bad_date = _run("record", WANG.id_number, *base, "--until", "2026-13-01", "--scan", str(text))
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output
    stranger = make_id("410902", date(1990, 1, 1), 33)
    missing = _run("record", stranger, *base, *until, "--scan", str(text), "--json")
    assert missing.exit_code == 1
    assert json.loads(missing.stdout)["error"]["code"] == "SUBJECT_NOT_FOUND"
    assert not cli_store.exists() or list(cli_store.iterdir()) == []
    with engine.begin() as conn:
        assert conn.scalar(select(func.count()).select_from(authorisations)) == 0
        # the refused scan is an audit event of its own
        refused = [e for e in audit.search(conn) if e.action == "authorisation.record"]
    assert refused and all(e.outcome == "denied" for e in refused)
