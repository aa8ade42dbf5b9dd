"""Identity verification (实名核验) of subjects who open a self-service account.

A person proves who they are against the public-security identity service; a company by its
legal representative against the registration record. The platform talks to that service
through ``IdentityVerifier``. This module ships the development implementation only: it checks
what the platform itself can check (the ID number's check digit and birth date, the name the
platform holds for that number, the representative the registration record gives) and is
refused in production, where an operator must configure a real verifier.

**Adapter point.** A deployment plugs in the provincial 统一身份认证 (person: real-name and face
check) or the 电子营业执照 login (organisation: the legal representative signs with the
licence) by writing a class with ``IdentityVerifier``'s one method, raising ``IdentityRejected``
unless the provincial service confirmed the claim, and returning it from ``verifier_for`` for
production. Nothing else in the platform changes: registration, its rate limits, its audit
events and the one-account-per-subject rule stay here.

Every refusal is the same answer (``REGISTRATION_REFUSED``), whatever the reason: an invalid
code, a name that does not match, a code the platform does not hold, a subject that already has
an account. So the page tells nobody whether a code is stored (issue 11: a masked ID number was
recovered through the old answers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, Engine, insert, select

from xinyong import clock
from xinyong.accounts.models import accounts
from xinyong.accounts.roles import Principal, Role
from xinyong.accounts.service import Account, create_account
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
from xinyong.codes import check_code, normalize_code
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


REFUSED_MESSAGE = (
    "未能开通账号：身份信息未通过核验，或该信用主体已开通账号。"
    "请核对后重试，或携带有效证件到信用办窗口办理"
)


def refused() -> IdentityRejected:
    """The one answer to every failed registration."""
    return IdentityRejected("REGISTRATION_REFUSED", REFUSED_MESSAGE)


class IdentityVerifier(Protocol):
    def verify(self, conn: Connection, claim: IdentityClaim) -> None:
        """Raise ``IdentityRejected`` unless the claim holds."""


class DevelopmentVerifier:
    """Development only (开发环境核验), and marked so on the page: confirms a claim only against
    the platform's own data (a stored person with this ID number and name; a stored company
    whose registration record names this representative). Not an identity proof; refused in
    production. A code the platform does not hold is refused like a wrong name, so the answer
    says nothing about what is stored."""

    label = "开发环境核验：仅比对平台已有数据，不是身份证明，生产环境不可用"

    def verify(self, conn: Connection, claim: IdentityClaim) -> None:
        checked = check_code(claim.code, clock.today(conn))
        if claim.kind == "person":
            if checked.kind != "id_number" or not checked.ok:
                raise refused()
            known = conn.scalar(
                select(subjects.c.name).where(subjects.c.id_number == checked.value)
            )
            if known is None or normalize_name(known) != normalize_name(claim.name):
                raise refused()
            return
        if checked.kind != "uscc" or not checked.ok:
            raise refused()
        registered = _registered_representative(conn, checked.value)
        if registered is None or normalize_name(registered) != normalize_name(claim.representative):
            raise refused()


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
    """Open a self-service account (信用主体账号) after verifying the claimed identity. One
    account per subject: a second one is refused with the same answer as a failed check."""
    verifier.verify(conn, claim)
    value = check_code(claim.code, clock.today(conn)).value
    subject_id = _subject_for(conn, claim, value)
    taken = conn.scalar(
        select(accounts.c.id).where(
            accounts.c.subject_id == subject_id, accounts.c.role == Role.SUBJECT.value
        )
    )
    if taken is not None:
        raise refused()
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


def audit_refused_registration(
    engine: Engine, claim: IdentityClaim, error: XinyongError, *, source: str
) -> None:
    """A failed registration is an event (``account.register``, denied) in a transaction of its
    own, after the attempt rolled back: who tried which code (masked) from where, and why."""
    value = normalize_code(claim.code)[:18]
    # the division part only: the log must not become the list of numbers people tried
    shown = value[:6] + "*" * max(len(value) - 6, 0)
    audit.append_for_independently(
        engine,
        Principal.public(source),
        "account.register",
        outcome="denied",
        detail={"kind": claim.kind, "code": shown, "reason": error.code},
    )
