"""The SME financing profile (信易贷): the facts a bank asks of a company applying for credit,
defined as data in ``catalog/evaluation/profiles/*.yaml`` (items of its latest registration or
tax-grade record, counts of records in force, lists it is on, its evaluation grade), read for
one subject on the day.

Released only with the company's authorisation: to the company itself, or to a department (a
bank's or the financing platform's account) holding the company's 信用信息查询授权 for the
profile's purpose and covering the profile (``accounts.authorisations``: a grant without a
dataset scope, or one naming the profile's code); every release and every refusal is audited.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Connection, func, select

from xinyong import yamlio
from xinyong.accounts import authorisations
from xinyong.accounts.roles import DEPARTMENT_ROLES, Principal, Role
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
from xinyong.disclosure.in_force import in_force_sql
from xinyong.errors import CatalogError, NotAllowed, NotFound
from xinyong.evaluation.definitions import FOLDER, Match, model_book
from xinyong.evaluation.explain import headline
from xinyong.evaluation.runs import result_of
from xinyong.evaluation.scoring import list_sql, match_sql
from xinyong.lists.models import list_entries
from xinyong.records.models import records

PROFILES = "profiles"
COUNTED = ("公示中",)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fact(_Model):
    code: str
    name: str
    kind: Literal["field", "count", "listed", "grade"]
    dataset: str | None = None
    field: str | None = None
    match: Match | None = None
    lists: tuple[str, ...] = ()
    model: str | None = None


class Profile(_Model):
    code: str
    name: str
    purpose: str
    source: str
    facts: tuple[Fact, ...]


def load_profile(catalog: Catalog, code: str) -> Profile:
    path = catalog.root / FOLDER / PROFILES / f"{code.upper()}.yaml"
    if not path.is_file():
        raise NotFound("PROFILE_UNKNOWN", f"没有信用信息档案“{code}”")
    try:
        found = Profile.model_validate(yamlio.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        raise CatalogError("PROFILE_INVALID", f"{path}: {exc}") from exc
    for fact in found.facts:
        if fact.kind == "field" and (
            fact.dataset not in catalog.datasets
            or fact.field not in {i.code for i in catalog.datasets[fact.dataset].items}
        ):
            raise CatalogError("PROFILE_INVALID", f"{path}: 事项 {fact.code}: 目录中没有该信息项")
        if fact.kind == "grade" and fact.model is not None:
            model_book(catalog).get(fact.model)
    return found


def _may_read(conn: Connection, principal: Principal, profile: Profile, subject_id: int) -> None:
    if principal.role is Role.SUBJECT and principal.subject_id == subject_id:
        return
    if principal.role in DEPARTMENT_ROLES and principal.dept_uscc is not None:
        if authorisations.is_authorised(
            conn,
            subject_id=subject_id,
            dept_uscc=principal.dept_uscc,
            purpose=profile.purpose,
            dataset=profile.code,
        ):
            return
        raise authorisations.AuthorisationRequired(
            principal, subject_id, profile.purpose, (profile.code,)
        )
    raise NotAllowed("PROFILE_NOT_ALLOWED", f"{profile.name}仅向取得企业书面授权的机构提供")


def read_profile(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    code: str,
    subject_id: int,
    on: date,
) -> dict[str, Any]:
    profile = load_profile(catalog, code)
    _may_read(conn, principal, profile, subject_id)
    facts = []
    for fact in profile.facts:
        facts.append(
            {
                "code": fact.code,
                "name": fact.name,
                "value": _value(conn, catalog, fact, subject_id, on),
            }
        )
    audit.append_for(
        conn,
        principal,
        "profile.read",
        subject_id=subject_id,
        detail={"profile": profile.code, "purpose": profile.purpose},
    )
    return {"profile": profile.code, "name": profile.name, "as_of": on.isoformat(), "facts": facts}


def _value(conn: Connection, catalog: Catalog, fact: Fact, subject_id: int, on: date) -> Any:
    mine = records.c.subject_id == subject_id
    if fact.kind == "field":
        assert fact.field is not None
        row = conn.execute(
            select(records.c.data)
            .where(mine, records.c.dataset == fact.dataset, records.c.state != "已撤销")
            .order_by(records.c.decision_date.desc().nulls_last(), records.c.id.desc())
            .limit(1)
        ).first()
        return (row.data or {}).get(fact.field) if row is not None else None
    if fact.kind == "count":
        assert fact.match is not None
        return conn.execute(
            select(func.count())
            .select_from(records.outerjoin(list_entries, list_entries.c.record_id == records.c.id))
            .where(mine, in_force_sql(on, counted=COUNTED), match_sql(catalog, fact.match, on))
        ).scalar_one()
    if fact.kind == "listed":
        kinds = conn.execute(
            select(list_entries.c.list_kind)
            .select_from(records.join(list_entries, list_entries.c.record_id == records.c.id))
            .where(mine, in_force_sql(on, counted=COUNTED), list_sql(catalog, fact.lists, on))
        ).scalars()
        names = sorted(
            {
                catalog.lists.kinds[k].name
                for k in kinds
                if k is not None and k in catalog.lists.kinds
            }
        )
        return names
    assert fact.model is not None
    try:
        model = model_book(catalog).get(fact.model)
        head = headline(model, result_of(conn, model.code, subject_id))
    except NotFound:
        return None
    return {k: head[k] for k in ("grade", "grade_label", "class", "class_label", "as_of")}


__all__ = ["Profile", "load_profile", "read_profile"]
