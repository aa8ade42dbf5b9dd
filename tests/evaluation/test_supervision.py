"""Graded supervision (分类监管): every check answer and every bulk check row carries the
subject's supervision class with the model's inspection advice (双随机 ratio); both databases."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import Connection, select

from evaluation.rows import TODAY, company, listing, record
from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.checks.bulk import run_bulk_check
from xinyong.checks.files import OUT_HEADERS, write_bulk_result
from xinyong.checks.single import run_check
from xinyong.evaluation.definitions import model_book
from xinyong.evaluation.runs import rerun_subject, run_model
from xinyong.evaluation.service import supervision, supervision_of
from xinyong.measures.catalog import load_measures, measures_dir
from xinyong.subjects.models import subjects

CLERK = Principal(role=Role.CLERK, name="clerk", dept_uscc="11410900PY0000022L")


def _code(conn: Connection, subject_id: int) -> str:
    return str(conn.execute(select(subjects.c.uscc).where(subjects.c.id == subject_id)).scalar())


def test_checks_carry_the_class_and_the_inspection_advice(
    conn: Connection, catalog: Catalog, tmp_path: Path
) -> None:
    measures = load_measures(measures_dir(catalog), catalog)
    with conn.begin():
        good, listed, unrated = company(conn), company(conn), company(conn)
        record(conn, good, "BZRY", data={"RY_RYJB": "国家级"})
        record(conn, good, "BZRY", data={"RY_RYJB": "省级"})
        record(conn, good, "XYCN", data={"CN_LYZT": "履约"})
        listing(conn, listed, "YZSX", "HN33")
        run_model(conn, catalog, model_book(catalog).get("QYGGXY"), as_of=TODAY, actor="t")
        codes = {sid: _code(conn, sid) for sid in (good, listed, unrated)}
    with conn.begin():
        answer = run_check(
            conn,
            catalog,
            measures,
            CLERK,
            subject_code=codes[listed],
            matter="procurement",
            today=TODAY,
        ).as_dict()
    (found,) = answer["supervision"]
    assert (found["model"], found["class"], found["inspection_ratio"]) == ("QYGGXY", "D", 0.5)
    assert "重点监管" in found["advice"]
    with conn.begin():
        bulk = run_bulk_check(
            conn,
            catalog,
            measures,
            CLERK,
            [(codes[good], None), (codes[listed], None), (codes[unrated], None)],
            matter="procurement",
            today=TODAY,
        )
    assert [r.supervision for r in bulk.rows] == [
        "A类（信用风险低，抽查3%）",
        "D类（信用风险高，抽查50%）",
        "B类（信用风险一般，抽查5%）",
    ]
    # every bulk row carries the advice text of its class, the same text a single check shows
    advice = {b.code: b.advice for b in model_book(catalog).get("QYGGXY").classes}
    assert [r.supervision_advice for r in bulk.rows] == [
        f"A类：{advice['A']}",
        f"D类：{found['advice']}",
        f"B类：{advice['B']}",
    ]
    # and so does the answer file, CSV and XLSX alike (the CLI and the API write this file)
    at = OUT_HEADERS.index("抽查频次建议（双随机）")
    assert OUT_HEADERS[at - 1] == "监管分类（分类监管）"
    write_bulk_result(tmp_path / "out.csv", bulk.rows)
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))
    assert [line[at - 1 : at + 1] for line in lines[1:]] == [
        [r.supervision, r.supervision_advice] for r in bulk.rows
    ]
    assert "重点监管" in lines[2][at]
    write_bulk_result(tmp_path / "out.xlsx", bulk.rows)
    sheet = load_workbook(tmp_path / "out.xlsx", read_only=True).worksheets[0]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0][at] == "抽查频次建议（双随机）"
    assert [c[at] for c in cells[1:]] == [r.supervision_advice for r in bulk.rows]


def test_a_single_subjects_class_is_what_the_set_based_read_gives(
    conn: Connection, catalog: Catalog
) -> None:
    # the single check reads one subject's classes in one statement; the bulk check reads
    # many at once: both must pick the current run, a re-run of the subject based on it (the
    # latest), and nothing of a run no longer current
    qy = model_book(catalog).get("QYGGXY")
    with conn.begin():
        good, listed, amended = company(conn), company(conn), company(conn)
        record(conn, good, "BZRY", data={"RY_RYJB": "国家级"})
        listing(conn, listed, "YZSX", "HN33")
        run_model(conn, catalog, qy, as_of=TODAY, actor="t")
        # a re-run based on the run that is about to stop being current
        rerun_subject(conn, catalog, qy, amended, actor="t")
        listing(conn, amended, "YZSX", "HN33")
        run_model(conn, catalog, qy, as_of=TODAY, actor="t")
        rerun_subject(conn, catalog, qy, good, actor="t")
        unrated = company(conn)  # registered after every run
    with conn.begin():
        for sid in (good, listed, amended, unrated):
            assert supervision(conn, catalog, sid) == supervision_of(conn, catalog, [sid]).get(
                sid, []
            ), sid
        assert supervision(conn, catalog, unrated) == []
        assert [f["class"] for f in supervision(conn, catalog, amended)] == ["D"]
