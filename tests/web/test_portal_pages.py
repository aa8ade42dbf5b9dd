"""The public portal pages through the test client on each backend: search with paging, the
subject page and its tabs, 双公示, 红黑榜, the public report download and its verification, and
bad input answered with a page that says what is wrong (never a stack trace)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fixtures.deliveries import HENGDA, WANG, XINYUAN
from fixtures.web import csrf_of
from sqlalchemy import Engine, update

from web.portal_data import FORMER_NAME, MINOR, WANG_PENALTY, XINYUAN_PENALTIES, Portal, load_portal
from xinyong.catalog.loader import Catalog
from xinyong.reports.models import credit_reports
from xinyong.reports.service import REPORT_NO

MASKED_WANG = WANG.id_number[:6] + "********" + WANG.id_number[-4:]
TRACE_MARKERS = ("Traceback", 'File "/', "sqlalchemy.exc", "Internal Server Error")


@pytest.fixture
def portal(engine: Engine, catalog: Catalog, tmp_path: Path) -> Portal:
    return load_portal(engine, catalog, tmp_path / "deliveries")


def _no_trace(html: str) -> None:
    for marker in TRACE_MARKERS:
        assert marker not in html


def _subject_links(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/subjects/(\d+)"', html)]


def download_report(client: TestClient, subject_id: int) -> tuple[str, bytes]:
    page = client.get(f"/subjects/{subject_id}")
    response = client.post(
        f"/subjects/{subject_id}/report", data={"csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    number = response.headers["x-report-no"]
    assert REPORT_NO.match(number)
    # saved under whose report it is and the day, in Chinese, with an ASCII fallback
    disposition = response.headers["content-disposition"]
    assert f'filename="credit-report-20261207-{number}.pdf"' in disposition
    assert "filename*=UTF-8''" in disposition
    assert quote("公共信用信息报告_2026-12-07.pdf") in disposition
    return number, response.content


# -- home and search ------------------------------------------------------------------------------


def test_home_has_a_labelled_search(client: TestClient, portal: Portal) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert 'role="search"' in html and '<label for="q"' in html and 'name="q"' in html
    assert "数据更新时间" in html and html.count("<h1") == 1


def test_search_by_name_fragment_and_by_code(client: TestClient, portal: Portal) -> None:
    by_name = client.get("/search", params={"q": "鑫源商贸"})
    assert by_name.status_code == 200
    assert portal.xinyuan in _subject_links(by_name.text)
    by_former = client.get("/search", params={"q": FORMER_NAME})
    assert portal.xinyuan in _subject_links(by_former.text) and "曾用名" in by_former.text
    by_code = client.get("/search", params={"q": HENGDA.uscc})
    assert _subject_links(by_code.text) == [portal.hengda]


def test_search_pages_through_results(client: TestClient, portal: Portal) -> None:
    # "公司" is in most names of the sample world: more than one page of 20
    first = client.get("/search", params={"q": "公司"})
    assert first.status_code == 200
    assert len(_subject_links(first.text)) == 20
    assert 'rel="next"' in first.text and 'rel="prev"' not in first.text
    second = client.get("/search", params={"q": "公司", "page": 2})
    assert second.status_code == 200 and 'rel="prev"' in second.text
    assert not set(_subject_links(first.text)) & set(_subject_links(second.text))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("鑫", "至少 2 个"),
        ("x" * 300, "过长"),
        ("%%__", "文字、字母或数字"),
    ],
)
def test_a_bad_query_is_answered_beside_the_search_box(
    client: TestClient, portal: Portal, query: str, message: str
) -> None:
    response = client.get("/search", params={"q": query})
    assert response.status_code == 400
    assert message in response.text and 'role="alert"' in response.text
    _no_trace(response.text)


def test_an_empty_query_asks_for_one(client: TestClient, portal: Portal) -> None:
    response = client.get("/search", params={"q": "  "})
    assert response.status_code == 200 and "请输入" in response.text


@pytest.mark.parametrize(
    "query",
    [
        "' OR 1=1 --",
        '鑫源" OR "1"="1',
        "鑫源'; DROP TABLE subjects; --",
        "<script>alert(1)</script>",
        "鑫源\x00商贸",
        "NEAR(鑫源 商贸)",
    ],
)
def test_injection_strings_find_nothing_else(
    client: TestClient, portal: Portal, query: str
) -> None:
    response = client.get("/search", params={"q": query})
    assert response.status_code in (200, 400)
    assert "<script>alert(1)</script>" not in response.text  # escaped, never markup
    _no_trace(response.text)
    assert set(_subject_links(response.text)) <= {portal.xinyuan}
    # and the table is still there
    assert portal.xinyuan in _subject_links(client.get("/search?q=鑫源商贸").text)


def test_a_person_is_never_found_by_a_full_id_number(client: TestClient, portal: Portal) -> None:
    response = client.get("/search", params={"q": WANG.id_number})
    assert response.status_code == 200
    assert portal.wang not in _subject_links(response.text)
    # not even echoed in the search box: what the visitor typed comes back masked
    assert WANG.id_number not in response.text and MASKED_WANG in response.text


def test_a_listed_person_is_found_by_name_with_a_masked_number(
    client: TestClient, portal: Portal
) -> None:
    response = client.get("/search", params={"q": WANG.name})
    assert portal.wang in _subject_links(response.text)
    assert MASKED_WANG in response.text and WANG.id_number not in response.text
    minor = client.get("/search", params={"q": MINOR.name})
    assert portal.minor not in _subject_links(minor.text)


# -- the subject page ---------------------------------------------------------------------------


def test_subject_page_overview_tabs_and_records(client: TestClient, portal: Portal) -> None:
    response = client.get(f"/subjects/{portal.xinyuan}")
    assert response.status_code == 200
    html = response.text
    assert XINYUAN.name in html and XINYUAN.uscc in html and FORMER_NAME in html
    assert "信用概览" in html
    for tab in ("基础信息", "行政许可", "行政处罚", "守信激励", "失信惩戒", "信用承诺"):
        assert f"{tab}（" in html
    assert f"行政处罚（{XINYUAN_PENALTIES}）" in html
    assert 'aria-current="page">基础信息' in html
    assert "来源部门：濮阳市市场监督管理局" in html and "信息更新于" in html
    assert "下载信用报告" in html


def test_records_of_a_tab_page_with_status_labels(client: TestClient, portal: Portal) -> None:
    first = client.get(f"/subjects/{portal.xinyuan}", params={"tab": "行政处罚"})
    assert first.status_code == 200
    assert first.text.count('class="record card"') == 20
    assert "公示中" in first.text and "可申请信用修复日期" in first.text
    assert 'aria-current="page">行政处罚' in first.text
    assert "第 1 / 2 页" in first.text and 'rel="next"' in first.text
    second = client.get(f"/subjects/{portal.xinyuan}", params={"tab": "行政处罚", "page": 2})
    assert second.text.count('class="record card"') == XINYUAN_PENALTIES - 20
    past = client.get(f"/subjects/{portal.xinyuan}", params={"tab": "行政处罚", "page": 9})
    assert past.status_code == 200 and "暂无" in past.text


def test_a_person_on_the_court_list_shows_only_a_masked_id(
    client: TestClient, portal: Portal
) -> None:
    response = client.get(f"/subjects/{portal.wang}", params={"tab": "失信惩戒"})
    assert response.status_code == 200
    html = response.text
    assert MASKED_WANG in html and WANG.id_number not in html
    assert "（2025）豫0902执2001号" in html
    # a person has no public report, and his own penalty is never on a public page
    assert "下载信用报告" not in html
    for tab in ("行政处罚", "行政许可", "基础信息"):
        page = client.get(f"/subjects/{portal.wang}", params={"tab": tab})
        assert WANG_PENALTY not in page.text and WANG.id_number not in page.text
    assert WANG_PENALTY not in client.get("/publicity/xzcf").text


def test_a_minor_has_no_public_page(client: TestClient, portal: Portal) -> None:
    response = client.get(f"/subjects/{portal.minor}")
    assert response.status_code == 404
    assert MINOR.name not in response.text
    assert MINOR.name not in client.get("/lists/black").text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/subjects/999999", 404),
        ("/subjects/0", 422),
        ("/subjects/-1", 422),
        ("/subjects/abc", 422),
        ("/subjects/99999999999999999999999", 422),
        ("/subjects/1%27%20OR%201=1", 422),
        ("/subjects/..%2F..%2Fetc%2Fpasswd", 404),
        ("/subjects/1?tab=不存在", 404),
        ("/subjects/1?page=0", 422),
        ("/subjects/1?page=abc", 422),
        ("/publicity/other", 404),
        ("/publicity/xzcf?date_from=2026-13-45", 400),
        ("/publicity/xzcf?date_from=2026-10-01&date_to=2026-01-01", 400),
        ("/publicity/xzcf?type=不存在的类别", 400),
        ("/publicity/xzcf?dept=" + "A" * 40, 422),
        ("/lists/grey", 404),
        ("/static/../xinyong/settings.py", 404),
    ],
)
def test_bad_paths_and_parameters_get_an_error_page(
    client: TestClient, portal: Portal, path: str, status: int
) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert "text/html" in response.headers["content-type"]
    assert "错误代码" in response.text
    _no_trace(response.text)


# -- 双公示 and 红黑榜 ----------------------------------------------------------------------------


def test_publicity_pages_with_filters(client: TestClient, portal: Portal) -> None:
    xzcf = client.get("/publicity/xzcf")
    assert xzcf.status_code == 200
    html = xzcf.text
    assert '<th scope="col">处罚决定书文号</th>' in html and 'scope="row"' in html
    assert "濮市监罚决字〔2026〕00201号" in html and 'rel="next"' in html
    assert '<label for="dept">' in html and '<label for="date_from">' in html
    assert '<option value="11410900PY0000022L">濮阳市市场监督管理局</option>' in html
    narrowed = client.get(
        "/publicity/xzcf", params={"date_from": "2026-09-01", "date_to": "2026-09-30"}
    )
    assert "00301号" in narrowed.text and "00201号" not in narrowed.text
    by_type = client.get("/publicity/xzcf", params={"type": "警告"})
    assert by_type.status_code == 200 and "没有符合条件" in by_type.text
    by_dept = client.get("/publicity/xzcf", params={"dept": "11410900PY00000577"})
    assert "没有符合条件" in by_dept.text
    xzxk = client.get("/publicity/xzxk")
    assert xzxk.status_code == 200 and "许可证书名称" in xzxk.text


def test_red_and_black_lists(client: TestClient, portal: Portal) -> None:
    red = client.get("/lists/red")
    assert red.status_code == 200 and "守信红名单" in red.text
    assert len(_subject_links(red.text)) >= 1
    black = client.get("/lists/black")
    assert black.status_code == 200
    assert HENGDA.name in black.text and WANG.name in black.text
    assert MASKED_WANG in black.text and WANG.id_number not in black.text


# -- reports and their verification --------------------------------------------------------------


def test_report_download_and_verification(client: TestClient, portal: Portal) -> None:
    number, pdf = download_report(client, portal.xinyuan)
    assert pdf.startswith(b"%PDF")
    page = client.get(f"/verify/{number}")
    assert page.status_code == 200
    assert "报告真实有效" in page.text and XINYUAN.name in page.text
    assert "信用信息概要" in page.text and "濮市监罚决字〔2026〕00201号" in page.text
    # typed in the form, with spaces and in lower case
    typed = client.get("/verify", params={"no": f" {number.lower()} "}, follow_redirects=False)
    assert typed.status_code == 303 and typed.headers["location"] == f"/verify/{number}"


def test_a_report_needs_the_forms_token(client: TestClient, portal: Portal) -> None:
    response = client.post(f"/subjects/{portal.xinyuan}/report", data={"csrf_token": "x"})
    assert response.status_code == 403 and "页面已过期" in response.text


def test_no_public_report_of_a_person(client: TestClient, portal: Portal) -> None:
    token = csrf_of(client.get("/login").text)  # a person's page has no report form
    response = client.post(f"/subjects/{portal.wang}/report", data={"csrf_token": token})
    assert response.status_code in (401, 403)
    assert "仅向本人提供" in response.text and WANG.id_number not in response.text


def test_an_altered_report_fails_verification(
    client: TestClient, portal: Portal, engine: Engine
) -> None:
    number, _ = download_report(client, portal.xinyuan)
    with engine.begin() as conn:
        stored = conn.execute(
            credit_reports.select().where(credit_reports.c.report_no == number)
        ).one()
        conn.execute(
            update(credit_reports)
            .where(credit_reports.c.report_no == number)
            .values(snapshot=stored.snapshot.replace(XINYUAN.name, "濮阳市某某商贸有限公司"))
        )
    page = client.get(f"/verify/{number}")
    assert page.status_code == 200
    assert "报告内容与签发时不一致" in page.text and "报告真实有效" not in page.text
    assert "濮阳市某某商贸有限公司" not in page.text  # an altered snapshot is not shown


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/verify/XY20261127AAAAAAAAAAAAAAAAAAAA", 404),
        ("/verify/XY2026", 400),
        ("/verify/' OR 1=1 --", 400),
        ("/verify/%3Cscript%3E", 400),
        ("/verify/..%2F..%2Fetc%2Fpasswd", 404),
        ("/verify/" + "X" * 5000, 400),
        ("/verify?no=not-a-number", 400),
    ],
)
def test_malformed_and_unknown_report_numbers(
    client: TestClient, portal: Portal, path: str, status: int
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert "text/html" in response.headers["content-type"] and "错误代码" in response.text
    assert "<script>" not in response.text
    _no_trace(response.text)


# -- the report API -------------------------------------------------------------------------------


def test_report_api_issue_verify_and_pdf(client: TestClient, portal: Portal) -> None:
    issued = client.post("/api/v1/reports", json={"subject_id": portal.hengda})
    assert issued.status_code == 201, issued.text
    body = issued.json()
    number = body["report_no"]
    assert body["links"]["verify"].endswith(f"/verify/{number}")
    checked = client.get(f"/api/v1/reports/{number}")
    assert checked.status_code == 200
    result = checked.json()
    assert result["genuine"] is True and result["stored_sha256"] == body["sha256"]
    assert result["content"]["subject"]["name"] == HENGDA.name
    pdf = client.get(f"/api/v1/reports/{number}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # the same report number renders the same document again
    assert client.get(f"/api/v1/reports/{number}.pdf").content == pdf.content


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "code"),
    [
        ("post", "/api/v1/reports", {"subject_id": 0}, 422, "REQUEST_INVALID"),
        ("post", "/api/v1/reports", {"subject_id": "1; DROP"}, 422, "REQUEST_INVALID"),
        ("post", "/api/v1/reports", {"subject_id": 1, "kind": "self"}, 422, "REQUEST_INVALID"),
        ("post", "/api/v1/reports", {"subject_id": 999999}, 404, "SUBJECT_NOT_FOUND"),
        ("get", "/api/v1/reports/XY2026", None, 400, "REPORT_NO_INVALID"),
        ("get", "/api/v1/reports/XY20261127AAAAAAAAAAAAAAAAAAAA", None, 404, "REPORT_NOT_FOUND"),
        (
            "get",
            "/api/v1/reports/XY20261127AAAAAAAAAAAAAAAAAAAA.pdf",
            None,
            404,
            "REPORT_NOT_FOUND",
        ),
        ("get", "/api/v1/reports/..%2Fsecret.pdf", None, 404, "NOT_FOUND"),
        ("get", "/api/v1/reports/XY2026%00.pdf", None, 400, "REPORT_NO_INVALID"),
    ],
)
def test_report_api_errors(
    client: TestClient,
    portal: Portal,
    method: str,
    path: str,
    payload: dict[str, object] | None,
    status: int,
    code: str,
) -> None:
    response = client.request(method.upper(), path, json=payload)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_report_api_refuses_a_person_and_an_altered_pdf(
    client: TestClient, portal: Portal, engine: Engine
) -> None:
    person = client.post("/api/v1/reports", json={"subject_id": portal.wang})
    assert person.status_code in (401, 403)
    assert person.json()["error"]["code"] == "REPORT_PERSON_SELF_ONLY"
    number = client.post("/api/v1/reports", json={"subject_id": portal.xinyuan}).json()["report_no"]
    with engine.begin() as conn:
        conn.execute(
            update(credit_reports)
            .where(credit_reports.c.report_no == number)
            .values(sha256="0" * 64)
        )
    assert client.get(f"/api/v1/reports/{number}").json()["genuine"] is False
    altered = client.get(f"/api/v1/reports/{number}.pdf")
    assert altered.status_code == 409 and altered.json()["error"]["code"] == "REPORT_ALTERED"


def test_report_downloads_are_rate_limited(
    client: TestClient, portal: Portal, app: FastAPI
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"rate_limit_report_per_minute": 1})
    assert client.post("/api/v1/reports", json={"subject_id": portal.hengda}).status_code == 201
    limited = client.post("/api/v1/reports", json={"subject_id": portal.hengda})
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    page = client.get(f"/subjects/{portal.hengda}")
    form = client.post(f"/subjects/{portal.hengda}/report", data={"csrf_token": csrf_of(page.text)})
    assert form.status_code == 429 and "访问过于频繁" in form.text
