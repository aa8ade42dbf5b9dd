"""Every page of the application in a real Chromium, as every role allowed to see it: axe-core
(vendored, tests/vendor) finds no serious or critical violation at 1280 px, nor at 390 px in
what the width changes (scrolling regions, contrast), and no page scrolls sideways at 390 px.

The pages are read from the application's routes (every GET outside /api), and who may see
each one from the permission matrix (tests/web/test_permissions.py TABLE), so a new page is
checked as soon as it exists. A route whose path holds a parameter needs a value: the generic
ones (``subject_id``, ``case_no``…) come from the seeded data, the rest from ``URLS`` below; a
route with neither fails, naming what to add. Answers that are not HTML (PDF, XLSX, CSV, JSON)
are fetched and skipped.

The data: the portal's sample (tests/web/portal_data.py), 鑫源商贸 on the 严重失信主体名单 and
twice on the market regulator's 经营异常名录 (one entry under objection, one whose objection
was decided), a check with hits, a delivery with rejected rows and a row waiting to be linked,
a queued delivery, a credit report, a published assessment, two evaluation runs and an
open-data build."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fixtures.deliveries import HENGDA, NDRC, SAMR, XINYUAN, penalty, run, write_csv
from fixtures.site import (
    AXE,
    AXE_TAGS,
    DESKTOP,
    GRAVE,
    PHONE,
    Site,
    horizontal_overflow,
    login,
    new_page,
    new_site,
    serving,
)
from fixtures.web import make_account
from lists.rows import deliver, headers, list_row
from playwright.sync_api import Browser, Page
from sqlalchemy import select

from web.portal_data import Portal, load_portal
from web.test_permissions import TABLE, UNCHECKED, route_keys
from xinyong.accounts.roles import Principal, Role
from xinyong.assessment.figures import Period
from xinyong.assessment.service import publish
from xinyong.audit.models import audit_events
from xinyong.cases import files as case_files
from xinyong.cases import objections
from xinyong.cases.models import case_files as case_files_table
from xinyong.catalog.loader import Catalog
from xinyong.checks.service import run_check
from xinyong.evaluation.definitions import model_book
from xinyong.evaluation.runs import run_model
from xinyong.ingest import queue
from xinyong.measures.catalog import load_measures, measures_dir
from xinyong.opendata.build import build
from xinyong.records.models import records
from xinyong.reports.content import ReportKind
from xinyong.reports.service import issue_report
from xinyong.web.app import create_app
from xinyong.workdays.calendar import calendar_dir, work_calendar

# The roles that use pages (a department system has no password, so no session).
PAGE_ROLES = ("public", "subject", "clerk", "auditor", "operator")
OPEN_DOC = "濮市监异〔2026〕11号"  # a list entry under objection
DECIDED_DOC = "濮市监异〔2026〕12号"  # a list entry whose objection was decided (维持)
USCC_COLUMN = "行政相对人代码_1(统一社会信用代码)"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128

# Routes whose parameters are not the generic ones, or that are worth seeing with a query:
# the URLs to visit, as templates over ``World.values``.
URLS: dict[str, list[str]] = {
    "/search": ["/search", "/search?q=濮阳", "/search?q=有限公司&dishonest=1"],
    "/subjects/{subject_id}": [
        "/subjects/{subject_id}",
        "/subjects/{subject_id}?tab=行政处罚",
        "/subjects/{hengda}",
        "/subjects/{wang}",
        # a government reader's view once it has stated its 查询事由 (政务共享 items shown)
        "/subjects/{subject_id}?purpose=日常监管",
        "/subjects/{wang}?purpose=日常监管",
    ],
    "/publicity/{kind}": ["/publicity/xzxk", "/publicity/xzcf"],
    "/lists/{kind}": ["/lists/red", "/lists/black"],
    "/dept/datasets/{code}/template.xlsx": ["/dept/datasets/XZCF/template.xlsx"],
    "/dept/datasets/{code}/dictionary.csv": ["/dept/datasets/XZCF/dictionary.csv"],
    "/open-data/files/{name}": ["/open-data/files/XZCF.csv"],
    "/reconcile/preview": ["/reconcile/preview?id={subject_id}"],
    "/reconcile/suggest/entity": ["/reconcile/suggest/entity?prefix=鑫源"],
    "/reconcile/suggest/property": ["/reconcile/suggest/property?prefix=代码"],
    "/me/objections/new": ["/me/objections/new?record={penalty_id}"],
    "/me/repair/new": ["/me/repair/new?record={penalty_id}"],
    "/me/cases/{case_no}": ["/me/cases/{case_no}", "/me/cases/{decided_no}"],
    "/dept/cases/{case_no}": ["/dept/cases/{case_no}", "/dept/cases/{decided_no}"],
    "/cases/{case_no}/decision": ["/cases/{decided_no}/decision"],
    "/cases/{case_no}/files/{file_id}": ["/cases/{decided_no}/files/{file_id}"],
    "/dept/objections/new": ["/dept/objections/new?subject={uscc}"],
    "/dept/lists/{record_id}": ["/dept/lists/{record_id}", "/dept/lists/{decided_id}"],
    "/admin/dashboard/{key}.xlsx": ["/admin/dashboard/cases.xlsx"],
    "/admin/assessment": ["/admin/assessment", "/admin/assessment?period=2026-12"],
    "/assessment/{period}": ["/assessment/{period}"],
    "/admin/accounts/{username}": ["/admin/accounts/e.clerk", "/admin/accounts/e.subject"],
    "/admin/departments/{uscc}": ["/admin/departments/{dept}"],
    "/admin/batches": ["/admin/batches", "/admin/batches?state=pending&dataset=XZCF"],
    "/admin/pending": ["/admin/pending", "/admin/pending?dept={dept}"],
    "/admin/accounts": ["/admin/accounts", "/admin/accounts?role=clerk&state=active"],
}


@dataclass(frozen=True)
class World:
    url: str
    values: dict[str, str]  # path parameter (or template field) → value
    app: FastAPI


def _seed(folder: Path, catalog: Catalog) -> tuple[Site, dict[str, str]]:
    site = new_site(folder, catalog)
    engine = site.engine
    portal: Portal = load_portal(engine, catalog, folder / "deliveries")
    # on the 严重失信主体名单 (a status banner, a check with hits) and twice on the market
    # regulator's 经营异常名录 (the entries the subject objects to)
    black = list_row(headers(catalog, "YZSX"), XINYUAN, "濮发改信〔2026〕7号", NDRC)
    assert deliver(engine, catalog, folder, "YZSX", [black]).rejected == 0
    rows = [
        list_row(headers(catalog, "JYYC"), XINYUAN, doc, SAMR, dataset="JYYC")
        for doc in (OPEN_DOC, DECIDED_DOC)
    ]
    got = deliver(engine, catalog, folder, "JYYC", rows, dept=SAMR, name="jyyc.csv")
    assert got.rejected == 0, got.rejects
    # a delivery with rejected rows: one without a 文书号, one with a malformed code
    bad = [
        penalty(XINYUAN, "濮市监罚决字〔2026〕00901号"),
        penalty(XINYUAN, ""),
        penalty(XINYUAN, "濮市监罚决字〔2026〕00902号", **{USCC_COLUMN: "91"}),
        # and one waiting to be linked to its subject (no code, a name with a candidate)
        penalty(HENGDA, "濮市监罚决字〔2026〕00903号", **{USCC_COLUMN: ""}),
    ]
    rejected = run(engine, catalog, write_csv(folder / "bad.csv", bad))
    assert rejected.rejected > 0 and rejected.pending == 1, rejected
    assert rejected.batch_id is not None

    make_account(engine, catalog, "e.subject", Role.SUBJECT, subject_id=portal.xinyuan)
    make_account(engine, catalog, "e.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    make_account(engine, catalog, "e.auditor", Role.AUDITOR)
    make_account(engine, catalog, "e.operator", Role.OPERATOR)
    me = Principal(role=Role.SUBJECT, name="e.subject", subject_id=portal.xinyuan)
    clerk = Principal(role=Role.CLERK, name="e.clerk", dept_uscc=SAMR.uscc)
    operator = Principal(role=Role.OPERATOR, name="e.operator")
    calendar = work_calendar(calendar_dir(catalog.root))
    measures = load_measures(measures_dir(catalog), catalog)

    def record_of(doc: str, dataset: str) -> int:
        with engine.connect() as conn:
            found = conn.execute(
                select(records.c.id, records.c.data).where(
                    records.c.subject_id == portal.xinyuan, records.c.dataset == dataset
                )
            ).all()
        return next(r.id for r in found if doc in str(r.data))

    open_id, decided_id = record_of(OPEN_DOC, "JYYC"), record_of(DECIDED_DOC, "JYYC")
    penalty_id = record_of("濮市监罚决字〔2026〕00210号", "XZCF")
    with engine.begin() as conn:
        opened, _ = objections.file_objection(
            conn, me, calendar, open_id, reason="已履行全部义务，列入理由不再成立"
        )
        decided, _ = objections.file_objection(
            conn,
            me,
            calendar,
            decided_id,
            reason="认定文书号登记有误",
            uploads=[case_files.Upload("履行凭证.png", PNG)],
            data_dir=site.settings.data_dir,
        )
        objections.decide(conn, clerk, decided.case_no, outcome="upheld", reason="经核实，认定无误")
        file_id = conn.execute(
            select(case_files_table.c.id).where(case_files_table.c.case_id == decided.id)
        ).scalar_one()
        check_id = run_check(
            conn, catalog, measures, clerk, subject_code=XINYUAN.uscc, matter="licensing"
        ).check_id
        report_no = issue_report(
            conn, catalog, Principal.public("test"), portal.xinyuan, kind=ReportKind.PUBLIC
        ).report_no
        job_id = queue.enqueue(
            conn,
            clerk,
            path=folder / "bad.csv",
            dataset="XZCF",
            file_name="待处理.csv",
            channel="web",
        )
        publish(conn, operator, catalog, calendar, Period.month("2026-11"), note="十一月通报")
        model = model_book(catalog).get("QYGGXY")
        run_model(conn, catalog, model, as_of=date(2026, 12, 6), actor="test")
        run_model(conn, catalog, model, as_of=date(2026, 12, 7), actor="test")
        build(conn, catalog, site.settings.data_dir / "opendata", on=date(2026, 12, 7))
        chain, seq = conn.execute(
            select(audit_events.c.chain, audit_events.c.seq).order_by(audit_events.c.seq).limit(1)
        ).one()
    values = {
        "subject_id": str(portal.xinyuan),
        "hengda": str(portal.hengda),
        "wang": str(portal.wang),
        "uscc": XINYUAN.uscc,
        "dept": SAMR.uscc,
        "record_id": str(open_id),
        "decided_id": str(decided_id),
        "penalty_id": str(penalty_id),
        "case_no": opened.case_no,
        "decided_no": decided.case_no,
        "file_id": str(file_id),
        "check_id": str(check_id),
        "report_no": report_no,
        "batch_id": str(rejected.batch_id),
        "job_id": str(job_id),
        "period": "2026-11",
        "chain": str(chain),
        "seq": str(seq),
    }
    return site, values


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Iterator[World]:
    site, values = _seed(tmp_path_factory.mktemp("everypage"), catalog)
    with serving(site, catalog) as served:
        app = create_app(served.settings, engine=served.engine, catalog=catalog)
        yield World(served.url, values, app)


def page_routes(app: FastAPI) -> list[str]:
    """Every GET path outside /api, from the application itself."""
    keys = route_keys(app) - UNCHECKED
    return sorted(k[4:] for k in keys if k.startswith("GET ") and not k.startswith("GET /api/"))


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def urls_of(path: str, values: dict[str, str]) -> list[str]:
    """The URLs that show ``path``, or a failure naming the parameter nobody can fill."""
    templates = URLS.get(path, [path])
    missing = set().union(*(_fields(t) for t in templates)) - set(values)
    assert not missing, (
        f"GET {path}: no value for {sorted(missing)}; seed one in this test's World.values "
        "or give the route its URLs in URLS"
    )
    return [t.format(**values) for t in templates]


def test_every_page_route_can_be_visited(world: World) -> None:
    """Every page route is in the permission table and its parameters can be filled."""
    for path in page_routes(world.app):
        assert f"GET {path}" in TABLE, f"GET {path} is not in tests/web/test_permissions.py"
        urls_of(path, world.values)


# What can change with the width (the rest of axe reads the document, the same at any width):
# a table that scrolls sideways on a phone must be reachable by keyboard, and colours may differ.
NARROW_RULES = ["scrollable-region-focusable", "color-contrast"]


def _axe(page: Page, rules: list[str] | None = None) -> list[str]:
    """The serious and critical violations, one line per rule with every element's target:
    all of axe's WCAG 2.1 AA and best-practice rules, or only ``rules``."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    only = {"type": "rule", "values": rules} if rules else {"type": "tag", "values": AXE_TAGS}
    found = page.evaluate(
        "async (only) => (await axe.run(document, {runOnly: only}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))",
        only,
    )
    return [
        f"{v['id']} ({v['impact']}, {v['help']}): {'; '.join(v['nodes'][:6])}"
        for v in found
        if v["impact"] in GRAVE
    ]


