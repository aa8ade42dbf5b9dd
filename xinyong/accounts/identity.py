"""Identity verification (实名核验) of subjects who open a self-service account.

A person proves who they are against the public-security identity service; a company by its
legal representative against the registration record. The platform talks to that service
through ``IdentityVerifier``. This module ships the development implementation only: it checks
what the platform itself can check (the ID number's check digit and birth date, the name the
registration record gives for the company's representative) and is refused in production,
where an operator must configure a real verifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, insert, select

from xinyong import clock
from xinyong.accounts.roles import Principal, Role
from xinyong.accounts.service import Account, create_account
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
from xinyong.codes import check_code
from xinyong.errors import NotAllowed, XinyongError
from xinyong.records.models import records
from xinyong.settings import Settings
from xinyong.subjects.models import subjects
from xinyong.subjects.names import normalize_name
from xinyong.subjects.refs import ORGANISATION, PERSON
from xinyong.subjects.service import database_of

Kind = Literal["person", "organisation"]


@dataclass(frozen=True)
class IdentityClaim:
    """Who someone says they are: a person (name + 身份证号码) or an organisation (USCC +
    the legal representative's name, who is the one registering)."""

    kind: Kind
    code: str
    name: str
    representative: str = ""


class IdentityRejected(XinyongError):
    pass


class IdentityVerifier(Protocol):
    def verify(self, conn: Connection, claim: IdentityClaim) -> None:
        """Raise ``IdentityRejected`` unless the claim holds."""


class DevelopmentVerifier:
    """Checks only what the platform's own data can confirm. Not an identity proof."""

    def verify(self, conn: Connection, claim: IdentityClaim) -> None:
        checked = check_code(claim.code, clock.today(conn))
        if claim.kind == "person":
            if checked.kind != "id_number" or not checked.ok:
                raise IdentityRejected("IDENTITY_REJECTED", "身份证号码无效，请核对后重新填写")
            if not 2 <= len(claim.name.strip()) <= 30:
                raise IdentityRejected("IDENTITY_REJECTED", "请填写与身份证一致的姓名")
            known = conn.scalar(
                select(subjects.c.name).where(subjects.c.id_number == checked.value)
            )
            if known is not None and normalize_name(known) != normalize_name(claim.name):
                raise IdentityRejected("IDENTITY_REJECTED", "姓名与身份证号码不一致")
            return
        if checked.kind != "uscc" or not checked.ok:
            raise IdentityRejected("IDENTITY_REJECTED", "统一社会信用代码无效，请核对后重新填写")
        registered = _registered_representative(conn, checked.value)
        if registered is not None and normalize_name(registered) != normalize_name(
            claim.representative
        ):
            raise IdentityRejected(
                "IDENTITY_REJECTED", "法定代表人（负责人）姓名与登记信息不一致，不能开通账号"
            )


def _registered_representative(conn: Connection, uscc: str) -> str | None:
    row = conn.execute(
        select(records.c.data)
        .join(subjects, subjects.c.id == records.c.subject_id)
        .where(subjects.c.uscc == uscc, records.c.dataset == "FRJC")
        .order_by(records.c.id.desc())
    ).first()
    if row is None:
        return None
    value: Any = row.data.get("DJ_FDDBR")
    return str(value) if value else None


def verifier_for(settings: Settings) -> IdentityVerifier:
    if settings.production:
        raise NotAllowed(
            "IDENTITY_UNAVAILABLE",
            "实名核验接口尚未配置，暂不能在线开通信用主体账号，请到信用办窗口办理",
        )
    return DevelopmentVerifier()


def _subject_for(conn: Connection, claim: IdentityClaim, value: str) -> int:
    column = subjects.c.id_number if claim.kind == "person" else subjects.c.uscc
    found = conn.scalar(select(subjects.c.id).where(column == value))
    if found is not None:
        return int(found)
    # A person (or a company) with no record yet may still look at its own empty file.
    category = PERSON if claim.kind == "person" else ORGANISATION
    uscc = None if claim.kind == "person" else value
    now = clock.now(conn)
    name = claim.name.strip()
    new_id = conn.scalar(
        insert(subjects)
        .values(
            category=category,
            database=database_of(category, uscc),
            name=name,
            name_norm=normalize_name(name),
            uscc=uscc,
            org_code=value[8:17] if uscc else None,
            id_number=value if claim.kind == "person" else None,
            created_at=now,
            updated_at=now,
        )
        .returning(subjects.c.id)
    )
    assert new_id is not None
    return int(new_id)


def register_subject(
    conn: Connection,
    catalog: Catalog,
    verifier: IdentityVerifier,
    *,
    claim: IdentityClaim,
    username: str,
    password: str,
    source: str,
) -> Account:
    """Open a self-service account (信用主体账号) after verifying the claimed identity."""
    verifier.verify(conn, claim)
    value = check_code(claim.code, clock.today(conn)).value
    subject_id = _subject_for(conn, claim, value)
    account = create_account(
        conn,
        catalog,
        username=username,
        role=Role.SUBJECT,
        display_name=claim.name.strip() if claim.kind == "person" else claim.representative,
        password=password,
        subject_id=subject_id,
        created_by="self-registration",
        by=None,  # audited below as account.register
    )
    who = Principal(Role.SUBJECT, account.username, account.id, None, subject_id, source)
    audit.append_for(
        conn,
        who,
        "account.register",
        subject_id=subject_id,
        detail={"kind": claim.kind, "verifier": type(verifier).__name__},
    )
    return account
