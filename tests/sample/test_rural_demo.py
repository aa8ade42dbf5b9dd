"""The rural ratings on the demo data (the `make demo` path: sample generate, sample load,
daily): the rural files load without a rejection, `daily` rates households, then villages, then
townships, and the demo shows every outcome — credit households and not, credit villages and
not, one credit township of two — each explained criterion by criterion."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, func, select

from sample.test_done_when import _load
from xinyong.accounts.roles import Principal, Role
from xinyong.catalog.loader import Catalog
from xinyong.evaluation import service
from xinyong.evaluation.models import evaluation_results
from xinyong.evaluation.runs import current_run
from xinyong.jobs import run_daily
from xinyong.sample.rural import HOUSEHOLDS, TOWNSHIPS

OPERATOR = Principal(role=Role.OPERATOR, name="test-operator")
DAY = date(2026, 12, 7)


def _grades(engine: Engine, model: str) -> dict[str, int]:
    with engine.connect() as conn:
        run = current_run(conn, model)
        rows = conn.execute(
            select(evaluation_results.c.grade, func.count())
            .where(evaluation_results.c.run_id == run.id)
            .group_by(evaluation_results.c.grade)
        )
        return {g: int(n) for g, n in rows}


def test_the_rural_ratings_run_on_the_demo_data(
    engine: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    _load(engine, catalog, tmp_path / "sample")
    with engine.begin() as conn:
        daily = run_daily(conn, as_of=DAY, actor="test", catalog_dir=catalog.root)
    assert daily.steps["evaluation.rerun"]["models_run"] == 5
    villages = sum(len(t[2]) for t in TOWNSHIPS)
    households = _grades(engine, "XYH")
    assert sum(households.values()) == villages * HOUSEHOLDS
    assert households["未评定信用户"] == 3 + 4 + 9 + 2 + 8 + 10
    assert _grades(engine, "XYC") == {"信用村": 3, "未评定信用村": 3}
    assert _grades(engine, "XYXZ") == {"信用乡镇": 1, "未评定信用乡镇": 1}
    with engine.connect() as conn:
        failing = conn.execute(
            select(evaluation_results.c.subject_id).where(
                evaluation_results.c.run_id == current_run(conn, "XYXZ").id,
                evaluation_results.c.grade == "未评定信用乡镇",
            )
        ).scalar_one()
        shown = service.explain(conn, catalog, OPERATOR, "XYXZ", failing, purpose="日常监管")
    assert shown["criteria"][0]["figure_text"] == "33.3%（1/3）"
    # one credit village of three, and 7 of its 43 borrowers in arrears (83.7 % < 90 %)
    assert [c["met"] for c in shown["criteria"]] == [False, True, True, False]
    assert shown["criteria"][3]["figure_text"] == "83.7%（36/43）"
