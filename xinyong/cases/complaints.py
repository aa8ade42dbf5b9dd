"""Complaints (失信举报): anyone reports suspected dishonest conduct of a subject, with evidence.

No account is needed (the web form is rate-limited and CSRF-protected). The subject is found by
its code (统一社会信用代码 or 身份证号码) or, for an organisation, its exact name; one the
registry does not hold is still received, with the name and code as given. The complaint goes
to the department the reporter chose, else to the department of its industry
(``catalog/complaints/routing.yaml``, operator-kept), else to the platform's queue; its deadline
is counted on the working-day calendar and it is answered through the case model like any case.

The reporter (举报人) is never shown to the subject: the name and contact are kept in the case's
``reporter`` column, which only the handling staff read, and the subject's pages, inbox, case
lists and decisions leave complaint cases out (``service.may_view``, ``inbox.case_changed``).
The reporter follows the case with its number and follow code (``service.follow``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, select

from xinyong import yamlio
from xinyong.accounts.roles import Principal, Role
from xinyong.cases import files as case_files
from xinyong.cases import service
from xinyong.cases.kinds import COMPLAINT
from xinyong.cases.models import cases
from xinyong.catalog.loader import Catalog
from xinyong.departments import service as departments
from xinyong.errors import CatalogError, NotAllowed, NotFound, XinyongError
from xinyong.subjects.models import subjects
from xinyong.subjects.names import normalize_name
from xinyong.workdays.calendar import WorkCalendar

ROUTING_FILE = Path("complaints") / "routing.yaml"
NAME_MAX_CHARS = 100
CONTACT_MAX_CHARS = 100


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Industry(_Model):
    code: str = Field(pattern=r"^[a-z_]{1,24}$")
    label: str
    dept: str | None = None  # a department's USCC; None: the platform's queue


class Routing(_Model):
    deadline_working_days: int = Field(ge=1, le=60)
    industries: list[Industry]

    def industry(self, code: str) -> Industry | None:
        return next((i for i in self.industries if i.code == code), None)


def load_routing(root: Path) -> Routing:
    path = Path(root) / ROUTING_FILE
    try:
        data = yamlio.safe_load(path.read_text(encoding="utf-8"))
        return Routing.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise CatalogError(
            "COMPLAINT_ROUTING_INVALID", f"失信举报分派表 {path} 无法读取或格式有误：{exc}"
        ) from exc


@cache
def routing(root: Path) -> Routing:
    return load_routing(root)


@dataclass(frozen=True)
class Reported:
    """The subject as the reporter named it, and the registry's subject if one matched."""

    subject_id: int | None
    name: str
    code: str


def find_subject(conn: Connection, name: str, code: str) -> Reported:
    """By code first (USCC or ID number, exact), else by an organisation's exact name. A person
    is never found by name alone (the public may not search persons by name)."""
    name = (name or "").strip()[:NAME_MAX_CHARS]
    code = (code or "").strip().upper()[:18]
    if not name and not code:
        raise XinyongError("COMPLAINT_SUBJECT_REQUIRED", "请填写被举报对象的名称或统一社会信用代码")
    found: int | None = None
    if code:
        found = conn.scalar(
            select(subjects.c.id).where(
                (subjects.c.uscc == code) | (subjects.c.id_number == code),
                subjects.c.merged_into.is_(None),
            )
        )
    if found is None and name:
        ids = conn.scalars(
            select(subjects.c.id)
            .where(
                subjects.c.name_norm == normalize_name(name),
                subjects.c.category != "person",
                subjects.c.merged_into.is_(None),
            )
            .limit(2)
        ).all()
        found = ids[0] if len(ids) == 1 else None  # two of one name: staff decide which
    return Reported(found, name, code)


