"""Writing sample rows as the files departments send, and the demo's set of deliveries."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from xinyong import yamlio
from xinyong.catalog.lists import ListKind
from xinyong.catalog.loader import Catalog
from xinyong.catalog.schema import Department
from xinyong.sample.datasets import (
    PENALTY_HEADERS,
    Dept,
    SampleRow,
    licence_rows,
    penalty_rows,
    registration_rows,
)
from xinyong.sample.generic import generic_rows
from xinyong.sample.rural import rural_rows
from xinyong.sample.world import World

README = """# 样例数据（合成）

本目录中的文件由 `xinyong sample generate` 生成，全部为**合成数据**：企业名称由常见字号拼成，
统一社会信用代码、注册号和身份证号按国家标准算出校验位但不属于任何真实主体，身份证号使用濮阳
真实的行政区划代码和虚构的出生日期、顺序码。部门名称是濮阳市真实单位，其代码为合成代码。

每个文件约有 3% 的错误行（各种错误类型各有若干），用于演示回执中的拒绝原因。
乡村信贷信息和农户信用信息（濮阳县两个合成乡镇、六个村、120户）供信用户、信用村、信用乡镇评定演示，
各村达标情况不同，两个乡镇一个达到信用乡镇条件、一个未达到。
`manifest.yaml` 列出每个文件的数据集和报送部门，`xinyong sample load` 按此顺序归集。
"""


def write_csv(path: Path, headers: list[str], rows: Iterable[SampleRow], encoding: str) -> int:
    n = 0
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([row.cells.get(h, "") for h in headers])
            n += 1
    return n


def write_xlsx(path: Path, headers: list[str], rows: Iterable[SampleRow]) -> int:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    ws.append(headers)
    n = 0
    for row in rows:
        ws.append([row.cells.get(h) or None for h in headers])
        n += 1
    wb.save(path)
    return n


def write_jsonl(path: Path, rows: Iterable[SampleRow]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps({k: v for k, v in row.cells.items() if v}, ensure_ascii=False))
            fh.write("\n")
            n += 1
    return n


@dataclass(frozen=True)
class Delivery:
    file: str
    dataset: str
    dept: str
    rows: int


def _dept(catalog: Catalog, dataset: str, hint: str) -> Dept:
    """The department of the catalogue whose name contains ``hint`` and may submit ``dataset``.

    Sample files are made for the catalogue's own (synthetic) departments, the ones a new
    database is seeded with; loading them still goes through the departments table."""
    for d in catalog.seed_departments.values():
        if hint in d.name and dataset in d.datasets:
            return Dept(d.uscc, d.name)
    for d in catalog.seed_departments.values():
        if dataset in d.datasets:
            return Dept(d.uscc, d.name)
    raise LookupError(f"目录中没有可报送 {dataset} 的部门")


def generate(out: Path, catalog: Catalog, *, seed: int = 2016, scale: int = 1) -> list[Delivery]:
    """Write the demo's deliveries into ``out`` and return them in the order to load them."""
    out.mkdir(parents=True, exist_ok=True)
    world = World(seed, organisations=2000 * scale, persons=500 * scale)
    samr = _dept(catalog, "FRJC", "市场监督管理局")
    env = _dept(catalog, "XZCF", "生态环境")
    build = _dept(catalog, "XZXK", "住房和城乡建设")
    transport = _dept(catalog, "XZXK", "交通运输")
    reg = list(registration_rows(world, samr))
    lic = list(licence_rows(world, build, 800 * scale))
    # (file, dataset, department, how to write it), in the order to load them: registrations
    # first, so that later rows find the names and 注册号 they refer to.
    plan: list[tuple[str, str, Dept, Callable[[Path], int]]] = [
        (
            "法人登记基础信息_市场监管局.csv",
            "FRJC",
            samr,
            lambda p: write_csv(p, list(reg[0].cells), reg, "utf-8-sig"),
        ),
        (
            "行政处罚_市场监管局_GBK.csv",
            "XZCF",
            samr,
            lambda p: write_csv(
                p, PENALTY_HEADERS, penalty_rows(world, samr, 3000 * scale, other_dept=env), "gbk"
            ),
        ),
        (
            "行政处罚_生态环境局.xlsx",
            "XZCF",
            env,
            lambda p: write_xlsx(
                p, PENALTY_HEADERS, penalty_rows(world, env, 400 * scale, other_dept=samr)
            ),
        ),
        (
            "行政许可_住房和城乡建设局.xlsx",
            "XZXK",
            build,
            lambda p: write_xlsx(p, list(lic[0].cells), lic),
        ),
        (
            "行政许可_交通运输局.jsonl",
            "XZXK",
            transport,
            lambda p: write_jsonl(p, licence_rows(world, transport, 300 * scale)),
        ),
    ]
    pboc = _dept(catalog, "NHXY", "人民银行")
    rural = rural_rows(seed, pboc)
    plan += [
        # the villages' and townships' bodies and figures, then their households
        (
            "乡村信贷信息_人民银行.csv",
            "XCXD",
            pboc,
            lambda p: write_csv(p, list(rural.areas[0].cells), rural.areas, "utf-8"),
        ),
        (
            "农户信用信息_人民银行.xlsx",
            "NHXY",
            pboc,
            lambda p: write_xlsx(p, list(rural.households[0].cells), rural.households),
        ),
    ]
    plan.extend(_generic_plan(catalog, world, 120 * scale, {code for _, code, _, _ in plan}))
    deliveries = [
        Delivery(name, dataset, dept.uscc, write(out / name)) for name, dataset, dept, write in plan
    ]
    (out / "README.md").write_text(README, encoding="utf-8")
    manifest = [d.__dict__ for d in deliveries]
    (out / "manifest.yaml").write_text(
        yaml.safe_dump({"deliveries": manifest}, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return deliveries


def _generic_plan(
    catalog: Catalog, world: World, rows: int, done: set[str]
) -> list[tuple[str, str, Dept, Callable[[Path], int]]]:
    """One delivery of every other dataset, by the first department allowed to send it, in
    turn as CSV, XLSX and JSON lines. A list dataset is delivered by each department that
    designates one of its kinds (名单目录), each row on a kind of its department, the rows
    shared out among them; the red list starts half-way through the subject pools, so that
    few red-list subjects are also on a black list (the conflict rules refuse those)."""
    plan: list[tuple[str, str, Dept, Callable[[Path], int]]] = []
    n = 0
    for ds in (d for d in catalog.datasets.values() if d.code not in done):
        for i, (sender, kind, count) in enumerate(_senders(catalog, ds.code, rows)):
            dept = Dept(sender.uscc, sender.name)
            # black lists of different departments name different subjects, all below half
            offset = 0.5 if ds.list_kind == "red" else 0.04 * i
            made = list(generic_rows(ds, world, dept, count, kind=kind, offset=offset))
            short = sender.name.removeprefix("濮阳市").removeprefix("国家税务总局濮阳市")
            stem = f"{ds.name}_{short}"
            if n % 3 == 0:
                plan.append((f"{stem}.csv", ds.code, dept, _csv(_headers(made), made)))
            elif n % 3 == 1:
                plan.append((f"{stem}.xlsx", ds.code, dept, _xlsx(_headers(made), made)))
            else:
                plan.append((f"{stem}.jsonl", ds.code, dept, _jsonl(made)))
            n += 1
    return plan


def _headers(made: list[SampleRow]) -> list[str]:
    return list(dict.fromkeys(k for r in made for k in r.cells))


def _senders(
    catalog: Catalog, dataset: str, rows: int
) -> list[tuple[Department, ListKind | None, int]]:
    """Who delivers ``dataset`` in the demo, on which list kind, how many rows."""
    kinds = catalog.lists.of_dataset(dataset)
    if not kinds:
        sender = next((d for d in catalog.seed_departments.values() if dataset in d.datasets), None)
        return [] if sender is None else [(sender, None, rows)]
    out: list[tuple[Department, ListKind | None, int]] = []
    seen: set[str] = set()
    for kind in kinds:  # the first designator of each kind, each department once
        uscc = next(iter(sorted(catalog.lists.designated_by[kind.code])))
        if uscc not in seen:
            seen.add(uscc)
            out.append((catalog.seed_departments[uscc], kind, 0))
    share = max(1, rows // len(out))
    return [(d, k, share) for d, k, _ in out]


def _csv(headers: list[str], rows: list[SampleRow]) -> Callable[[Path], int]:
    return lambda p: write_csv(p, headers, rows, "utf-8")


def _xlsx(headers: list[str], rows: list[SampleRow]) -> Callable[[Path], int]:
    return lambda p: write_xlsx(p, headers, rows)


def _jsonl(rows: list[SampleRow]) -> Callable[[Path], int]:
    return lambda p: write_jsonl(p, rows)


def read_manifest(folder: Path) -> list[Delivery]:
    raw = yamlio.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    return [Delivery(**d) for d in raw["deliveries"]]
