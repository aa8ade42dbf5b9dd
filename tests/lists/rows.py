"""List-dataset rows as designating departments fill them in (shared by the lists and checks
tests), and a one-call delivery."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fixtures.deliveries import NDRC, SAMR, Company, run, write_csv
from sqlalchemy import Engine

from xinyong.catalog.loader import Catalog
from xinyong.ingest.receipt import Receipt
from xinyong.sample.datasets import Dept


def list_row(
    dataset_headers: list[str],
    company: Company,
    doc_no: str,
    dept: Dept,
    *,
    listed_on: str = "2026-03-02",
    valid_until: str = "",
    exited_on: str = "",
    exit_reason: str = "",
    list_name: str = "严重失信主体名单",
    catalog: Catalog | None = None,
    dataset: str = "YZSX",
    **cells: str,
) -> dict[str, str]:
    """One entry of a list dataset, by the shared MD_* item codes, under the dataset's own
    column names (``dataset_headers`` is kept for the call sites' readability)."""
    from xinyong.catalog.loader import load_catalog

    cat = catalog or load_catalog(Path(__file__).resolve().parents[2] / "catalog")
    values = {
        "MD_ZTMC": company.name,
        "MD_ZTLB": "法人及非法人组织",
        "MD_SHXYM": company.uscc,
        "MD_MDMC": list_name,
        "MD_RDBM": dept.name,
        "MD_RDBMDM": dept.uscc,
        "MD_RDYJ": "《河南省社会信用条例》第三十三条",
        "MD_LRSY": "拒不履行生效行政处罚决定，情节严重",
        "MD_WSH": doc_no,
        "MD_LRRQ": listed_on,
        "MD_YXQZ": valid_until,
        "MD_ZRR": company.legal_rep,
        "MD_TCRQ": exited_on,
        "MD_TCYY": exit_reason,
        "MD_SJLY": dept.name,
        "MD_SJLYDM": dept.uscc,
    }
    values.update(cells)  # more cells by item code (MD_MDLB, MD_ZRR_ZJHM, …)
    ds = cat.dataset(dataset)
    return {i.name: values.get(i.code, "") for i in ds.items}


def headers(catalog: Catalog, dataset: str) -> list[str]:
    return [i.name for i in catalog.dataset(dataset).items]


def deliver(
    engine: Engine,
    catalog: Catalog,
    tmp: Path,
    dataset: str,
    rows: list[dict[str, str]],
    dept: Dept = NDRC,
    name: str = "list.csv",
    **options: Any,
) -> Receipt:
    hs = headers(catalog, dataset)
    path = write_csv(tmp / name, rows, hs)
    return run(engine, catalog, path, dataset=dataset, dept=dept, **options)


__all__ = ["NDRC", "SAMR", "deliver", "headers", "list_row"]


def record_by_doc(engine: Engine, doc_no: str, dataset: str = "YZSX") -> dict[str, Any]:
    """The stored list record with this 认定文书号."""
    from fixtures.deliveries import stored_records

    found = [r for r in stored_records(engine, dataset) if r["data"].get("MD_WSH") == doc_no]
    assert len(found) == 1, found
    return found[0]
