"""Runs of an evaluation model (评价批次): a full run scores every subject the model covers
with one INSERT … SELECT and then moves the model's pointer to it, in the caller's
transaction, so readers switch at commit and never see a half-written run. A subject's re-run
(after an objection to its grade) amends the current full run for that subject alone.

Every run stays: a subject's result at any past run is read by the run's id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, literal, select, update

from xinyong import clock
from xinyong.catalog.loader import Catalog
from xinyong.errors import NotFound
from xinyong.evaluation import rating
from xinyong.evaluation.definitions import AnyModel, RatingModel, model_book
from xinyong.evaluation.models import evaluation_current, evaluation_results, evaluation_runs
from xinyong.evaluation.scoring import Bound, model_datasets, scored
from xinyong.lists.models import list_events
from xinyong.records.models import records
from xinyong.subjects.models import subjects

FULL = "full"
SUBJECT = "subject"


@dataclass(frozen=True)
class Run:
    id: int
    model: str
    as_of: date
    scope: str
    subject_id: int | None
    base_run_id: int | None
    subjects: int
    indicators: tuple[str, ...]
    model_hash: str
    started_at: datetime
    finished_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.id,
            "model": self.model,
            "as_of": self.as_of.isoformat(),
            "scope": self.scope,
            "subjects": self.subjects,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
        }


def model_hash(catalog: Catalog, model: AnyModel) -> str:
    path = model_book(catalog).files[model.code]
    return hashlib.sha256(path.read_bytes()).hexdigest()


def datasets_of(catalog: Catalog, model: AnyModel) -> list[str]:
    """Every dataset whose records the model reads."""
    if isinstance(model, RatingModel):
        return rating.datasets(catalog, model)
    return model_datasets(catalog, model)


def member_runs(conn: Connection, model: AnyModel) -> dict[str, int]:
    """The current run of every model whose results a rating reads (model code → run id)."""
    if not isinstance(model, RatingModel):
        return {}
    out = {}
    for code in model.members_of():
        try:
            out[code] = current_run(conn, code).id
        except NotFound as exc:
            raise NotFound(
                "EVAL_MEMBER_NOT_RUN",
                f"评价模型 {model.code} 依据模型 {code} 的结果，请先执行 xinyong evaluate {code}",
            ) from exc
    return out


def statement(
    conn: Connection,
    catalog: Catalog,
    model: AnyModel,
    on: date,
    *,
    subject_id: int | None = None,
    members: dict[str, int] | None = None,
) -> Bound:
    """The statement scoring (or rating) the model's subjects on ``on``; a rating reads its
    member models' runs ``members`` (their current runs when not given)."""
    if isinstance(model, RatingModel):
        found = member_runs(conn, model) if members is None else members
        area = rating.unit_area(conn, model, subject_id, on) if subject_id is not None else None
        return rating.rated(catalog, model, on, found, subject_id=subject_id, area=area)
    return scored(catalog, model, on, subject_id=subject_id)


def run_members(conn: Connection, run: Run) -> dict[str, int] | None:
    """The member runs a rating's run read (None for a run of a score model)."""
    stored = conn.execute(
        select(evaluation_runs.c.inputs).where(evaluation_runs.c.id == run.id)
    ).scalar_one()
    found = json.loads(stored).get("members")
    return {str(k): int(v) for k, v in found.items()} if found is not None else None


def inputs_of(conn: Connection, catalog: Catalog, model: AnyModel) -> str:
    """What the model's inputs look like now: its datasets' records (how many, last change),
    the list events and the subjects, and for a rating the member models' current runs.
    Cheap aggregates over indexed columns."""
    names = datasets_of(catalog, model)
    extra = [a.dataset for a in (model.industry, model.district) if a is not None]
    members = member_runs(conn, model) if isinstance(model, RatingModel) else None
    rec = conn.execute(
        select(func.count(), func.max(records.c.updated_at)).where(
            records.c.dataset.in_(sorted({*names, *extra}))
        )
    ).one()
    events = conn.execute(select(func.max(list_events.c.id))).scalar()
    subj = conn.execute(select(func.count(), func.max(subjects.c.updated_at))).one()
    return json.dumps(
        {
            "records": [rec[0], str(rec[1])],
            "list_events": events,
            "subjects": [subj[0], str(subj[1])],
            **({"members": members} if members is not None else {}),
        },
        sort_keys=True,
    )


