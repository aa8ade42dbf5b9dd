"""Deliveries as jobs (报送任务): a delivery over the web is accepted at once and ingested off
the request path, so that a 260k-row upload neither holds a request open nor stalls the portal.

A job is a row of ``delivery_jobs``: queued → running → done (its batch committed in the same
transaction as the state) or failed (code and Chinese reason). The worker that runs jobs
(``worker.py``) records its ``host:pid``; a job left running by a process that no longer exists
crashed and is marked failed when the platform starts again (``recover``).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from xinyong.accounts.policy import acting_department, require_may_act_on
from xinyong.accounts.roles import Principal, Role
from xinyong.audit import service as audit
from xinyong.batches.models import delivery_jobs
from xinyong.batches.readers import detect_encoding, detect_format
from xinyong.catalog.loader import Catalog
from xinyong.clock import now
from xinyong.db import is_busy, refresh_statistics
from xinyong.errors import Busy, NotFound, XinyongError
from xinyong.ingest.delivery import deliver

STATES = ("queued", "running", "done", "failed")
STATE_LABELS = {"queued": "排队中", "running": "入库中", "done": "已完成", "failed": "失败"}


@dataclass(frozen=True)
class Job:
    id: int
    principal: Principal
    dataset: str
    dept_uscc: str
    file_name: str
    path: Path
    channel: str


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def enqueue(
    conn: Connection,
    principal: Principal,
    *,
    path: Path,
    dataset: str,
    file_name: str,
    channel: str,
    dept_uscc: str | None = None,
) -> int:
    """Queue a stored upload for ingestion; returns the job id. Who may deliver for which
    department is decided here, before anything waits (and again when the job runs)."""
    dept = acting_department(principal, dept_uscc)
    # What the first bytes already refuse (an old .xls, a PDF, binary content, an unknown
    # encoding) is answered now (422), not after a wait in the queue.
    if detect_format(path) != "xlsx":
        detect_encoding(path)
    return int(
        conn.execute(
            insert(delivery_jobs)
            .values(
                state="queued",
                dataset=dataset,
                dept_uscc=dept,
                file_name=file_name,
                path=str(path),
                channel=channel,
                actor=principal.name,
                role=principal.role.value,
                account_id=principal.account_id,
                source=principal.source,
                created_at=now(conn),
            )
            .returning(delivery_jobs.c.id)
        ).scalar_one()
    )


def job_for(conn: Connection, principal: Principal, job_id: int) -> dict[str, Any]:
    """A job as its department (or an operator or auditor) may read it; another department's
    job is 'not found', like its batches."""
    row = conn.execute(select(delivery_jobs).where(delivery_jobs.c.id == job_id)).one_or_none()
    if row is None:
        raise NotFound("JOB_NOT_FOUND", "没有找到该报送任务")
    require_may_act_on(
        principal, row.dept_uscc, what="job", reading=True, hide=True, message="没有找到该报送任务"
    )
    return public_view(row._asdict())


def public_view(job: dict[str, Any]) -> dict[str, Any]:
    """What a caller is told of a job (never the server's file path or worker)."""
    out: dict[str, Any] = {
        "id": job["id"],
        "state": job["state"],
        "state_label": STATE_LABELS[job["state"]],
        "dataset": job["dataset"],
        "dept_uscc": job["dept_uscc"],
        "file_name": job["file_name"],
        "channel": job["channel"],
        "batch_id": job["batch_id"],
        "error": None,
    }
    for key in ("created_at", "started_at", "finished_at"):
        out[key] = job[key].isoformat() if job[key] is not None else None
    if job["state"] == "failed":
        out["error"] = {"code": job["error_code"], "message": job["error_message"]}
    return out


def claim_next(engine: Engine) -> Job | None:
    """Take the oldest queued job for this process (running), or None when none waits."""
    with engine.begin() as conn:
        row = conn.execute(
            select(delivery_jobs)
            .where(delivery_jobs.c.state == "queued")
            .order_by(delivery_jobs.c.id)
            .limit(1)
        ).one_or_none()
        if row is None:
            return None
        taken = conn.execute(
            update(delivery_jobs)
            .where(delivery_jobs.c.id == row.id, delivery_jobs.c.state == "queued")
            .values(state="running", worker=this_worker(), started_at=now(conn))
        ).rowcount
        if not taken:  # another process took it first
            return None
    operator = Role(row.role) is Role.OPERATOR
    principal = Principal(
        role=Role(row.role),
        name=row.actor,
        account_id=row.account_id,
        dept_uscc=None if operator else row.dept_uscc,
        source=row.source,
    )
    return Job(
        id=row.id,
        principal=principal,
        dataset=row.dataset,
        dept_uscc=row.dept_uscc,
        file_name=row.file_name,
        path=Path(row.path),
        channel=row.channel,
    )


# A delivery this large changes the tables' statistics enough to refresh them at once.
ANALYZE_AFTER_ROWS = 5000


def run(
    engine: Engine,
    catalog: Catalog,
    job: Job,
    *,
    chunk_rows: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> str:
    """Ingest one claimed job: the batch and the job's 'done' commit together, so a crash
    leaves either both or neither. A busy database puts the job back in the queue
    ('retry'); a refused file or a bug marks it failed with its reason and audits it."""
    try:
        with engine.begin() as conn:
            receipt = deliver(
                conn,
                catalog,
                job.principal,
                path=job.path,
                dataset=job.dataset,
                file_name=job.file_name,
                channel=job.channel,
                dept_uscc=job.dept_uscc,
                chunk_rows=chunk_rows,
                progress=progress,
            )
            conn.execute(
                update(delivery_jobs)
                .where(delivery_jobs.c.id == job.id)
                .values(state="done", batch_id=receipt.batch_id, finished_at=now(conn))
            )
        if receipt.received >= ANALYZE_AFTER_ROWS:
            refresh_statistics(
                engine,
                ("subjects", "subject_names", "subject_search", "records", "record_versions"),
            )
        return "done"
    except Busy:
        _requeue(engine, job.id)
        return "retry"
    except XinyongError as exc:
        _fail(engine, job, exc.code, exc.message, outcome="denied")
        _remove_refused_upload(engine, job)
        return "failed"
    except Exception as exc:
        if is_busy(exc):
            _requeue(engine, job.id)
            return "retry"
        _fail(
            engine,
            job,
            "INTERNAL_ERROR",
            f"处理失败（内部错误，未保存任何内容）：{type(exc).__name__}",
            outcome="failed",
        )
        return "failed"


def _requeue(engine: Engine, job_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(delivery_jobs)
            .where(delivery_jobs.c.id == job_id)
            .values(state="queued", worker=None, started_at=None)
        )


def _fail(engine: Engine, job: Job, code: str, message: str, *, outcome: str) -> None:
    # The failed state and its audit event commit together: whoever sees the one sees the other.
    with engine.begin() as conn:
        conn.execute(
            update(delivery_jobs)
            .where(delivery_jobs.c.id == job.id)
            .values(state="failed", error_code=code, error_message=message, finished_at=now(conn))
        )
        audit.append(
            conn,
            actor=job.principal.name,
            role=job.principal.role.value,
            action="batch.ingest",
            outcome=outcome,
            dept_uscc=job.dept_uscc,
            source=job.principal.source,
            detail={
                "file": job.file_name,
                "dataset": job.dataset,
                "channel": job.channel,
                "job": job.id,
                "code": code,
            },
        )


def _remove_refused_upload(engine: Engine, job: Job) -> None:
    """A refused delivery keeps no file (issue 11), unless another job or batch of the same
    content still needs it as its evidence."""
    with engine.connect() as conn:
        others = conn.execute(
            select(delivery_jobs.c.id).where(
                delivery_jobs.c.path == str(job.path),
                delivery_jobs.c.id != job.id,
                delivery_jobs.c.state != "failed",
            )
        ).first()
    if others is None:
        job.path.unlink(missing_ok=True)


def recover(engine: Engine) -> int:
    """Mark failed every job left running by a process of this host that no longer exists
    (killed, crashed: its transaction rolled back, nothing of the batch is stored). Returns
    how many. Jobs of other hosts are theirs to recover."""
    host = socket.gethostname()
    failed = 0
    with engine.begin() as conn:
        rows = conn.execute(
            select(delivery_jobs.c.id, delivery_jobs.c.worker).where(
                delivery_jobs.c.state == "running"
            )
        ).all()
        for row in rows:
            worker_host, _, pid = (row.worker or "").rpartition(":")
            if worker_host != host or (pid.isdigit() and _alive(int(pid))):
                continue
            conn.execute(
                update(delivery_jobs)
                .where(delivery_jobs.c.id == row.id, delivery_jobs.c.state == "running")
                .values(
                    state="failed",
                    error_code="JOB_INTERRUPTED",
                    error_message="入库过程中服务中断，本批次未入库，请重新报送",
                    finished_at=now(conn),
                )
            )
            failed += 1
    return failed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def has_queued(engine: Engine) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(
                select(delivery_jobs.c.id).where(delivery_jobs.c.state == "queued").limit(1)
            ).first()
            is not None
        )