@pytest.mark.parametrize("role", PAGE_ROLES)
def test_every_page_passes_axe_and_fits(world: World, browser: Browser, role: str) -> None:
    visible = [
        p for p in page_routes(world.app) if role in TABLE.get(f"GET {p}", (frozenset(),))[0]
    ]
    problems: list[str] = []
    seen = 0
    with new_page(browser, DESKTOP, bypass_csp=True) as page:  # bypass: to inject axe-core
        if role != "public":
            login(page, world.url, f"e.{role}")
            assert "/login" not in page.url, f"e.{role} could not log in"
        for path in visible:
            for url in urls_of(path, world.values):
                answer = page.request.get(world.url + url)
                if answer.status >= 400:
                    problems.append(f"{url}: answered {answer.status}")
                    continue
                if not answer.headers.get("content-type", "").startswith("text/html"):
                    continue  # a file or JSON: nothing to look at
                page.set_viewport_size({"width": DESKTOP, "height": 900})
                if "attachment" in answer.headers.get("content-disposition", ""):
                    # an HTML document to save (a decision): looked at as opened from disk
                    page.set_content(answer.text())
                else:
                    page.goto(world.url + url)
                if re.search(r"/login(\?|$)", page.url) and path != "/login":
                    problems.append(f"{url}: sent to the login form")
                    continue
                seen += 1
                problems.extend(f"{url} at {DESKTOP} px: {p}" for p in _axe(page))
                page.set_viewport_size({"width": PHONE, "height": 900})
                wider = horizontal_overflow(page)
                if wider:
                    problems.append(f"{url}: {wider} px wider than the screen at {PHONE} px")
                problems.extend(f"{url} at {PHONE} px: {p}" for p in _axe(page, NARROW_RULES))
    assert seen > 0
    assert not problems, f"as {role}:\n" + "\n".join(problems)