def run_model(
    conn: Connection,
    catalog: Catalog,
    model: AnyModel,
    *,
    as_of: date,
    actor: str,
) -> Run:
    """Score every subject of ``model`` for ``as_of`` as a new run and make it current. The
    caller commits: until then no reader sees the run, after it every reader does."""
    started = clock.now(conn)
    run_id = _new_run(conn, catalog, model, as_of, actor, started, FULL, None, None)
    _insert_results(conn, run_id, statement(conn, catalog, model, as_of))
    count = conn.execute(
        select(func.count()).where(evaluation_results.c.run_id == run_id)
    ).scalar_one()
    conn.execute(
        update(evaluation_runs)
        .where(evaluation_runs.c.id == run_id)
        .values(subjects=count, finished_at=clock.now(conn))
    )
    _switch(conn, model.code, run_id)
    return get_run(conn, run_id)


def rerun_subject(
    conn: Connection, catalog: Catalog, model: AnyModel, subject_id: int, *, actor: str
) -> Run:
    """Score one subject again, for today, amending the model's current run for it (the
    outcome of an objection to its grade)."""
    base = current_run(conn, model.code)
    now = clock.now(conn)
    as_of = clock.today(conn)
    run_id = _new_run(conn, catalog, model, as_of, actor, now, SUBJECT, subject_id, base.id)
    _insert_results(conn, run_id, statement(conn, catalog, model, as_of, subject_id=subject_id))
    conn.execute(
        update(evaluation_runs)
        .where(evaluation_runs.c.id == run_id)
        .values(subjects=1, finished_at=clock.now(conn))
    )
    return get_run(conn, run_id)


RESULT_COLUMNS = ("subject_id", "score", "grade", "class", "hard", "points", "industry", "district")


def _insert_results(conn: Connection, run_id: int, query: Bound) -> None:
    """The whole run in one INSERT … SELECT: the database does the work, nothing is fetched."""
    conn.execute(
        insert(evaluation_results).from_select(
            ["run_id", *RESULT_COLUMNS],
            select(
                literal(run_id).label("run_id"),
                *(query.statement.selected_columns[c] for c in RESULT_COLUMNS),
            ),
        ),
        query.params,
    )


def _new_run(
    conn: Connection,
    catalog: Catalog,
    model: AnyModel,
    as_of: date,
    actor: str,
    started: datetime,
    scope: str,
    subject_id: int | None,
    base_run_id: int | None,
) -> int:
    return int(
        conn.execute(
            insert(evaluation_runs)
            .values(
                model=model.code,
                as_of=as_of,
                scope=scope,
                subject_id=subject_id,
                base_run_id=base_run_id,
                subjects=0,
                inputs=inputs_of(conn, catalog, model),
                model_hash=model_hash(catalog, model),
                indicators=json.dumps([i.code for i in model.indicators]),
                actor=actor,
                started_at=started,
                finished_at=started,
            )
            .returning(evaluation_runs.c.id)
        ).scalar_one()
    )


def _switch(conn: Connection, model: str, run_id: int) -> None:
    now = clock.now(conn)
    changed = conn.execute(
        update(evaluation_current)
        .where(evaluation_current.c.model == model)
        .values(run_id=run_id, switched_at=now)
    ).rowcount
    if not changed:
        conn.execute(insert(evaluation_current).values(model=model, run_id=run_id, switched_at=now))


