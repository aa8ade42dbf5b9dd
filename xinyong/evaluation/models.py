"""Tables of credit evaluation (信用评价).

``evaluation_runs``: one row per run of a model for a day; ``evaluation_results``: each scored
subject's score, grade, class and points by indicator in that run; ``evaluation_current``:
which run of each model is the one readers see. A run is written whole in its transaction and
the pointer moves last, in the same transaction: a half-finished run is never visible, and
every past run stays readable.
"""

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from xinyong.db import Id, metadata

evaluation_runs = Table(
    "evaluation_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("model", String(32), nullable=False),
    Column("as_of", Date, nullable=False),  # the day the run scores for
    # full: every subject; subject: one subject's re-run after an objection to its grade
    Column("scope", String(8), nullable=False),
    Column("subject_id", Id),  # the subject of a scope=subject run
    Column("base_run_id", Id),  # the full run a subject re-run amends
    Column("subjects", Integer, nullable=False),
    # what the inputs looked like (records, list events): daily reruns a model when it changed
    Column("inputs", Text, nullable=False),
    Column("model_hash", String(64), nullable=False),  # the model file's content
    Column("indicators", Text, nullable=False),  # JSON: indicator codes in points order
    Column("actor", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
)
Index("ix_evaluation_runs_model_id", evaluation_runs.c.model, evaluation_runs.c.id)

evaluation_results = Table(
    "evaluation_results",
    metadata,
    Column("run_id", Id, ForeignKey("evaluation_runs.id"), nullable=False),
    Column("subject_id", Id, ForeignKey("subjects.id"), nullable=False),
    Column("score", Float, nullable=False),
    Column("grade", String(16), nullable=False),
    Column("class", String(8)),  # supervision class (A/B/C/D) where the model has classes
    Column("hard", String(32)),  # the hard rule that decided, if any
    Column("points", Text, nullable=False),  # JSON list: points per indicator, run's order
    Column("industry", String(16)),
    Column("district", String(16)),
    PrimaryKeyConstraint("run_id", "subject_id"),
)
Index("ix_evaluation_results_subject_id", evaluation_results.c.subject_id)

evaluation_current = Table(
    "evaluation_current",
    metadata,
    Column("model", String(32), primary_key=True),
    Column("run_id", Id, ForeignKey("evaluation_runs.id"), nullable=False),
    Column("switched_at", DateTime(timezone=True), nullable=False),
)
