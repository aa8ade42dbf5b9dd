"""One way to name a subject on the API: any of its codes (统一社会信用代码, 组织机构代码,
工商注册号, 身份证号), as ``subject_code``. The internal ``subject_id`` that some requests took
before still works, marked deprecated in the document, so that existing department systems keep
running while they move to codes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import Connection

from xinyong.errors import XinyongError
from xinyong.subjects.service import find_subject, require_subject
from xinyong.web.deps import MAX_ID

CODE_DESCRIPTION = "信用主体的任一代码：统一社会信用代码、组织机构代码、工商注册号或身份证号"
ID_DESCRIPTION = "已弃用：平台内部的主体编号。请改用 subject_code（两者都给时以代码为准）"


def _not_a_flag(value: Any) -> Any:
    # JSON true is not subject 1 (pydantic would read it so); 1.0 still is
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "应为整数")
    return value


# An integer in a JSON body where true/false are refused.
Integer = Annotated[int, BeforeValidator(_not_a_flag)]
# A subject's internal id: the bounds inside the type, so that the document states them on the
# non-null branch of an optional field too.
SubjectId = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_not_a_flag)]


def subject_code_field(description: str = CODE_DESCRIPTION) -> Any:
    return Field(None, min_length=1, max_length=30, description=description)


def subject_id_field() -> Any:
    # marked in the document only: pydantic's own ``deprecated`` warns on every read
    return Field(
        None,
        description=ID_DESCRIPTION,
        json_schema_extra={"deprecated": True},
    )


def subject_named(conn: Connection, code: str | None, subject_id: int | None) -> int:
    """The subject a request names, by code (or by the deprecated internal id)."""
    if code is not None and code.strip():
        return int(find_subject(conn, code.strip())["id"])
    if subject_id is not None:
        return require_subject(conn, subject_id)
    raise XinyongError("SUBJECT_REQUIRED", "请用 subject_code 给出信用主体的代码")
