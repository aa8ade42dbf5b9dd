"""The lists lifecycle over the API (名单办理, a department system's token): the department's
entries, one entry with its events and notices, a subject's list history, recording a prior
notice (事前告知) and exiting an entry early (提前移出) with its exit notice. Who may act is the
service's decision (the designating department, or an operator for it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from xinyong.lists import desk
from xinyong.lists.change import EntryChange, Person, change_entry
from xinyong.lists.notices import record_prior_notice
from xinyong.web.api import answers as out
from xinyong.web.api.checks import _plain, measures_of
from xinyong.web.api.contract import Day, token, writes
from xinyong.web.api.naming import (
    Integer,
    SubjectId,
    subject_code_field,
    subject_id_field,
    subject_named,
)
from xinyong.web.deps import DEPT_CODE, RowId, api

router = APIRouter(tags=["名单办理"])


class NoticeRequest(BaseModel):
    dataset: str = Field(min_length=1, max_length=32, description="名单数据集代码，如 YZSX")
    subject_code: str | None = subject_code_field()
    subject_id: SubjectId | None = subject_id_field()
    basis: str = Field(min_length=1, max_length=2000, description="认定依据")
    reasons: str = Field(min_length=1, max_length=4000, description="事实和理由")
    served_on: Day = Field(description="送达日期")
    list_kind: str | None = Field(None, max_length=32, description="名单类别代码（名单目录）")
    doc_no: str | None = Field(None, max_length=100, description="告知书文号")
    objection_days: Integer = Field(5, ge=1, le=60, description="异议期（日）")
    dept: str | None = Field(
        None,
        pattern=DEPT_CODE,
        max_length=18,
        description="部门统一社会信用代码（仅平台管理员需要）",
    )


class ExitRequest(BaseModel):
    reason: str = Field(max_length=16, description="performed（已履行）或 source（认定部门决定）")
    basis: str = Field(min_length=1, max_length=4000, description="移出依据和说明")
    on: Day | None = Field(None, description="移出日期（默认今天）")


class PersonBody(BaseModel):
    name: str = Field(min_length=1, max_length=50, description="姓名")
    id_number: str | None = Field(None, max_length=18, description="身份证号码")


class ChangeRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="变更理由")
    listed_on: Day | None = Field(None, description="列入日期")
    valid_until: Day | None = Field(None, description="有效期至")
    valid_until_cleared: bool = Field(False, description="改为长期有效（无有效期至）")
    basis: str | None = Field(None, max_length=2000, description="认定依据")
    facts: str | None = Field(None, max_length=4000, description="列入事由")
    doc_no: str | None = Field(None, max_length=128, description="认定文书号")
    legal_rep: PersonBody | None = Field(None, description="法定代表人/主要负责人")
    controller: PersonBody | None = Field(None, description="实际控制人")
    responsible: PersonBody | None = Field(None, description="直接责任人")
    remove: list[str] = Field(
        default_factory=list,
        max_length=3,
        description="删除的责任人角色：legal_rep/controller/responsible",
    )


@router.get(
    "/lists/entries",
    summary="本部门的名单条目（在列或已移出）",
    **token(400),
    response_model=out.Items,
)
def entries(
    request: Request,
    status: Annotated[str | None, Query(pattern="^(listed|exited)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    with api(request) as ctx:
        found = desk.entries_for(
            ctx.conn, ctx.catalog, ctx.principal, status=status, limit=limit, offset=offset
        )
        return _plain(found)  # type: ignore[no-any-return]


@router.get(
    "/lists/entries/{record_id}",
    summary="一个名单条目：事件、事前告知与移出公告",
    **token(404),
    response_model=out.Open,
)
def entry(request: Request, record_id: RowId) -> dict[str, Any]:
    with api(request) as ctx:
        return _plain(desk.entry_for(ctx.conn, ctx.catalog, ctx.principal, record_id))  # type: ignore[no-any-return]


@router.post(
    "/lists/entries/{record_id}/exit",
    summary="提前移出名单（发布移出公告，通知实施措施的部门停止实施）",
    **token(*writes(400, 404, 409)),
    response_model=out.Open,
)
def exit_entry(request: Request, record_id: RowId, body: ExitRequest) -> dict[str, Any]:
    with api(request, write=True) as ctx:
        found = desk.exit_early(
            ctx.conn,
            ctx.catalog,
            measures_of(ctx),
            ctx.principal,
            record_id,
            reason=body.reason,
            basis=body.basis,
            on=body.on,
        )
        return _plain(found)  # type: ignore[no-any-return]


@router.post(
    "/lists/entries/{record_id}/change",
    summary="变更名单条目（日期、依据、文书号、责任人），写明理由；通知实施措施的部门",
    **token(*writes(400, 404, 409)),
    response_model=out.Open,
)
def change(request: Request, record_id: RowId, body: ChangeRequest) -> dict[str, Any]:
    persons: list[tuple[str, Person | None]] = [
        (role, Person(p.name, p.id_number))
        for role, p in (
            ("legal_rep", body.legal_rep),
            ("controller", body.controller),
            ("responsible", body.responsible),
        )
        if p is not None
    ]
    persons += [(role, None) for role in body.remove]
    with api(request, write=True) as ctx:
        changed = change_entry(
            ctx.conn,
            ctx.catalog,
            measures_of(ctx),
            ctx.principal,
            record_id,
            EntryChange(
                listed_on=body.listed_on,
                valid_until=body.valid_until,
                valid_until_cleared=body.valid_until_cleared,
                basis=body.basis,
                facts=body.facts,
                doc_no=body.doc_no,
                persons=tuple(persons),
            ),
            reason=body.reason,
        )
        found = desk.entry_for(ctx.conn, ctx.catalog, ctx.principal, record_id)
        return _plain(found | {"changed": changed})  # type: ignore[no-any-return]


@router.post(
    "/lists/notices",
    summary="登记书面事前告知（含异议期）",
    **token(*writes(400, 404, 409)),
    status_code=201,
    response_model=out.Open,
)
def notice(request: Request, body: NoticeRequest) -> dict[str, Any]:
    with api(request, write=True) as ctx:
        found = record_prior_notice(
            ctx.conn,
            ctx.catalog,
            measures_of(ctx),
            ctx.principal,
            dataset=body.dataset,
            subject_id=subject_named(ctx.conn, body.subject_code, body.subject_id),
            basis=body.basis,
            reasons=body.reasons,
            served_on=body.served_on,
            doc_no=body.doc_no,
            objection_days=body.objection_days,
            dept_uscc=body.dept,
            list_kind=body.list_kind,
        )
        return _plain(found)  # type: ignore[no-any-return]


@router.get(
    "/lists/subjects/{subject_id}/history",
    summary="一个主体的名单事件及某日在列的名单",
    **token(404),
    response_model=out.Open,
)
def history(
    request: Request, subject_id: RowId, at: Annotated[Day | None, Query()] = None
) -> dict[str, Any]:
    with api(request) as ctx:
        return _plain(desk.subject_history(ctx.conn, ctx.principal, subject_id, at))  # type: ignore[no-any-return]
