"""The clerk's desk (issue 14 item 2): per dataset the department may deliver, the upload
template and the data dictionary in the browser; the department named; a dry run (试算)
that checks a file and stores nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import unquote

from fastapi.testclient import TestClient
from fixtures.deliveries import HENGDA, SAMR, XINYUAN, penalty, write_csv
from fixtures.web import csrf_of, login, make_account
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from xinyong.accounts.roles import Role
from xinyong.audit.models import audit_events
from xinyong.batches.models import batches, delivery_jobs
from xinyong.catalog.loader import Catalog
from xinyong.catalog.templates import DATA_SHEET, GUIDE_COLUMNS, GUIDE_SHEET, header_name
from xinyong.departments import service as departments
from xinyong.records.models import records
from xinyong.settings import Settings


def _clerk(client: TestClient, engine: Engine, catalog: Catalog) -> tuple[str, ...]:
    make_account(engine, catalog, "samr.clerk", Role.CLERK, dept_uscc=SAMR.uscc)
    login(client, "samr.clerk")
    with engine.connect() as conn:
        dept = departments.get(conn, SAMR.uscc)
    return dept.datasets


def test_desk_names_the_department_and_links_each_deliverable_dataset(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    codes = _clerk(client, engine, catalog)
    home = client.get("/dept")
    assert home.status_code == 200
    assert f"报送部门：<strong>{SAMR.name}</strong>" in home.text
    for code in codes:
        assert f"/dept/datasets/{code}/template.xlsx" in home.text
        assert f"/dept/datasets/{code}/dictionary.csv" in home.text
    others = set(catalog.datasets) - set(codes)
    assert others, "the department delivers only some datasets"
    assert not any(f"/dept/datasets/{c}/" in home.text for c in others)


def test_template_download_is_the_catalogue_workbook(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    _clerk(client, engine, catalog)
    response = client.get("/dept/datasets/XZCF/template.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    dataset = catalog.datasets["XZCF"]
    disposition = unquote(response.headers["content-disposition"])
    assert disposition.startswith("attachment;")
    assert f"XZCF_{dataset.name}_报送模板.xlsx" in disposition
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames[:2] == [DATA_SHEET, GUIDE_SHEET]
    first = [c.value for c in wb[DATA_SHEET][1]]
    second = [c.value for c in wb[DATA_SHEET][2]]
    assert first == [header_name(i) for i in dataset.items]
    assert second == [i.code for i in dataset.items]


def test_dictionary_lists_every_item_with_type_requirement_and_values(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    _clerk(client, engine, catalog)
    response = client.get("/dept/datasets/XZCF/dictionary.csv")
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == GUIDE_COLUMNS
    dataset = catalog.datasets["XZCF"]
    by_code = {r[0]: r for r in rows[1:]}
    assert list(by_code) == [i.code for i in dataset.items]
    for item in dataset.items:
        assert by_code[item.code][1] == item.name
        assert by_code[item.code][3] in ("必填", "选填") or by_code[item.code][3].startswith(
            "条件必填"
        )
        if item.required:
            assert by_code[item.code][3] == "必填"
    enums = [i for i in dataset.items if i.enum]
    assert enums and all(by_code[i.code][4] for i in enums)


def test_a_dataset_the_department_does_not_deliver_is_not_offered(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    codes = _clerk(client, engine, catalog)
    other = next(c for c in catalog.datasets if c not in codes)
    for suffix in ("template.xlsx", "dictionary.csv"):
        response = client.get(f"/dept/datasets/{other}/{suffix}")
        assert response.status_code == 404 and "DATASET_NOT_DELIVERABLE" in response.text
    assert client.get("/dept/datasets/NOPE/dictionary.csv").status_code == 404


def test_an_operator_downloads_any_dataset_and_an_auditor_none(
    client: TestClient, engine: Engine, catalog: Catalog
) -> None:
    make_account(engine, catalog, "ops.one", Role.OPERATOR)
    login(client, "ops.one")
    for code in catalog.datasets:
        assert client.get(f"/dept/datasets/{code}/dictionary.csv").status_code == 200
    make_account(engine, catalog, "audit.one", Role.AUDITOR)
    login(client, "audit.one")
    assert client.get("/dept/datasets/XZCF/template.xlsx").status_code == 403


def _counts(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (batches, delivery_jobs, records, audit_events)
        )


def test_a_dry_run_checks_the_whole_file_and_stores_nothing(
    client: TestClient, engine: Engine, catalog: Catalog, web_settings: Settings, tmp_path: Path
) -> None:
    _clerk(client, engine, catalog)
    home = client.get("/dept")
    assert 'name="dry_run"' in home.text
    path = write_csv(
        tmp_path / "处罚.csv",
        [
            penalty(XINYUAN, "濮市监罚决字〔2024〕00011号"),
            penalty(HENGDA, "濮市监罚决字〔2024〕00012号", 处罚决定日期="2024-13-45"),
        ],
        encoding="gbk",
    )
    uploads = web_settings.data_dir / "uploads"
    before_files = set(uploads.iterdir()) if uploads.exists() else set()
    before = _counts(engine)
    with path.open("rb") as fh:
        response = client.post(
            "/dept/batches",
            data={"csrf_token": csrf_of(home.text), "dataset": "XZCF", "dry_run": "1"},
            files={"file": ("处罚.csv", fh, "text/csv")},
            follow_redirects=False,
        )
    assert response.status_code == 200, response.text
    assert "这是试算：没有任何数据入库，也没有生成批次" in response.text
    assert "收到 2 条" in response.text and "将新增 1" in response.text
    assert "将被拒 1" in response.text and "处罚决定日期" in response.text
    assert _counts(engine) == before
    after_files = set(uploads.iterdir()) if uploads.exists() else set()
    assert after_files == before_files


def test_a_dry_run_of_a_dataset_the_department_may_not_deliver_is_refused(
    client: TestClient, engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    codes = _clerk(client, engine, catalog)
    other = next(c for c in catalog.datasets if c not in codes)
    home = client.get("/dept")
    path = write_csv(tmp_path / "x.csv", [penalty(XINYUAN, "濮市监罚决字〔2024〕00013号")])
    with path.open("rb") as fh:
        response = client.post(
            "/dept/batches",
            data={"csrf_token": csrf_of(home.text), "dataset": other, "dry_run": "1"},
            files={"file": ("x.csv", fh, "text/csv")},
        )
    assert response.status_code == 422 and "DEPT_DATASET_NOT_ALLOWED" in response.text
