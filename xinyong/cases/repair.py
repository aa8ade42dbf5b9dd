"""Credit repair (信用修复): a subject asks to end the publicity of one of its 失信 records early.

What the rules say (``shared/reference/domain.md`` §4, ``measures-and-reports.md`` §4):

- the subject may apply once the minimum publicity period of the rule generation in force on
  the decision date is over (``disclosure.repair.eligibility``; never where a rule excludes it);
- with a public credit commitment (信用承诺书, generated here from the subject's data and signed
  online: the signer's name, the time and the text's SHA-256 are kept) and proof that the
  conduct is corrected and the obligations performed (uploads, ``cases.files``);
- 谁认定、谁修复: the department that delivered the record decides (a list entry: the department
  that designated it), within the working days of ``catalog/repair/rules.yaml`` (NDRC Order 36:
  7, of which 3 for acceptance);
- on approval the record becomes 已修复 (``lists.exits.mark_repaired``: a list entry exits with
  an exit notice): it leaves public view and sharing, stops triggering measures and stops
  counting, and the change goes out as a ``record.repaired`` event; the record itself stays,
  archived. A rejection gives reasons; the subject may apply again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from xinyong import clock
from xinyong.accounts.roles import DEPARTMENT_ROLES, Principal, Role
from xinyong.cases import files as case_files
from xinyong.cases import service
from xinyong.cases.kinds import REPAIR
from xinyong.catalog.loader import Catalog
from xinyong.disclosure.repair import Eligibility, eligibility, repair_rules
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.lists.exits import mark_repaired
from xinyong.lists.models import list_entries
from xinyong.measures.catalog import Measures
from xinyong.notifications.outbox import enqueue
from xinyong.records import states as record_states
from xinyong.records.models import records
from xinyong.subjects.models import subjects
from xinyong.workdays.calendar import WorkCalendar

RECORD_REPAIRED = "record.repaired"  # the outbox event other platforms receive
SIGNER_MAX_CHARS = 50


def _record(conn: Connection, record_id: int) -> dict[str, Any]:
    row = conn.execute(select(records).where(records.c.id == record_id)).first()
    if row is None:
        raise NotFound("RECORD_NOT_FOUND", f"没有编号为 {record_id} 的记录")
    return dict(row._mapping)


def record_eligibility(
    conn: Connection, catalog: Catalog, principal: Principal, record_id: int
) -> Eligibility:
    """The answer for a record the principal may ask about: the subject its own records, staff
    any; to another subject the record does not exist."""
    rec = _record(conn, record_id)
    if principal.role is Role.SUBJECT and (
        principal.subject_id is None or rec["subject_id"] != principal.subject_id
    ):
        raise NotFound("RECORD_NOT_FOUND", f"没有编号为 {record_id} 的记录")
    if principal.role is Role.PUBLIC:
        raise NotAllowed("REPAIR_NOT_ALLOWED", "请登录后查询信用修复资格")
    return eligibility(catalog, rec, clock.today(conn))


def eligibilities(
    conn: Connection, catalog: Catalog, subject_id: int, record_ids: list[int]
) -> dict[int, Eligibility]:
    """The answers for several records of one subject (the subject page)."""
    if not record_ids:
        return {}
    rows = conn.execute(
        select(records).where(records.c.id.in_(record_ids), records.c.subject_id == subject_id)
    ).all()
    today = clock.today(conn)
    return {r.id: eligibility(catalog, dict(r._mapping), today) for r in rows}


def commitment_text(conn: Connection, record_id: int) -> str:
    """The credit commitment (信用承诺书) for this record, from the subject's and the record's
    data; the subject signs exactly this text."""
    rec = _record(conn, record_id)
    subj = conn.execute(
        select(subjects.c.name, subjects.c.uscc, subjects.c.id_number).where(
            subjects.c.id == rec["subject_id"]
        )
    ).first()
    if subj is None:
        raise Conflict("RECORD_PENDING", f"记录 {record_id} 尚未关联信用主体，不能申请信用修复")
    code = subj.uscc or (
        f"{subj.id_number[:6]}********{subj.id_number[-4:]}" if subj.id_number else ""
    )
    data = rec["data"] or {}
    doc = data.get("CF_WSH") or data.get("MD_WH") or data.get("MD_RDWSH") or f"记录 {record_id}"
    return (
        "信用承诺书\n"
        f"本主体{subj.name}（统一社会信用代码/身份证号：{code}）就{doc}所载失信信息"
        "申请信用修复，郑重承诺：\n"
        "一、已纠正失信行为，履行完毕相关法定责任和义务，消除不良影响；\n"
        "二、所提交的申请材料真实、准确、完整，不存在虚假内容；\n"
        "三、自觉接受政府部门、行业组织和社会公众的监督；\n"
        "四、如违背上述承诺，自愿承担相应法律责任，接受撤销修复决定等失信惩戒，"
        "并同意将违背承诺的情况记入信用记录。"
    )


def _decider(conn: Connection, rec: dict[str, Any], elig: Eligibility) -> tuple[str, str]:
    """(target, department): 谁认定、谁修复."""
    entry = conn.execute(
        select(list_entries.c.dept_uscc).where(list_entries.c.record_id == rec["id"])
    ).first()
    if entry is not None:
        return "list_entry", str(entry.dept_uscc)
    return "record", str(rec["dept_uscc"])


def apply(
    conn: Connection,
    principal: Principal,
    catalog: Catalog,
    calendar: WorkCalendar,
    record_id: int,
    *,
    correction: str,
    signed_by: str,
    commitment_sha256: str | None = None,
    uploads: list[case_files.Upload] | None = None,
    data_dir: Path | None = None,
) -> tuple[service.Case, str]:
    """Apply for repair: by the subject about its own record (online), or by a clerk or an
    operator at the window. ``commitment_sha256``, when given, must be the text the applicant
    saw (a page shows it, then posts its digest back: a changed record cannot be signed blind).
    Returns the case and its follow code."""
    if principal.role is Role.SUBJECT:
        channel = "online"
    elif principal.role in (Role.CLERK, Role.OPERATOR):
        channel = "cli" if principal.is_cli else "window"
    else:
        raise NotAllowed("REPAIR_NOT_ALLOWED", "只有信用主体本人或窗口经办人可以申请信用修复")
    rec = _record(conn, record_id)
    if principal.role is Role.SUBJECT and (
        principal.subject_id is None or rec["subject_id"] != principal.subject_id
    ):
        raise NotAllowed("REPAIR_NOT_OWN_RECORD", "只能对本主体的信用记录申请信用修复")
    if rec["subject_id"] is None:
        raise Conflict("RECORD_PENDING", f"记录 {record_id} 尚未关联信用主体，不能申请信用修复")
    elig = eligibility(catalog, rec, clock.today(conn))
    if not elig.applicable_now:
        raise Conflict(elig.code, f"该记录现在不能申请信用修复：{elig.reason}")
    pending = service.open_case_of_record(conn, record_id, REPAIR)
    if pending is not None:
        raise Conflict(
            "REPAIR_OPEN",
            f"该记录已有办理中的信用修复申请（办件号 {pending.case_no}），请勿重复提交",
        )
    signer = (signed_by or "").strip()
    if not signer or len(signer) > SIGNER_MAX_CHARS:
        raise XinyongError("REPAIR_COMMITMENT_REQUIRED", "请阅读信用承诺书并填写承诺人姓名签署")
    text = commitment_text(conn, record_id)
    digest = hashlib.sha256(text.encode()).hexdigest()
    if commitment_sha256 is not None and commitment_sha256 != digest:
        raise Conflict("REPAIR_COMMITMENT_CHANGED", "信用承诺书内容已变化，请重新阅读后签署")
    checked = case_files.check_uploads(uploads or [])
    if not checked:
        raise XinyongError(
            "REPAIR_PROOF_REQUIRED", "请上传纠正失信行为、履行法定义务的证明材料（如缴款凭证）"
        )
    if data_dir is None:
        raise XinyongError("CASE_FILE_REFUSED", "未配置材料存放目录")
    rules = repair_rules(catalog.root)
    target, dept = _decider(conn, rec, elig)
    found, code = service.open_case(
        conn,
        principal,
        calendar,
        kind=REPAIR,
        reason=correction,
        deadline_days=rules.deadline_working_days,
        dept_deadline_days=rules.department_working_days,
        subject_id=rec["subject_id"],
        record_id=record_id,
        target=target,
        dept_uscc=dept,
        route="department",
        channel=channel,
        detail={
            "record_version": rec["version"],
            "dataset": rec["dataset"],
            "rule": elig.rule,
            "rule_name": elig.rule_name,
            "from": elig.from_date.isoformat() if elig.from_date else None,
            "commitment": {
                "text": text,
                "sha256": digest,
                "signed_by": signer,
                "signed_at": clock.now(conn).isoformat(),
            },
        },
    )
    case_files.store(conn, data_dir, found.id, None, checked, principal.name)
    return found, code


def _repair_case(conn: Connection, principal: Principal, case_no: str) -> service.Case:
    found = service.get_case(conn, case_no)
    if found.kind != REPAIR:
        raise NotFound("CASE_NOT_FOUND", f"没有编号为“{case_no}”的信用修复申请")
    if not service.may_handle(principal, found):
        if principal.role in DEPARTMENT_ROLES or principal.role is Role.SUBJECT:
            raise NotAllowed(
                "CASE_NOT_OWNER", f"信用修复申请 {case_no} 不由本部门办理，无权作出决定"
            )
        raise NotAllowed("CASE_NOT_OWNER", "无权作出信用修复决定")
    return found


def decide(
    conn: Connection,
    principal: Principal,
    catalog: Catalog,
    measures: Measures,
    case_no: str,
    *,
    outcome: str,
    reason: str,
) -> service.Case:
    """The deciding department (or an operator) approves or rejects, with reasons. Approval
    repairs the record in the same transaction as the closing."""
    found = _repair_case(conn, principal, case_no)
    if not found.is_open:
        service.close_case(conn, principal, found, outcome=outcome, reason=reason)  # refuses
    if outcome == "withdrawn":
        raise XinyongError("REPAIR_WITHDRAW_BY_SUBJECT", "撤回须由申请人提出")
    if outcome not in ("approved", "rejected"):
        service.close_case(conn, principal, found, outcome=outcome, reason=reason)  # refuses
    assert found.record_id is not None
    rec = _record(conn, found.record_id)
    if outcome == "approved":
        if rec["state"] not in (record_states.PUBLISHED, record_states.OBJECTED):
            raise Conflict(
                "RECORD_STATE", f"记录当前状态为“{rec['state']}”，不能准予修复（可决定不予修复）"
            )
        text = (reason or "").strip()
        if not text:
            raise XinyongError("CASE_REASON_REQUIRED", "请填写办理结果的理由")
        # the case's department is the record's (or, for a list entry, its designator's):
        # mark_repaired's own checks pass for whoever may handle the case
        mark_repaired(
            conn,
            catalog,
            measures,
            principal,
            rec["id"],
            basis=f"{case_no}：{text}",
            on=clock.today(conn),
        )
        enqueue(
            conn,
            kind=RECORD_REPAIRED,
            subject_id=rec["subject_id"],
            payload={
                "record_id": rec["id"],
                "dataset": rec["dataset"],
                "natural_key": rec["natural_key"],
                "state": record_states.REPAIRED,
                "case_no": case_no,
                "decided_by": found.dept_uscc,
                "on": clock.today(conn).isoformat(),
            },
            dept_usccs=sorted({str(rec["dept_uscc"]), str(found.dept_uscc or rec["dept_uscc"])}),
            event_key=f"{RECORD_REPAIRED}:{case_no}",
        )
    return service.close_case(
        conn,
        principal,
        found,
        outcome=outcome,
        reason=reason,
        detail={"record_version": rec["version"]},
    )


def withdraw(conn: Connection, principal: Principal, case_no: str, reason: str) -> service.Case:
    """The applicant withdraws (or a clerk records it at the window)."""
    found = service.get_case(conn, case_no)
    own = principal.role is Role.SUBJECT and principal.subject_id == found.subject_id
    if found.kind != REPAIR or not (own or service.may_handle(principal, found)):
        raise NotFound("CASE_NOT_FOUND", f"没有编号为“{case_no}”的信用修复申请")
    return service.close_case(conn, principal, found, outcome="withdrawn", reason=reason)


def decision(conn: Connection, principal: Principal, case_no: str) -> dict[str, Any]:
    """What the decision document (信用修复决定书) says, for whoever may see the case."""
    found = service.case_for(conn, principal, case_no)
    if found.kind != REPAIR:
        raise NotFound("CASE_NOT_FOUND", f"没有编号为“{case_no}”的信用修复申请")
    if found.is_open:
        raise Conflict("CASE_OPEN", f"信用修复申请 {case_no} 尚未办结")
    rec = conn.execute(
        select(records.c.dataset, records.c.dept_uscc, records.c.state, records.c.data).where(
            records.c.id == found.record_id
        )
    ).first()
    subj = conn.execute(select(subjects.c.name).where(subjects.c.id == found.subject_id)).first()
    return {
        "case": found,
        "subject_name": subj.name if subj else "",
        "record": dict(rec._mapping) if rec else {},
        "closed_on": found.closed_at.astimezone(clock.CHINA).date() if found.closed_at else None,
        "commitment": (found.detail or {}).get("commitment"),
    }
