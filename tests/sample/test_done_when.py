"""Issue 10's "Done when", end to end on the demo data (``sample generate`` + ``sample load``),
on both databases, as the demo holds it before and after ``xinyong daily``:

- no expired record is public or triggers anything, on any of several days, with or without
  daily;
- an entry designated by 统计局 returns no wage-arrears measure;
- no check returns a reward beside a punishment (the conflict rules withhold it);
- no natural person is on a public list the disclosure rules keep persons off;
- a listed company's 法定代表人 is checked with the company and the list named;
- resending a delivery's rejects file and then the delivery itself changes nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from xinyong.accounts.roles import Principal, Role
from xinyong.batches.models import batches
from xinyong.batches.service import export_rejects
from xinyong.catalog.loader import Catalog
from xinyong.checks.models import check_hits
from xinyong.checks.service import run_bulk_check, run_check
from xinyong.disclosure.state_rules import state_rules
from xinyong.disclosure.view import PERSON_PUBLIC_DATASETS
from xinyong.ingest.service import IngestRequest, ingest
from xinyong.jobs import run_daily
from xinyong.lists.models import list_entries, list_entry_persons
from xinyong.measures.catalog import Kind, Measures, load_measures, measures_dir
from xinyong.portal.service import ListPaging, publicity_list, red_black_list
from xinyong.records.models import record_versions, records
from xinyong.sample.files import generate
from xinyong.subjects.models import subjects
from xinyong.subjects.refs import PERSON

TODAY = date(2026, 12, 7)  # the tests' clock (tests/fixtures/clock.py)
DAYS = (TODAY, date(2027, 6, 30), date(2028, 3, 2), date(2029, 12, 31))
DAILY_ON = date(2028, 3, 2)
CHECKER = Principal(role=Role.CLERK, name="env-clerk", dept_uscc="11410900PY00000577")
PENALTIES = "行政处罚_市场监管局_GBK.csv"


def _load(engine: Engine, catalog: Catalog, folder: Path) -> None:
    for d in generate(folder, catalog, seed=2016):
        with engine.begin() as conn:
            receipt = ingest(
                conn,
                catalog,
                IngestRequest(path=folder / d.file, dataset=d.dataset, dept_uscc=d.dept, actor="t"),
            )
        assert receipt.received == d.rows, d.file


def _public_items(conn: Connection, catalog: Catalog, on: date) -> list[dict[str, Any]]:
    """Every item of the public lists (双公示 and 红黑榜, all pages) as answered for ``on``."""
    out: list[dict[str, Any]] = []
    for list_of, kinds in ((publicity_list, ("xzcf", "xzxk")), (red_black_list, ("red", "black"))):
        for kind in kinds:
            after: str | None = None
            while True:
                found = list_of(conn, catalog, kind, paging=ListPaging(100, after=after), as_of=on)
                out += found["items"]
                after = found["next"]
                if after is None:
                    break
    return out


def _ended_before(conn: Connection, ids: set[int], on: date) -> list[int]:
    """Of the records ``ids``, those past their last day of publicity or list validity."""
    out: list[int] = []
    rows = conn.execute(
        select(records.c.id, records.c.publicity_max_end, list_entries.c.valid_until)
        .select_from(records.outerjoin(list_entries, list_entries.c.record_id == records.c.id))
        .where(records.c.id.in_(sorted(ids)))
    )
    for rid, end, until in rows:
        if (end is not None and end < on) or (until is not None and until < on):
            out.append(rid)
    return out


def _bulk(
    engine: Engine, catalog: Catalog, measures: Measures, codes: list[str], on: date
) -> dict[str, Any]:
    """A bulk check of every subject for every matter on ``on``: rows per matter, and the
    record ids of its hits."""
    answers: dict[str, Any] = {}
    with engine.begin() as conn:
        for matter in sorted(measures.matters):
            res = run_bulk_check(
                conn,
                catalog,
                measures,
                CHECKER,
                [(c, None) for c in codes],
                matter=matter,
                today=on,
            )
            hit_ids = set(
                conn.execute(
                    select(check_hits.c.record_id).where(check_hits.c.check_id == res.check_id)
                ).scalars()
            )
            answers[matter] = (res.rows, hit_ids)
    return answers


def _read_datasets(catalog: Catalog, measures: Measures) -> set[str]:
    out = {c for c, d in catalog.datasets.items() if d.list_kind or d.nature.value == "失信"}
    out |= {t.dataset for m in measures.measures.values() for t in m.triggers if t.dataset}
    return out | {s.dataset for s in measures.severities.values()}


def _state(engine: Engine) -> tuple[Any, ...]:
    with engine.connect() as conn:
        recs = sorted(
            conn.execute(
                select(records.c.id, records.c.version, records.c.content_hash, records.c.state)
            ).tuples()
        )
        versions = conn.execute(select(func.count()).select_from(record_versions)).scalar()
    return tuple(recs), versions


def test_done_when_on_the_demo_data(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    _load(engine, catalog, tmp_path / "sample")
    measures = load_measures(measures_dir(catalog), catalog)
    rules = state_rules(catalog.root)
    with engine.connect() as conn:
        # every subject a rule could answer anything but the clean-years default for: those
        # with a record of a dataset some measure or conflict rule reads, and the persons named
        # on list entries
        with_records = select(records.c.subject_id).where(
            records.c.dataset.in_(sorted(_read_datasets(catalog, measures)))
        )
        named_persons = select(list_entry_persons.c.subject_id)
        codes = [
            c
            for (c,) in conn.execute(
                select(func.coalesce(subjects.c.uscc, subjects.c.id_number)).where(
                    subjects.c.merged_into.is_(None),
                    subjects.c.id.in_(with_records) | subjects.c.id.in_(named_persons),
                )
            )
            if c
        ]
        kinds: dict[int, set[str]] = {}
        for sid, kind in conn.execute(select(list_entries.c.subject_id, list_entries.c.list_kind)):
            kinds.setdefault(sid, set()).add(kind)
    stat_only = {sid for sid, ks in kinds.items() if "STAT" in ks and "WAGE" not in ks}
    assert stat_only, "the demo delivers 统计严重失信企业 entries"
    shown_before_daily: dict[date, set[int]] = {}

    for on in DAYS:
        with engine.connect() as conn:
            items = _public_items(conn, catalog, on)
            ids = {i["id"] for i in items}
            shown_before_daily[on] = ids
            # no expired record public, without daily
            assert _ended_before(conn, ids, on) == [], on
            # no natural person where persons are not published
            people = {i["dataset"] for i in items if i["subject"]["category"] == PERSON} - set(
                PERSON_PUBLIC_DATASETS
            )
            assert people == set(), on
        answers = _bulk(engine, catalog, measures, codes, on)
        with engine.connect() as conn:
            for matter, (rows, hit_ids) in answers.items():
                # nothing expired triggers anything
                assert _ended_before(conn, hit_ids, on) == [], (on, matter)
                stored = dict(
                    conn.execute(
                        select(records.c.id, records.c.state).where(
                            records.c.id.in_(sorted(hit_ids))
                        )
                    )
                    .tuples()
                    .all()
                )
                assert set(stored.values()) <= set(rules.counted_by_checks), (on, matter)
                for row in rows:
                    # no reward beside a punishment
                    assert not (row.rewards and (row.must or row.may)), (on, matter, row)
                    # 统计局's list is not the wage-arrears list
                    if row.subject_id in stat_only:
                        assert "ST-WAGE-01" not in row.must + row.may, (on, matter, row)

    # with daily: the stored states move on, the answers for that day stay the same
    with engine.begin() as conn:
        run_daily(conn, as_of=DAILY_ON, actor="test", catalog_dir=catalog.root)
    with engine.connect() as conn:
        items = _public_items(conn, catalog, DAILY_ON)
    assert {i["id"] for i in items} == shown_before_daily[DAILY_ON]

    # a listed company's 法定代表人: the check names the company and the list
    with engine.connect() as conn:
        named = conn.execute(
            select(subjects.c.id_number, list_entries.c.subject_id, list_entries.c.list_kind)
            .select_from(
                list_entry_persons.join(
                    list_entries, list_entries.c.record_id == list_entry_persons.c.record_id
                ).join(subjects, subjects.c.id == list_entry_persons.c.subject_id)
            )
            .join(records, records.c.id == list_entries.c.record_id)
            .where(
                list_entries.c.dataset == "YZSX",
                list_entries.c.status == "listed",
                list_entries.c.valid_until >= TODAY,
                records.c.publicity_max_end >= TODAY,
            )
            .limit(5)
        ).all()
        orgs = dict(conn.execute(select(subjects.c.id, subjects.c.name)).tuples().all())
    assert named, "the demo names 法定代表人 with ID numbers on serious-list entries in force"
    for id_number, org_id, _ in named:
        with engine.begin() as conn:
            res = run_check(
                conn, catalog, measures, CHECKER, subject_code=id_number, matter="procurement"
            )
        via = [h["responsible_for"] for h in res.hits if h["responsible_for"]]
        assert any(v["organisation"] == orgs[org_id] for v in via), id_number
        # HN-Reg art. 34: the joint punishment of every serious list reaches responsible persons
        assert any(m["id"] == "HN34-1" for m in res.measures)
        assert not any(m["kind"] == Kind.REWARD.value for m in res.measures)

    # resending the rejects file, then the original, changes nothing
    with engine.connect() as conn:
        batch_id = conn.execute(
            select(func.min(batches.c.id)).where(batches.c.file_name == PENALTIES)
        ).scalar_one()
        rejects = tmp_path / "rejects.csv"
        assert export_rejects(conn, catalog, batch_id, rejects) > 0
    dept = _dept_of(engine, batch_id)
    before = _state(engine)
    for path in (rejects, tmp_path / "sample" / PENALTIES):
        with engine.begin() as conn:
            receipt = ingest(
                conn,
                catalog,
                IngestRequest(path=path, dataset="XZCF", dept_uscc=dept, actor="t"),
            )
        assert (receipt.new, receipt.updated) == (0, 0), path.name
        assert _state(engine) == before, path.name


def _dept_of(engine: Engine, batch_id: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(select(batches.c.dept_uscc).where(batches.c.id == batch_id)).scalar_one()
        )