def _run_of(row: Any) -> Run:
    return Run(
        id=row.id,
        model=row.model,
        as_of=row.as_of,
        scope=row.scope,
        subject_id=row.subject_id,
        base_run_id=row.base_run_id,
        subjects=row.subjects,
        indicators=tuple(json.loads(row.indicators)),
        model_hash=row.model_hash,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def get_run(conn: Connection, run_id: int) -> Run:
    row = conn.execute(select(evaluation_runs).where(evaluation_runs.c.id == run_id)).first()
    if row is None:
        raise NotFound("EVAL_RUN_NOT_FOUND", f"没有评价批次 {run_id}")
    return _run_of(row)


def current_run(conn: Connection, model: str) -> Run:
    run_id = conn.execute(
        select(evaluation_current.c.run_id).where(evaluation_current.c.model == model)
    ).scalar()
    if run_id is None:
        raise NotFound(
            "EVAL_NOT_RUN", f"评价模型 {model} 尚未运行，请先执行 xinyong evaluate {model}"
        )
    return get_run(conn, run_id)


def list_runs(conn: Connection, model: str, limit: int = 50) -> list[Run]:
    rows = conn.execute(
        select(evaluation_runs)
        .where(evaluation_runs.c.model == model, evaluation_runs.c.scope == FULL)
        .order_by(evaluation_runs.c.id.desc())
        .limit(limit)
    )
    return [_run_of(r) for r in rows]


@dataclass(frozen=True)
class Result:
    run: Run
    subject_id: int
    score: float
    grade: str
    klass: str | None
    hard: str | None
    points: tuple[float, ...]
    industry: str | None
    district: str | None


def result_of(
    conn: Connection, model: str, subject_id: int, *, run_id: int | None = None
) -> Result:
    """The subject's result in run ``run_id``, else in the current run as amended by the
    subject's own re-runs since."""
    if run_id is None:
        base = current_run(conn, model)
        amended = conn.execute(
            select(func.max(evaluation_runs.c.id)).where(
                evaluation_runs.c.base_run_id == base.id,
                evaluation_runs.c.subject_id == subject_id,
            )
        ).scalar()
        run = get_run(conn, amended) if amended is not None else base
    else:
        run = get_run(conn, run_id)
        if run.model != model:
            raise NotFound("EVAL_RUN_NOT_FOUND", f"评价批次 {run_id} 不属于模型 {model}")
    row = conn.execute(
        select(evaluation_results).where(
            evaluation_results.c.run_id == run.id, evaluation_results.c.subject_id == subject_id
        )
    ).first()
    if row is None:
        raise NotFound("EVAL_NO_RESULT", f"该主体不在评价模型 {model} 第 {run.id} 批次的评价范围内")
    return Result(
        run=run,
        subject_id=subject_id,
        score=float(row.score),
        grade=row.grade,
        klass=row._mapping["class"],
        hard=row.hard,
        points=tuple(float(p) for p in json.loads(row.points)),
        industry=row.industry,
        district=row.district,
    )


def due(conn: Connection, catalog: Catalog, model: AnyModel, on: date) -> bool:
    """Does ``daily`` need to run ``model`` for ``on``? When it never ran, when its inputs or
    its file changed, when a counted record or list entry ended since the last run's day (an
    expiry changes results without touching a row), or at the turn of a month (decay bands)."""
    try:
        last = current_run(conn, model.code)
    except NotFound:
        return True
    if last.as_of >= on:
        return False
    stored = conn.execute(
        select(evaluation_runs.c.inputs).where(evaluation_runs.c.id == last.id)
    ).scalar_one()
    if stored != inputs_of(conn, catalog, model) or last.model_hash != model_hash(catalog, model):
        return True
    if (last.as_of.year, last.as_of.month) != (on.year, on.month):
        return True
    names = datasets_of(catalog, model)
    ended = conn.execute(
        select(func.count()).where(
            records.c.dataset.in_(names),
            records.c.publicity_max_end >= last.as_of,
            records.c.publicity_max_end < on,
        )
    ).scalar_one()
    from_lists = conn.execute(
        select(func.count()).where(
            list_events.c.valid_until >= last.as_of, list_events.c.valid_until < on
        )
    ).scalar_one()
    return bool(ended or from_lists)