def route(
    conn: Connection, catalog: Catalog, industry: str | None, dept: str | None
) -> tuple[str | None, str]:
    """(department USCC or None for the platform, how it was chosen)."""
    table = routing(catalog.root)
    if dept:
        chosen = departments.find(conn, dept)
        if chosen is None or not chosen.enabled:
            raise XinyongError("COMPLAINT_DEPT_UNKNOWN", "所选受理部门不存在或已停用，请重新选择")
        return chosen.uscc, "reporter"
    if industry:
        found = table.industry(industry)
        if found is None:
            raise XinyongError(
                "COMPLAINT_INDUSTRY_UNKNOWN",
                f"举报事项所属行业须为：{'、'.join(i.label for i in table.industries)}",
            )
        if found.dept:
            target = departments.find(conn, found.dept)
            if target is not None and target.enabled:
                return target.uscc, "industry"
    return None, "platform"


def file_complaint(
    conn: Connection,
    principal: Principal,
    catalog: Catalog,
    calendar: WorkCalendar,
    *,
    subject_name: str,
    subject_code: str,
    reason: str,
    industry: str | None = None,
    dept: str | None = None,
    reporter_name: str = "",
    reporter_contact: str = "",
    uploads: list[case_files.Upload] | None = None,
    data_dir: Path | None = None,
) -> tuple[service.Case, str]:
    """Receive a complaint; returns the case and the follow code (shown once to the reporter)."""
    if principal.role is Role.AUDITOR:
        raise NotAllowed("COMPLAINT_NOT_ALLOWED", "审计员账号不能提交举报")
    channel = (
        "cli"
        if principal.is_cli
        else ("window" if principal.role in (Role.CLERK, Role.OPERATOR) else "online")
    )
    reported = find_subject(conn, subject_name, subject_code)
    checked = case_files.check_uploads(uploads or [])
    if checked and data_dir is None:
        raise XinyongError("CASE_FILE_REFUSED", "未配置材料存放目录")
    dept_uscc, how = route(conn, catalog, industry, dept)
    table = routing(catalog.root)
    industry_label = (table.industry(industry or "") or Industry(code="x", label="")).label
    reporter = {
        "name": (reporter_name or "").strip()[:NAME_MAX_CHARS] or None,
        "contact": (reporter_contact or "").strip()[:CONTACT_MAX_CHARS] or None,
        # who filed it when logged in: kept with the reporter, never beside the subject
        "account": principal.name if principal.role is not Role.PUBLIC else None,
    }
    found, code = service.open_case(
        conn,
        principal,
        calendar,
        kind=COMPLAINT,
        reason=reason,
        deadline_days=table.deadline_working_days,
        subject_id=reported.subject_id,
        target="subject",
        dept_uscc=dept_uscc,
        route="department" if dept_uscc else "platform",
        channel=channel,
        detail={
            "subject_name": reported.name or None,
            "subject_code": reported.code or None,
            "industry": industry or None,
            "industry_label": industry_label or None,
            "routed_by": how,
        },
        reporter=reporter,
        filer=service.REPORTER,
    )
    if checked:
        assert data_dir is not None
        case_files.store(conn, data_dir, found.id, None, checked, service.REPORTER)
    return found, code


def reporter_of(conn: Connection, principal: Principal, found: service.Case) -> dict[str, Any]:
    """The reporter, for the staff who handle or audit the case, and nobody else."""
    if not (service.may_handle(principal, found) or principal.role is Role.AUDITOR):
        raise NotFound("CASE_NOT_FOUND", f"没有编号为“{found.case_no}”的办件")
    stored = conn.scalar(select(cases.c.reporter).where(cases.c.id == found.id))
    return dict(stored or {})


def decide(
    conn: Connection, principal: Principal, case_no: str, *, outcome: str, reason: str
) -> service.Case:
    """The handling department answers the complaint (查证属实 / 查无实据 / 移送有权机关)."""
    found = service.get_case(conn, case_no)
    if found.kind != COMPLAINT:
        raise NotFound("CASE_NOT_FOUND", f"没有编号为“{case_no}”的举报")
    if not service.may_handle(principal, found):
        raise NotAllowed("CASE_NOT_OWNER", f"举报 {case_no} 不由本部门办理，无权作出答复")
    if outcome == "withdrawn":
        raise XinyongError("COMPLAINT_WITHDRAW_BY_REPORTER", "撤回须由举报人提出")
    return service.close_case(conn, principal, found, outcome=outcome, reason=reason)
