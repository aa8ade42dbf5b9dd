"""How the pages write what the services answer, the way people in Puyang read it: dates as
2026年5月10日, 2099-12-31 as 长期, catalogue items under their human label, and a record's
one-line summary (文号 · 类别 · 金额 · 机关 · 日期) before its details.

Which items make the summary is catalogue data (``summary`` of each dataset); nothing here
decides what may be shown (the disclosure engine did, before the answer reached the page).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from xinyong.catalog.loader import Catalog
from xinyong.catalog.schema import Dataset, ItemType

LONG_TERM_ISO = "2099-12-31"  # how departments and the national templates write 长期
LONG_TERM_TEXT = "长期"


def day(value: Any) -> str:
    """A date as people write it: ``2026-05-10`` → 2026年5月10日, 2099-12-31 → 长期; anything
    that is not a date unchanged (empty for None)."""
    if value is None:
        return ""
    parsed = _as_date(value)
    if parsed is None:
        return str(value).strip()
    if parsed.isoformat() == LONG_TERM_ISO:
        return LONG_TERM_TEXT
    return f"{parsed.year}年{parsed.month}月{parsed.day}日"


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if len(text) != 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _value(dataset: Dataset, code: str, value: str) -> str:
    try:
        item = dataset.item(code)
    except KeyError:
        return value
    if item.type is ItemType.DATE:
        return day(value)
    if item.unit and value:
        return f"{value}{item.unit}"
    return value


def record_for_page(record: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    """A record from a service answer (``ShownRecord.as_dict()``) with what its card shows:
    ``summary`` (the parts of its one line, empty ones left out), ``details`` (every item
    under its human label, values as people write them; the delivering department's code
    is left to the card's 来源部门 line) and ``values`` (raw values by item code)."""
    dataset = catalog.datasets.get(record.get("dataset", ""))
    items: list[dict[str, Any]] = record.get("items", [])
    values = {i["code"]: i["value"] for i in items}
    if dataset is None:
        return {**record, "values": values, "summary": [], "details": items}
    spec = dataset.summary
    summary = [
        _value(dataset, code, values[code])
        for code in (spec.number, spec.kind, spec.amount)
        if code and values.get(code)
    ]
    authority = values.get(spec.authority or "") or record.get("dept_name")
    if authority:
        summary.append(authority)
    if record.get("decision_date"):
        summary.append(day(record["decision_date"]))
    details = [
        {
            "code": i["code"],
            "name": _label(dataset, i["code"], i["name"]),
            "value": _value(dataset, i["code"], i["value"]),
        }
        for i in items
        if i["code"] != dataset.source_dept_code
    ]
    until = values.get(spec.until or "")
    return {
        **record,
        "values": values,
        "summary": summary,
        "details": details,
        "until": day(until) if until else None,
    }


def _label(dataset: Dataset, code: str, fallback: str) -> str:
    try:
        return dataset.item(code).shown_name
    except KeyError:
        return fallback
