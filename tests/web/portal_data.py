"""Realistic public data for the portal tests (pages and browser), delivered through the real
ingestion: registrations and recent penalties of companies, licences and a red list from the
synthetic sample, and the court's 失信被执行人 list with a company, an adult and a person who
was a minor when listed. 王建国 also has a penalty of his own, which must never be public.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from disclosure.rows import COURT, SXBZX_HEADERS, debtor
from fixtures.deliveries import (
    FRJC_HEADERS,
    HENGDA,
    LONGDU,
    WANG,
    XINYUAN,
    Citizen,
    Company,
    make_id,
    penalty,
    registration,
    run,
    write_csv,
)
from fixtures.site import new_site, serving
from lists.rows import NDRC, deliver, headers, list_row
from sqlalchemy import Engine, select

from xinyong.catalog.loader import Catalog
from xinyong.sample import files as sample_files
from xinyong.sample.datasets import Dept, licence_rows
from xinyong.sample.generic import generic_rows
from xinyong.sample.world import World
from xinyong.subjects.models import subjects

# 16 when the court listed him on 2025-03-10: nothing about him is ever public
MINOR = Citizen("赵小明", make_id("410928", date(2008, 6, 1), 1))
# Penalties of 鑫源商贸: more than one page of the subject page (20 a page)
XINYUAN_PENALTIES = 23
WANG_PENALTY = "濮市监罚决字〔2026〕09999号"
FORMER_NAME = "濮阳市华龙区鑫源商行"
LAST_DECISION = date(2026, 10, 30)  # before the ingestion's "today" (fixtures.deliveries.TODAY)


@dataclass(frozen=True)
class Portal:
    xinyuan: int
    hengda: int
    wang: int
    minor: int


def _sender(catalog: Catalog, dataset: str) -> Dept:
    dept = next(d for d in catalog.seed_departments.values() if dataset in d.datasets)
    return Dept(dept.uscc, dept.name)


def _penalty(subject: Company | Citizen, wsh: str, decided: date) -> dict[str, str]:
    return penalty(
        subject,
        wsh,
        处罚决定日期=f"{decided:%Y/%m/%d}",
        处罚有效期=f"{decided + timedelta(days=365):%Y/%m/%d}",
    )


def load_portal(engine: Engine, catalog: Catalog, folder: Path) -> Portal:
    folder.mkdir(parents=True, exist_ok=True)
    regs = [
        registration(XINYUAN, 曾用名=FORMER_NAME),
        registration(HENGDA, 住所="清丰县阳光路66号"),
        registration(LONGDU, 住所="濮阳县文明路12号"),
    ]
    run(engine, catalog, write_csv(folder / "frjc.csv", regs, FRJC_HEADERS), dataset="FRJC")

    rows = [
        _penalty(XINYUAN, f"濮市监罚决字〔2026〕{201 + i:05d}号", LAST_DECISION - timedelta(days=i))
        for i in range(XINYUAN_PENALTIES)
    ]
    rows.append(_penalty(HENGDA, "濮市监罚决字〔2026〕00301号", date(2026, 9, 15)))
    rows.append(_penalty(WANG, WANG_PENALTY, date(2026, 9, 20)))
    receipt = run(engine, catalog, write_csv(folder / "xzcf.csv", rows))
    assert receipt.rejected == 0, receipt.rejects

    world = World(2026, organisations=60, persons=10)
    licensor = _sender(catalog, "XZXK")
    path = folder / "xzxk.csv"
    made = list(licence_rows(world, licensor, 60))
    sample_files.write_csv(path, list(made[0].cells), made, "utf-8")
    receipt = run(engine, catalog, path, dataset="XZXK", dept=licensor)
    assert receipt.rejected == 0, receipt.rejects

    red_sender = _sender(catalog, "SXHMD")
    made = list(generic_rows(catalog.dataset("SXHMD"), world, red_sender, 5))
    path = folder / "sxhmd.csv"
    sample_files.write_csv(
        path, list(dict.fromkeys(k for r in made for k in r.cells)), made, "utf-8"
    )
    receipt = run(engine, catalog, path, dataset="SXHMD", dept=red_sender)
    assert receipt.rejected == 0, receipt.rejects

    court = [
        debtor(WANG, "（2025）豫0902执2001号"),
        debtor(MINOR, "（2025）豫0928执2002号"),
        debtor(HENGDA, "（2025）豫0922执2005号"),
    ]
    path = write_csv(folder / "sxbzx.csv", court, SXBZX_HEADERS)
    receipt = run(engine, catalog, path, dataset="SXBZX", dept=COURT)
    assert (receipt.new, receipt.rejected) == (3, 0), receipt.rejects

    with engine.connect() as conn:

        def sid(column: str, value: str) -> int:
            return int(
                conn.execute(select(subjects.c.id).where(subjects.c[column] == value)).scalar_one()
            )

        return Portal(
            xinyuan=sid("uscc", XINYUAN.uscc),
            hengda=sid("uscc", HENGDA.uscc),
            wang=sid("id_number", WANG.id_number),
            minor=sid("id_number", MINOR.id_number),
        )


__all__ = ["MINOR", "Portal", "load_portal"]


@dataclass(frozen=True)
class PortalSite:
    url: str
    portal: Portal
    engine: Engine


@contextmanager
def served_portal(folder: Path, catalog: Catalog, *, listed: bool = False) -> Iterator[PortalSite]:
    """The portal's data served by a real server (``fixtures.site``); ``listed`` also puts
    鑫源商贸 on the 严重失信主体名单 (a subject page with a banner to show)."""
    built = new_site(folder, catalog)
    portal = load_portal(built.engine, catalog, folder / "deliveries")
    if listed:
        row = list_row(headers(catalog, "YZSX"), XINYUAN, "濮发改信〔2026〕7号", NDRC)
        deliver(built.engine, catalog, folder, "YZSX", [row])
    with serving(built, catalog):
        yield PortalSite(built.url, portal, built.engine)
