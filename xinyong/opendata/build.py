"""Daily bulk downloads (开放数据): per public dataset, CSV, JSON lines and Parquet, with a data
dictionary, the licence statement of ``catalog/opendata.yaml`` and SHA-256 checksums.

What goes in is decided by the disclosure engine, as for every public output: the rows are the
records ``disclosure.public_sql`` selects on the day (公开公示 datasets, in force, persons only
where the law publishes them), minors left out (``was_minor``), and each record's items as
``disclosure.public_values`` shows them to the public (phones and addresses out, ID numbers
masked). Every cell of the CSV is inert text (``cells.safe_text``).

A build is written into a fresh folder next to the published ones and made current by replacing
``latest.json`` (one atomic rename), so a reader never sees half a build; the oldest builds past
``keep_days`` are removed. Rows are streamed and Parquet is written in row groups: memory does
not grow with the data.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, select

from xinyong import clock, yamlio
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.catalog.schema import Dataset, Disclosure, Item, ItemType
from xinyong.cells import safe_text
from xinyong.daily import DailyRun
from xinyong.departments import service as departments
from xinyong.disclosure.state_rules import state_rules
from xinyong.disclosure.view import public_sql, public_values, was_minor
from xinyong.errors import CatalogError
from xinyong.records.models import records
from xinyong.subjects.models import subjects
from xinyong.subjects.refs import PERSON

LATEST = "latest.json"
ROW_GROUP = 50_000
# columns every file carries before the dataset's items: (key, 中文名, what it is)
META = (
    ("record_id", "记录编号", "平台内记录编号，同一记录更正后编号不变"),
    ("state", "公示状态", "下载之日的公示状态"),
    ("dept_name", "报送部门", "报送该记录的部门"),
    ("publicity_max_end", "公示截止日期", "公示期满之日；为空表示未设期限"),
)


@dataclass(frozen=True)
class Statement:
    publisher: str
    licence_name: str
    licence_text: str
    contact: str
    keep_days: int


def statement(catalog_root: Path) -> Statement:
    path = catalog_root / "opendata.yaml"
    try:
        raw = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
        return Statement(
            publisher=str(raw["publisher"]),
            licence_name=str(raw["licence"]["name"]),
            licence_text=str(raw["licence"]["text"]).strip(),
            contact=str(raw.get("contact", "")),
            keep_days=int(raw.get("keep_days", 7)),
        )
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise CatalogError("OPENDATA_CONFIG_INVALID", f"{path}: 开放数据配置有误：{exc}") from None


def public_datasets(catalog: Catalog) -> list[Dataset]:
    return [d for d in catalog.datasets.values() if d.disclosure is Disclosure.PUBLIC]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Writers:
    """The three files of one dataset, fed row by row."""

    def __init__(self, folder: Path, dataset: Dataset) -> None:
        items = public_items(dataset)
        self.codes = [k for k, _, _ in META] + [i.code for i in items]
        names = [n for _, n, _ in META] + [i.name for i in items]
        code = dataset.code
        self.paths = [folder / f"{code}.csv", folder / f"{code}.jsonl", folder / f"{code}.parquet"]
        # UTF-8 with a BOM: Excel, which most readers open a CSV with, then reads Chinese
        self._csv_file = self.paths[0].open("w", encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(names)
        self._jsonl = self.paths[1].open("w", encoding="utf-8")
        self._schema = pa.schema([(c, pa.string()) for c in self.codes])
        self._parquet = pq.ParquetWriter(self.paths[2], self._schema, compression="zstd")
        self._batch: list[dict[str, str | None]] = []
        self.rows = 0

    def add(self, row: dict[str, str | None]) -> None:
        self._csv.writerow([safe_text(row.get(c)) for c in self.codes])
        self._jsonl.write(
            json.dumps(
                {c: row[c] for c in self.codes if row.get(c) is not None}, ensure_ascii=False
            )
            + "\n"
        )
        self._batch.append(row)
        self.rows += 1
        if len(self._batch) >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        columns = {c: [r.get(c) for r in self._batch] for c in self.codes}
        self._parquet.write_table(pa.table(columns, schema=self._schema))
        self._batch = []

    def close(self) -> None:
        if self._batch or self.rows == 0:
            self._flush()
        self._csv_file.close()
        self._jsonl.close()
        self._parquet.close()


def public_items(dataset: Dataset) -> list[Item]:
    """The items a public file has a column for: a masked item never appears, except an ID
    number, which appears masked (``public_values``)."""
    return [i for i in dataset.items if not i.mask or i.type is ItemType.ID_NUMBER]


def _dictionary(dataset: Dataset) -> dict[str, Any]:
    return {
        "dataset": dataset.code,
        "name": dataset.name,
        "update_cycle": dataset.update_cycle,
        "fields": [{"code": k, "name": n, "description": d} for k, n, d in META]
        + [
            {
                "code": i.code,
                "name": i.name,
                "type": i.type.value,
                "description": i.description or "",
                "note": "身份证号码已脱敏（前6位和后4位）" if i.type is ItemType.ID_NUMBER else "",
            }
            for i in public_items(dataset)
        ],
    }


def _rows(conn: Connection, catalog: Catalog, dataset: Dataset, on: date) -> Any:
    r, s = records, subjects
    query = (
        select(
            r.c.id,
            r.c.state,
            r.c.dept_uscc,
            r.c.data,
            r.c.decision_date,
            r.c.publicity_max_end,
            s.c.category,
            s.c.id_number,
        )
        .select_from(r.join(s, s.c.id == r.c.subject_id))
        .where(r.c.dataset == dataset.code, public_sql(catalog, (dataset.code,), on))
        .order_by(r.c.id)
        .execution_options(yield_per=5000)
    )
    return conn.execute(query)


def build(conn: Connection, catalog: Catalog, out_dir: Path, *, on: date) -> dict[str, Any]:
    """Write the day's downloads under ``out_dir`` and make them current; returns the index."""
    said = statement(catalog.root)
    out_dir.mkdir(parents=True, exist_ok=True)
    folder = out_dir / f"{on.isoformat()}-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    rules = state_rules(catalog.root)
    names = departments.names(conn)
    files: list[dict[str, Any]] = []
    datasets: list[dict[str, Any]] = []
    try:
        for dataset in public_datasets(catalog):
            writers = _Writers(folder, dataset)
            for row in _rows(conn, catalog, dataset, on):
                person = row.category == PERSON
                if person and was_minor(row.id_number, row.decision_date):
                    continue  # nothing about a minor is ever public
                values: dict[str, str | None] = dict(
                    public_values(dataset, row.data, person=person)
                )
                values.update(
                    record_id=str(row.id),
                    state=rules.label(row.state),
                    dept_name=names.get(row.dept_uscc, row.dept_uscc),
                    publicity_max_end=row.publicity_max_end.isoformat()
                    if row.publicity_max_end
                    else None,
                )
                writers.add(values)
            writers.close()
            dict_path = folder / f"{dataset.code}.dictionary.json"
            dict_path.write_text(
                json.dumps(_dictionary(dataset), ensure_ascii=False, indent=2), encoding="utf-8"
            )
            datasets.append({"code": dataset.code, "name": dataset.name, "rows": writers.rows})
            for path in [*writers.paths, dict_path]:
                files.append(
                    {
                        "dataset": dataset.code,
                        "file": path.name,
                        "bytes": path.stat().st_size,
                        "sha256": _sha256(path),
                    }
                )
        licence = folder / "LICENCE.txt"
        licence.write_text(
            f"{said.licence_name}\n\n{said.licence_text}\n\n发布单位：{said.publisher}\n"
            f"数据日期：{on.isoformat()}\n联系方式：{said.contact}\n",
            encoding="utf-8",
        )
        files.append(
            {"dataset": None, "file": licence.name, "bytes": licence.stat().st_size,
             "sha256": _sha256(licence)}
        )  # fmt: skip
        (folder / "SHA256SUMS").write_text(
            "".join(f"{f['sha256']}  {f['file']}\n" for f in files), encoding="utf-8"
        )
        index = {
            "as_of": on.isoformat(),
            "generated_at": clock.now(conn).isoformat(),
            "folder": folder.name,
            "publisher": said.publisher,
            "licence": said.licence_name,
            "datasets": datasets,
            "files": files,
        }
        (folder / "index.json").write_text(
            json.dumps(index, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    tmp = out_dir / f".{LATEST}.{uuid.uuid4().hex}"
    tmp.write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, out_dir / LATEST)  # the one atomic step that publishes the build
    _prune(out_dir, folder.name, said.keep_days)
    return index


def _prune(out_dir: Path, current: str, keep: int) -> None:
    builds = sorted(
        (p for p in out_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    for old in builds[: max(0, len(builds) - keep)]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)


def latest(out_dir: Path) -> dict[str, Any] | None:
    """The index of the current build, or None before the first."""
    try:
        found: dict[str, Any] = json.loads((out_dir / LATEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found


def daily_step(conn: Connection, run: DailyRun) -> dict[str, int]:
    """The daily step: rebuild the downloads for ``run.as_of`` where the run names a folder
    (``xinyong daily`` gives ``<data_dir>/opendata``; a run without one builds nothing)."""
    if run.opendata_dir is None:
        return {"built": 0}
    index = build(conn, load_catalog(run.catalog_dir), run.opendata_dir, on=run.as_of)
    return {"built": 1, "rows": sum(d["rows"] for d in index["datasets"])}


def built_at(index: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(index["generated_at"])
    except (KeyError, ValueError):
        return None
