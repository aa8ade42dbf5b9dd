"""The public portal pages (信用濮阳): search, a subject's page with its tabs, 双公示, 红黑榜,
the public credit report download and report verification (报告核验).

Pages only parse input, call the portal, search and report services (which ask the disclosure
engine what may be shown) and render; a domain error becomes the error page (``errors.py``)
except on the search page, where a too-short or odd query is answered beside the search box.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection
from starlette.datastructures import UploadFile

from xinyong.accounts.purposes import (
    MAX_CHARS,
    PURPOSE_REQUIRED,
    purpose_choices,
    read_as,
    stated_purpose,
)
from xinyong.catalog.loader import Catalog
from xinyong.codes import KIND_ID_NUMBER, check_code, normalize_code
from xinyong.departments import service as departments
from xinyong.disclosure import TABS, mask_id_number
from xinyong.errors import NotFound, XinyongError
from xinyong.evaluation import service as evaluation
from xinyong.lists import desk
from xinyong.portal import service as portal
from xinyong.portal.figures import home_figures
from xinyong.portal.search import CATEGORIES, SearchFilters, filter_choices, search_subjects
from xinyong.portal.service import (
    LIST_DATASETS,
    PUBLICITY_DATASETS,
    PUBLICITY_TYPE_ITEM,
    ListPaging,
    Paging,
)
from xinyong.portal.standing import (
    dishonest_datasets,
    registrations,
    search_marks,
    subject_standing,
)
from xinyong.reports.content import ReportKind
from xinyong.reports.files import verify_file
from xinyong.reports.numbers import grouped
from xinyong.reports.service import (
    Verification,
    normalise_report_no,
    verify_report,
)
from xinyong.subjects.refs import PERSON
from xinyong.web.clients import client_address
from xinyong.web.deps import RowId, app_clock, check_csrf, page
from xinyong.web.present import record_for_page
from xinyong.web.render import render
from xinyong.web.report_files import issue_with_file, pdf_download

router = APIRouter()

PAGE_SIZE = 20
# the purpose fields take more than a purpose may hold: too long a one gets its Chinese answer
MAX_PURPOSE = 2 * MAX_CHARS
LATEST = 5  # latest publications and list changes on the home page, per kind
PageNo = Annotated[int, Query(ge=1, le=100_000, description="页码")]
# The tab shown when none is asked for: who the subject is.
DEFAULT_TAB = "基础信息"
# The items shown as columns of the 双公示 tables (every item is in the row's details).
PUBLICITY_COLUMNS = {
    "XZXK": (("XK_WSH", "许可决定书文号"), ("XK_XKZS", "许可证书名称"), ("XK_XKLB", "许可类别")),
    "XZCF": (("CF_WSH", "处罚决定书文号"), ("CF_WFXW", "违法行为类型"), ("CF_CFLB", "处罚类别")),
}
PUBLICITY_TITLES = {"xzxk": "行政许可公示", "xzcf": "行政处罚公示"}
LIST_TITLES = {"red": "守信红名单", "black": "失信黑名单"}
LIST_INTROS = {
    "red": "经认定部门评定并公示的守信激励对象。",
    "black": (
        "严重失信主体名单和失信被执行人名单；自然人仅公示姓名、性别、年龄和脱敏后的身份证号码。"
    ),
}


def _limit(request: Request, bucket: str) -> None:
    settings = request.app.state.settings
    per_minute: int = getattr(settings, f"rate_limit_{bucket}_per_minute")
    request.app.state.limiter.hit(bucket, client_address(request), per_minute)


def _as_datetime(value: Any) -> Any:
    """ISO text from a service answer as a datetime, so that the ``bj`` filter shows it in
    Beijing time; anything else unchanged."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _for_page(items: list[dict[str, Any]], catalog: Catalog) -> list[dict[str, Any]]:
    """Records from a service answer, with their "as of" readable, their one-line summary and
    details as people read them (``present.record_for_page``)."""
    return [
        {**record_for_page(item, catalog), "as_of": _as_datetime(item.get("as_of"))}
        for item in items
    ]


