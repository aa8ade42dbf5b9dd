"""Prior notices (事前告知, Henan art. 28): recorded before listing, read back, and the receipt
warning when a listing has none."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from xinyong import clock
from xinyong.accounts.roles import Principal
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
from xinyong.departments import service as departments
from xinyong.errors import NotAllowed, NotFound, XinyongError
from xinyong.lists.events import ListChange, _acting_dept, notify, triggered_measures
from xinyong.lists.models import list_notices
from xinyong.measures.catalog import Measures
from xinyong.subjects.models import subjects
from xinyong.subjects.service import require_subject


def record_prior_notice(
    conn: Connection,
    catalog: Catalog,
    measures: Measures,
    principal: Principal,
    *,
    dataset: str,
    subject_id: int,
    basis: str,
    reasons: str,
    served_on: date,
    doc_no: str | None = None,
    objection_days: int = 5,
    dept_uscc: str | None = None,
    list_kind: str | None = None,
) -> dict[str, Any]:
    """Record that the designating department served the written prior notice (art. 28).

    The measures named in the notice are those the listing will trigger, taken from the
    measures list, so that the notice and the later check agree. ``objection_days`` working
    days are not computed here: the objection window is counted in calendar days as the notice
    states it [I: the regulation leaves the period to the designating body].
    """
    ds = catalog.dataset(dataset)
    if not ds.list_kind:
        raise XinyongError("LIST_DATASET_REQUIRED", f"{ds.name} 不是名单类数据集")
    dept = departments.require_active(conn, _acting_dept(principal, dept_uscc))
    register = catalog.lists
    own = [k for k in register.of_dataset(ds.code) if dept.uscc in register.designated_by[k.code]]
    kind = register.resolve(ds.code, list_kind, None) if list_kind else None
    if (
        ds.code not in dept.datasets
        or (register.kinds and not own)
        or (list_kind and kind not in own)
    ):
        what = f"“{kind.name if kind else list_kind or ds.name}”"
        raise NotAllowed("LIST_NOT_DESIGNATOR", f"{dept.name} 不是{what}的认定部门")
    if not basis.strip() or not reasons.strip():
        raise XinyongError("NOTICE_INCOMPLETE", "事前告知须写明认定依据和事实理由")
    # an unknown subject is a 404 here, not a foreign-key failure at the insert
    subject_id = require_subject(conn, subject_id)
    # the measures the notice names: of the kind given, or of the department's only kind
    chosen = kind.code if kind else (own[0].code if len(own) == 1 else None)
    ms = [m.id for m in triggered_measures(measures, ds.code, served_on, chosen)]
    now = clock.now(conn)
    notice_id: int = conn.execute(
        insert(list_notices).returning(list_notices.c.id),
        {
            "kind": "prior",
            "dataset": ds.code,
            "subject_id": subject_id,
            "dept_uscc": dept.uscc,
            "doc_no": doc_no,
            "basis": basis.strip(),
            "reasons": reasons.strip(),
            "measures": ms,
            "served_on": served_on,
            "objection_until": served_on + timedelta(days=objection_days),
            "actor": principal.name,
            "created_at": now,
        },
    ).scalar_one()
    # the departments that will implement the measures hear of the coming listing (list.noticed)
    notify(
        conn,
        measures,
        [
            ListChange(
                kind="list.noticed",
                record_id=None,
                version=0,
                dataset=ds.code,
                subject_id=subject_id,
                subject_name=conn.execute(
                    select(subjects.c.name).where(subjects.c.id == subject_id)
                ).scalar(),
                dept_uscc=dept.uscc,
                listed_on=None,
                valid_until=None,
                exited_on=None,
                reason=reasons.strip(),
                list_kind=chosen,
                notice_id=notice_id,
            )
        ],
    )
    audit.append_for(
        conn,
        principal,
        action="list.prior_notice",
        dept_uscc=dept.uscc,
        subject_id=subject_id,
        detail={"dataset": ds.code, "notice_id": notice_id, "doc_no": doc_no},
    )
    return notice(conn, notice_id)


def notice(conn: Connection, notice_id: int) -> dict[str, Any]:
    row = conn.execute(select(list_notices).where(list_notices.c.id == notice_id)).first()
    if row is None:
        raise NotFound("NOTICE_NOT_FOUND", f"没有编号为 {notice_id} 的告知或公告")
    return dict(row._mapping)


def prior_notice_warning(dataset_name: str) -> tuple[str, str]:
    """Decision: listing without a recorded prior notice is *accepted with a warning*.

    The listing is the designating department's own legal act; refusing the row would leave
    the list incomplete (and the measures unenforced) while a paper record is chased. The
    warning goes on the receipt and the batch; ``list_entries.prior_notice_id`` stays NULL, so
    the credit office can list every entry without a notice.
    """
    return (
        "LIST_NO_PRIOR_NOTICE",
        f"列入“{dataset_name}”前未登记书面事前告知（河南省社会信用条例第二十八条）；"
        "已列入，请认定部门补登告知记录",
    )