def _pager(
    total: int, page_no: int, size: int, base: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Previous/next links of a paged list, keeping the other query parameters."""
    pages = max(1, -(-total // size))
    kept = {k: v for k, v in params.items() if v not in (None, "")}

    def link(n: int) -> str:
        return base + "?" + urlencode({**kept, "page": n})

    return {
        "page": page_no,
        "pages": pages,
        "total": total,
        "prev": link(page_no - 1) if page_no > 1 else None,
        "next": link(page_no + 1) if page_no < pages else None,
    }


def _key_pager(found: dict[str, Any], base: str, params: dict[str, Any]) -> dict[str, Any]:
    """Previous/next links of a keyset-paged list (its cursors), keeping the other query
    parameters; the count is capped, so there is no "page N of M"."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}

    def link(key: str, cursor: str | None) -> str | None:
        return base + "?" + urlencode({**kept, key: cursor}) if cursor else None

    total = found["total"]  # counted on the first page only
    note = None
    if total is None:
        shown = None
        if found["prev"] is None and found["next"] is not None:
            # a filtered answer longer than a page is not counted (it would read every match)
            note = "符合条件的记录不止一页，未统计总数，请翻页查看"
    else:
        shown = f"{total:,} 条以上" if found["total_capped"] else f"{total:,} 条"
    return {
        "page": None,
        "pages": None,
        "total": shown,
        "note": note,
        "prev": link("before", found["prev"]),
        "next": link("after", found["next"]),
    }


@router.get("/")
def home(request: Request) -> Response:
    with page(request) as ctx:
        figures = home_figures(ctx.conn, ctx.catalog)
        latest = ListPaging(LATEST)
        return render(
            request,
            "home.html",
            {
                "as_of": portal.data_as_of(ctx.conn),
                "links": _quick_links(),
                "figures": figures,
                "chart_data": {
                    "months": [_month_label(m.month) for m in figures.per_month],
                    "permits": [m.permits for m in figures.per_month],
                    "penalties": [m.penalties for m in figures.per_month],
                    "tabs": [name for name, _ in figures.per_tab],
                    "tab_counts": [n for _, n in figures.per_tab],
                },
                "month_label": _month_label(figures.month),
                "latest_publicity": {
                    kind: _for_page(
                        portal.publicity_list(
                            ctx.conn, ctx.catalog, kind, paging=latest, count=False
                        )["items"],
                        ctx.catalog,
                    )
                    for kind in PUBLICITY_TITLES
                },
                "latest_lists": {
                    kind: _for_page(
                        portal.red_black_list(
                            ctx.conn, ctx.catalog, kind, paging=latest, count=False
                        )["items"],
                        ctx.catalog,
                    )
                    for kind in LIST_TITLES
                },
                "latest_exits": desk.exit_notices(
                    ctx.conn,
                    ctx.catalog,
                    tuple(code for codes in LIST_DATASETS.values() for code in codes),
                    limit=LATEST,
                ),
            },
        )


def _month_label(month: str) -> str:
    """``2026-12`` → 2026年12月."""
    year, number = month.split("-")
    return f"{year}年{int(number)}月"


def _quick_links() -> list[tuple[str, str, str]]:
    return [
        ("/publicity/xzxk", "行政许可公示", "各部门作出的行政许可决定"),
        ("/publicity/xzcf", "行政处罚公示", "对法人和非法人组织作出的行政处罚决定"),
        ("/lists/red", "守信红名单", "守信激励对象"),
        ("/lists/black", "失信黑名单", "严重失信主体和失信被执行人"),
        ("/verify", "报告核验", "上传信用报告 PDF 或输入报告编号，核验报告是否为平台签发的原件"),
    ]


def _first_tab(counts: dict[str, int]) -> str:
    """The tab a subject page opens on: who the subject is, unless nothing is shown there (a
    person has no registration record), then the first tab with records."""
    if counts.get(DEFAULT_TAB):
        return DEFAULT_TAB
    return next((name for name, n in counts.items() if n), DEFAULT_TAB)


# -- search -------------------------------------------------------------------------------------


def _echo(query: str, today: date) -> str:
    """The query as the page shows it back: a full ID number is never echoed (whoever typed it
    sees first 6 + last 4, like every public answer)."""
    query = query[:100]
    found = check_code(query, today)
    if found.ok and found.kind == KIND_ID_NUMBER:
        return mask_id_number(normalize_code(query)) or ""
    return query


@router.get("/search")
def search(
    request: Request,
    q: Annotated[str | None, Query(description="名称片段或代码")] = None,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    category: Annotated[str | None, Query(max_length=20, description="主体类别")] = None,
    district: Annotated[str | None, Query(max_length=6, description="所属区县")] = None,
    industry: Annotated[str | None, Query(max_length=1, description="行业门类")] = None,
    dishonest: Annotated[str | None, Query(max_length=1, description="仅看有失信记录的")] = None,
) -> Response:
    query = (q or "").strip()
    wanted = SearchFilters(
        category=category or None,
        district=district or None,
        industry=industry or None,
        dishonest=dishonest == "1",
    )
    choices = filter_choices(request.app.state.settings.catalog_dir)
    context: dict[str, Any] = {
        "q": _echo(query, app_clock(request).today()),
        "items": [],
        "error": None,
        "pager": None,
        "filters": wanted,
        "choices": choices,
        "categories": CATEGORIES,
    }
    with page(request) as ctx:
        if not query:
            context["error"] = "请输入企业名称（至少两个字）或统一社会信用代码等代码。"
            return render(request, "search.html", context)
        _limit(request, "search")
        try:
            found = search_subjects(
                ctx.conn,
                query,
                ctx.principal,
                offset=(page_no - 1) * PAGE_SIZE,
                limit=PAGE_SIZE,
                catalog_root=ctx.catalog.root,
                filters=wanted,
                dishonest_datasets=dishonest_datasets(ctx.catalog),
            )
        except XinyongError as exc:
            context["error"] = exc.message
            return render(request, "search.html", context, status_code=400)
        ids = [i.subject_id for i in found.items]
        regs = registrations(ctx.conn, ctx.catalog, ids)
        marks = search_marks(ctx.conn, ctx.catalog, ids)
        # the paging links carry the query and the filters (the visitor's own URL holds them)
        base = {
            k: v
            for k, v in {
                "q": query,
                "category": category,
                "district": district,
                "industry": industry,
                "dishonest": dishonest,
            }.items()
            if v
        }
        context.update(
            items=[
                {
                    **i.as_dict(),
                    "registration": regs.get(i.subject_id),
                    "marks": marks.get(i.subject_id),
                }
                for i in found.items
            ],
            mode=found.mode,
            page=page_no,
            prev=f"/search?{urlencode({**base, 'page': page_no - 1})}" if page_no > 1 else None,
            next=f"/search?{urlencode({**base, 'page': page_no + 1})}" if found.has_more else None,
            as_of=portal.data_as_of(ctx.conn),
        )
        return render(request, "search.html", context)


# -- a subject's page ---------------------------------------------------------------------------


@router.get("/subjects/{subject_id}")
def subject_page(
    request: Request,
    subject_id: RowId,
    tab: Annotated[str | None, Query(max_length=10)] = None,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    purpose: Annotated[str | None, Query(max_length=MAX_PURPOSE)] = None,
    other: Annotated[str | None, Query(max_length=MAX_PURPOSE)] = None,
) -> Response:
    """A subject's page. A government reader is shown the public view and a form asking its
    查询事由 until it states one; the purpose then stays in the page's links and the view is
    one audit event carrying it (issue 11 item 5)."""
    with page(request) as ctx:
        asks = ctx.principal.is_government
        choices = purpose_choices(ctx.catalog.root)
        stated: str | None = None
        purpose_error: str | None = None
        try:
            stated = stated_purpose(purpose, other) if asks else None
        except XinyongError as exc:
            purpose_error = exc.message
        form = {
            "choices": choices,
            "error": purpose_error,
            "purpose": purpose
            if purpose in (*choices.common, choices.other)
            else (choices.other if other or purpose else ""),
            "other": other or "",
            "tab": tab,
        }
        try:
            profile = portal.subject_profile(
                ctx.conn, ctx.catalog, ctx.principal, subject_id, stated
            )
        except XinyongError as exc:
            if exc.code != PURPOSE_REQUIRED:
                raise
            # a natural person shows the public nothing: the purpose first
            return render(
                request, "subject_purpose.html", {"subject_id": subject_id, "purpose_form": form}
            )
        reader, _ = read_as(ctx.principal, stated)
        tab = tab or _first_tab(profile["tabs"])
        if tab not in TABS:
            raise NotFound("TAB_UNKNOWN", "没有该栏目")
        shown_id = profile["subject"]["id"]  # a merged subject's survivor
        found = portal.subject_records(
            ctx.conn,
            ctx.catalog,
            ctx.principal,
            shown_id,
            tab=tab,
            paging=Paging(page_no, PAGE_SIZE),
            purpose=stated,
            audit=False,  # the profile's event is the view's one event
        )
        kept = {"purpose": stated} if stated else {}
        tabs = [
            {
                "name": name,
                "count": count,
                "href": f"/subjects/{shown_id}?{urlencode({'tab': name, **kept})}",
            }
            for name, count in profile["tabs"].items()
        ]
        return render(
            request,
            "subject.html",
            {
                "subject": profile["subject"],
                "person": profile["subject"]["category"] == PERSON,
                "tabs": tabs,
                "tab": tab,
                "records": _for_page(found["items"], ctx.catalog),
                "pager": _pager(
                    found["total"],
                    page_no,
                    PAGE_SIZE,
                    f"/subjects/{shown_id}",
                    {"tab": tab, **kept},
                ),
                "standing": subject_standing(ctx.conn, ctx.catalog, reader, shown_id, stated),
                "tab_of": {code: name for name, codes in TABS.items() for code in codes},
                "registration": registrations(ctx.conn, ctx.catalog, [shown_id]).get(shown_id),
                "as_of": _as_datetime(profile["as_of"]),
                "total": sum(profile["tabs"].values()),
                # the grades the model publishes (all of them for the subject and government)
                "evaluations": evaluation.evaluations_of(
                    ctx.conn, ctx.catalog, reader, shown_id, with_changes=False, purpose=stated
                ),
                "suspended": profile["suspended"],
                "exit_notices": profile["exit_notices"],
                "purpose_form": form if asks and not stated else None,
                "purpose": stated,
            },
        )


@router.post("/subjects/{subject_id}/report")
async def subject_report(request: Request, subject_id: RowId) -> Response:
    """The public credit report (公开版) of a legal person, issued now and downloaded."""
    form = await request.form()
    token = form.get("csrf_token")
    with page(request, write=True) as ctx:
        check_csrf(ctx, token if isinstance(token, str) else None)
        _limit(request, "report")
        report = issue_with_file(ctx, subject_id, ReportKind.PUBLIC)
    return pdf_download(report)


# -- 双公示 and 红黑榜 -----------------------------------------------------------------------------


def _departments(conn: Connection, codes: tuple[str, ...]) -> list[dict[str, str]]:
    # Disabled departments too: the records they delivered before stay public.
    return sorted(
        (
            {"uscc": d.uscc, "name": d.name}
            for d in departments.all_departments(conn).values()
            if any(c in d.datasets for c in codes)
        ),
        key=lambda d: d["name"],
    )


def _types(catalog: Catalog, code: str) -> list[str]:
    item = catalog.dataset(code).item(PUBLICITY_TYPE_ITEM[code])
    return [o.label for o in item.enum]


def _date_param(value: str | None, label: str) -> date | None:
    """A date from a form field; an empty field is no filter, anything unreadable a 400."""
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise XinyongError(
            "DATE_INVALID", f"{label}格式不正确，应为 年-月-日，如 2026-01-31"
        ) from None


ShortText = Annotated[str | None, Query(max_length=20)]
# Keyset paging of the public lists: a position from the previous page's links.
Cursor = Annotated[str | None, Query(max_length=40)]


@router.get("/publicity/{kind}")
def publicity(
    request: Request,
    kind: str,
    dept: Annotated[str | None, Query(max_length=18)] = None,
    date_from: ShortText = None,
    date_to: ShortText = None,
    type: ShortText = None,
    after: Cursor = None,
    before: Cursor = None,
) -> Response:
    code = PUBLICITY_DATASETS.get(kind)
    if code is None:
        raise NotFound("LIST_NOT_FOUND", "没有该公示栏目")
    start = _date_param(date_from, "起始日期")
    end = _date_param(date_to, "截止日期")
    _limit(request, "list")
    with page(request) as ctx:
        types = _types(ctx.catalog, code)
        found = portal.publicity_list(
            ctx.conn,
            ctx.catalog,
            kind,
            dept=dept or None,
            date_from=start,
            date_to=end,
            type_=type or None,
            paging=ListPaging(PAGE_SIZE, after or None, before or None),
        )
        filters = {"dept": dept, "date_from": date_from, "date_to": date_to, "type": type}
        return render(
            request,
            "publicity.html",
            {
                "kind": kind,
                "title": PUBLICITY_TITLES[kind],
                "dataset": ctx.catalog.dataset(code),
                "departments": _departments(ctx.conn, (code,)),
                "types": types,
                "columns": PUBLICITY_COLUMNS[code],
                "type_label": ctx.catalog.dataset(code).item(PUBLICITY_TYPE_ITEM[code]).name,
                "filters": filters,
                "items": _for_page(found["items"], ctx.catalog),
                "pager": _key_pager(found, f"/publicity/{kind}", filters),
                "as_of": _as_datetime(found["as_of"]),
            },
        )


@router.get("/lists/{kind}")
def lists(
    request: Request,
    kind: str,
    dept: Annotated[str | None, Query(max_length=18)] = None,
    after: Cursor = None,
    before: Cursor = None,
) -> Response:
    codes = LIST_DATASETS.get(kind)
    if codes is None:
        raise NotFound("LIST_NOT_FOUND", "没有该名单")
    _limit(request, "list")
    with page(request) as ctx:
        found = portal.red_black_list(
            ctx.conn,
            ctx.catalog,
            kind,
            dept=dept or None,
            paging=ListPaging(PAGE_SIZE, after or None, before or None),
        )
        return render(
            request,
            "lists.html",
            {
                "kind": kind,
                "title": LIST_TITLES[kind],
                "intro": LIST_INTROS[kind],
                "datasets": [ctx.catalog.dataset(c).name for c in codes],
                "departments": _departments(ctx.conn, codes),
                "filters": {"dept": dept},
                "items": _for_page(found["items"], ctx.catalog),
                "pager": _key_pager(found, f"/lists/{kind}", {"dept": dept}),
                "as_of": _as_datetime(found["as_of"]),
                # art. 37: the exit notice is published where the listing was
                "exit_notices": found["exit_notices"],
            },
        )


# -- report verification (报告核验) ---------------------------------------------------------------


@router.get("/verify")
def verify_form(
    request: Request, no: Annotated[str | None, Query(max_length=100)] = None
) -> Response:
    """The form; a number typed into it goes to its own page (which a QR code also opens)."""
    if no and no.strip():
        number = normalise_report_no(no)  # malformed: the error page, 400
        return RedirectResponse(f"/verify/{number}", status_code=303)
    with page(request):
        return render(request, "verify.html", {"verification": None})


@router.get("/verify/{report_no}")
def verify(request: Request, report_no: str) -> Response:
    with page(request) as ctx:
        result = verify_report(ctx.conn, report_no, ctx.principal)
        return render(request, "verify.html", _verified(result, ctx.catalog))


@router.post("/verify")
async def verify_upload(request: Request) -> Response:
    """The report file itself, uploaded: is it byte for byte the one issued? Side-effect free
    (no CSRF token needed); rate limited like report downloads, since each may render a PDF."""
    form = await request.form()
    upload = form.get("file")
    typed = form.get("no")
    data = b""
    if isinstance(upload, UploadFile):
        data = await upload.read(request.app.state.settings.max_evidence_upload_bytes + 1)
    with page(request) as ctx:
        _limit(request, "report")
        try:
            if not data:
                raise XinyongError("REPORT_FILE_MISSING", "请选择要核验的信用报告 PDF 文件")
            checked = verify_file(
                ctx.conn,
                data,
                ctx.settings,
                report_no=typed if isinstance(typed, str) else None,
                viewer=ctx.principal,
            )
        except XinyongError as exc:
            status = 404 if isinstance(exc, NotFound) else 400
            context = {"verification": None, "upload_error": exc.message}
            return render(request, "verify.html", context, status_code=status)
        return render(
            request,
            "verify.html",
            {**_verified(checked.report, ctx.catalog), "file": checked},
        )


def _verified(result: Verification, catalog: Catalog) -> dict[str, Any]:
    content = result.content
    return {
        "verification": result,
        "grouped_no": grouped(result.report_no),
        "content": content,
        "snapshot_at": result.snapshot_at,
        "issued_at": result.issued_at,
        "sections": _report_sections(content, catalog) if content else [],
    }


def _report_sections(content: dict[str, Any], catalog: Catalog) -> list[dict[str, Any]]:
    """The report's sections with the records' times readable (snapshot text is ISO)."""
    sections = []
    for section in content.get("sections", []):
        datasets = [
            {**part, "records": _for_page(part.get("records", []), catalog)}
            for part in section.get("datasets", [])
        ]
        sections.append({**section, "datasets": datasets})
    return sections
