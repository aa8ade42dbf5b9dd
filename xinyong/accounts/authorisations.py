"""Written authorisations (信用信息查询授权) for 授权查询 information (Henan arts. 18, 22).

A department may see a subject's 授权查询 information only under a stored authorisation of
that subject for that department and purpose, valid at the time of the query and not revoked.
Two ways in: the subject grants it itself on the portal (``grant_online``), or a clerk of the
requesting department (or an operator) records a signed paper form with its scan
(``record_paper``). A paper authorisation is provisional — it opens nothing — until a second
person vouches for it (``confirm``): an operator other than its recorder, who checked the
signed form, or the subject itself accepting it online at /me. The subject is told in its
inbox when one is recorded and when it is confirmed, so a forged form does not go unseen.
Either side may revoke it (``revoke``).

``is_authorised`` and ``authorised_datasets`` only answer; ``require_authorisation`` refuses
with ``AuthorisationRequired``, which carries what the ``access.denied`` event needs. That
event must survive the rollback of the refused request, so it is written by whoever rolls back
(the web layer's error handler, ``audit_denial`` elsewhere), never inside the refused
transaction.

Every function takes a ``Connection`` and never commits.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, insert, or_, select, update

from xinyong.accounts.models import authorisations
from xinyong.accounts.roles import DEPARTMENT_ROLES, Principal, Role
from xinyong.accounts.service import iso, now_utc
from xinyong.audit import service as audit
from xinyong.catalog.loader import Catalog
from xinyong.catalog.schema import Disclosure
from xinyong.clock import aware
from xinyong.departments import service as departments
from xinyong.errors import Conflict, NotAllowed, NotFound, XinyongError
from xinyong.settings import Settings
from xinyong.subjects.models import subjects
from xinyong.subjects.names import clean_name

# Henan leaves the length open; a year keeps a forgotten authorisation from lasting forever
# (credit bureaus' practice), and a yearly renewal is what departments already do.
MAX_VALIDITY = timedelta(days=366)
PURPOSE_MAX_CHARS = 200
REASON_MAX_CHARS = 500
# A scanned A4 page at 300 dpi is 1–3 MB; a few pages of PDF stay well below this.
_MIB = 1024 * 1024
MAX_SCAN_BYTES = 10 * _MIB
SCAN_DIR = "authorisations"

# Accepted scans, recognised by their first bytes: the name a file comes with proves nothing.
_SCAN_TYPES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "pdf", ".pdf"),
    (b"\xff\xd8\xff", "jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "png", ".png"),
)
CONTENT_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}

ONLINE = "online"
PAPER = "paper"
CHANNEL_LABELS = {ONLINE: "网上授权", PAPER: "书面授权"}

# Tells the subject (its inbox): (conn, subject_id, title, body). The inbox is a layer above;
# the caller passes ``notifications.inbox.tell_subject``, and a required argument cannot be
# forgotten.
Notify = Callable[[Connection, int, str, str], None]


@dataclass(frozen=True)
class Authorisation:
    id: int
    subject_id: int
    dept_uscc: str
    purpose: str
    datasets: tuple[str, ...] | None  # None: every 授权查询 dataset
    valid_from: datetime
    valid_until: datetime
    channel: str
    scan_sha256: str | None
    scan_type: str | None
    scan_size: int | None
    scan_name: str | None
    created_at: datetime
    created_by: str
    created_role: str
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None
    confirmed_at: datetime | None
    confirmed_by: str | None
    confirmed_role: str | None

    @property
    def provisional(self) -> bool:
        """A paper authorisation nobody but its recorder has vouched for yet: it opens nothing."""
        return self.confirmed_at is None

    def active_at(self, at: datetime) -> bool:
        return (
            self.confirmed_at is not None
            and self.confirmed_at <= at
            and self.valid_from <= at < self.valid_until
            and (self.revoked_at is None or self.revoked_at > at)
        )

    def state_at(self, at: datetime) -> str:
        """待确认, 已撤销, 未生效, 已过期 or 有效, for pages and the command line."""
        if self.revoked_at is not None and self.revoked_at <= at:
            return "已撤销"
        if self.provisional:
            return "待确认"
        if at < self.valid_from:
            return "未生效"
        if at >= self.valid_until:
            return "已过期"
        return "有效"

    def covers(self, dataset: str) -> bool:
        return self.datasets is None or dataset in self.datasets

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject_id": self.subject_id,
            "dept_uscc": self.dept_uscc,
            "purpose": self.purpose,
            "datasets": list(self.datasets) if self.datasets is not None else None,
            "valid_from": iso(self.valid_from),
            "valid_until": iso(self.valid_until),
            "channel": self.channel,
            "channel_label": CHANNEL_LABELS[self.channel],
            "scan_sha256": self.scan_sha256,
            "scan_type": self.scan_type,
            "scan_size": self.scan_size,
            "scan_name": self.scan_name,
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
            "created_role": self.created_role,
            "revoked_at": iso(self.revoked_at),
            "revoked_by": self.revoked_by,
            "revoke_reason": self.revoke_reason,
            "provisional": self.provisional,
            "confirmed_at": iso(self.confirmed_at),
            "confirmed_by": self.confirmed_by,
            "confirmed_role": self.confirmed_role,
        }


class AuthorisationRequired(NotAllowed):
    """A query of 授权查询 information without a valid authorisation. Carries what the
    ``access.denied`` event records, for the handler that writes it after the rollback."""

    def __init__(
        self, principal: Principal, subject_id: int, purpose: str, missing: tuple[str, ...]
    ) -> None:
        super().__init__(
            "AUTHORISATION_REQUIRED",
            f"未取得该信用主体对本单位、本用途（{purpose}）的有效书面授权，"
            f"不能查询授权查询类信息：{'、'.join(missing)}",
        )
        self.principal = principal
        self.subject_id = subject_id
        self.purpose = purpose
        self.missing = missing

    def audit_fields(self) -> dict[str, Any]:
        """The ``access.denied`` event, as keyword arguments of ``audit.append``."""
        return {
            **audit.principal_fields(self.principal),
            "action": "access.denied",
            "outcome": "denied",
            "subject_id": self.subject_id,
            "purpose": self.purpose,
            "detail": {"code": self.code, "datasets": list(self.missing)},
        }


def audit_denial(engine: Engine, error: AuthorisationRequired) -> audit.AuditEvent:
    """Write the ``access.denied`` event of a refusal in a transaction of its own. Call it
    after the refused transaction has rolled back (SQLite has one writer at a time)."""
    return audit.append_independently(engine, **error.audit_fields())


# -- input checks ------------------------------------------------------------------------------


def _invalid(message: str) -> XinyongError:
    return XinyongError("AUTHORISATION_INVALID", message)


def normalise_purpose(purpose: str) -> str:
    """Purposes match as text with runs of whitespace collapsed: a query must state the purpose
    the subject agreed to, not merely a similar one. Invisible format and control characters
    are removed and compatibility characters folded as in subject names (``clean_name``), so
    that a purpose kept in the audit log reads as what it is (issue 11)."""
    return " ".join(clean_name(" ".join(purpose.split()))[0].split())


def _purpose(purpose: str) -> str:
    text = normalise_purpose(purpose)
    if not text:
        raise _invalid("须写明查询用途")
    if len(text) > PURPOSE_MAX_CHARS:
        raise _invalid(f"查询用途过长：最多 {PURPOSE_MAX_CHARS} 个字")
    return text


def _validity(valid_from: datetime, valid_until: datetime, now: datetime) -> tuple[datetime, ...]:
    if valid_from.tzinfo is None or valid_until.tzinfo is None:
        raise ValueError("valid_from and valid_until must be timezone-aware")
    start, end = valid_from.astimezone(now.tzinfo), valid_until.astimezone(now.tzinfo)
    if end <= start:
        raise _invalid("授权有效期的截止时间须晚于起始时间")
    if end - start > MAX_VALIDITY:
        raise _invalid(f"授权有效期最长 {MAX_VALIDITY.days} 天，请缩短有效期")
    if end <= now:
        raise _invalid("授权有效期已过，无需登记")
    return start, end


def _authorised_codes(catalog: Catalog) -> list[str]:
    return sorted(c for c, d in catalog.datasets.items() if d.disclosure is Disclosure.AUTHORISED)


def _scope(catalog: Catalog, datasets: Iterable[str] | None) -> list[str] | None:
    """The datasets asked for, each a 授权查询 dataset of the catalogue; None means all."""
    if datasets is None:
        return None
    codes: list[str] = []
    for given in datasets:
        dataset = catalog.dataset(given)
        if dataset.disclosure is not Disclosure.AUTHORISED:
            raise _invalid(
                f"数据集 {dataset.code}（{dataset.name}）的共享属性是{dataset.disclosure.value}，"
                "不属于授权查询类信息，无需授权"
            )
        if dataset.code not in codes:
            codes.append(dataset.code)
    if not codes:
        raise _invalid("授权范围为空：不指定数据集即授权全部授权查询类信息")
    return sorted(codes)


def _subject_exists(conn: Connection, subject_id: int) -> None:
    if conn.scalar(select(subjects.c.id).where(subjects.c.id == subject_id)) is None:
        raise NotFound("SUBJECT_NOT_FOUND", f"信用主体 {subject_id} 不存在")


def detect_scan(scan: bytes) -> tuple[str, str]:
    """(type, file extension) of an accepted scan, or ``SCAN_REFUSED``."""
    if not scan:
        raise XinyongError("SCAN_REFUSED", "授权书扫描件为空")
    if len(scan) > MAX_SCAN_BYTES:
        raise XinyongError(
            "SCAN_REFUSED",
            f"授权书扫描件过大（{len(scan) / _MIB:.1f} MB），最大 {MAX_SCAN_BYTES // _MIB} MB",
        )
    for magic, kind, ext in _SCAN_TYPES:
        if scan.startswith(magic):
            return kind, ext
    raise XinyongError("SCAN_REFUSED", "授权书扫描件须为 PDF、JPEG 或 PNG 文件（按文件内容识别）")


def scan_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / SCAN_DIR


def _write_scan(settings: Settings, scan: bytes, ext: str) -> str:
    """Store the scan under a random name (nothing of the sender's name reaches the file
    system) and return that name. Exclusive creation: a name is never reused."""
    folder = scan_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + ext
    fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as f:
        f.write(scan)
        f.flush()
        os.fsync(f.fileno())
    return name


# -- granting, recording, revoking -------------------------------------------------------------


def _insert(conn: Connection, principal: Principal, values: dict[str, Any]) -> Authorisation:
    new_id = conn.scalar(
        insert(authorisations)
        .values(
            **values,
            created_by=principal.name,
            created_role=principal.role.value,
        )
        .returning(authorisations.c.id)
    )
    assert new_id is not None
    return get_authorisation(conn, int(new_id))


def _audit(
    conn: Connection, principal: Principal, action: str, auth: Authorisation, **detail: Any
) -> None:
    audit.append_for(
        conn,
        principal,
        action=action,
        subject_id=auth.subject_id,
        purpose=auth.purpose,
        detail={
            "authorisation_id": auth.id,
            "requester": auth.dept_uscc,
            "channel": auth.channel,
            "datasets": list(auth.datasets) if auth.datasets is not None else None,
            "valid_from": iso(auth.valid_from),
            "valid_until": iso(auth.valid_until),
            **detail,
        },
    )


def grant_online(
    conn: Connection,
    principal: Principal,
    *,
    catalog: Catalog,
    subject_id: int,
    dept_uscc: str,
    purpose: str,
    valid_from: datetime,
    valid_until: datetime,
    datasets: Iterable[str] | None = None,
    now: datetime | None = None,
) -> Authorisation:
    """The subject itself authorises ``dept_uscc`` on the portal (网上授权)."""
    if principal.role is not Role.SUBJECT or principal.subject_id != subject_id:
        raise NotAllowed("AUTHORISATION_NOT_OWN", "只有信用主体本人可以在网上授权查询其信息")
    current = now_utc(conn, now)
    dept = departments.get(conn, dept_uscc)
    text = _purpose(purpose)
    start, end = _validity(valid_from, valid_until, current)
    scope = _scope(catalog, datasets)
    _subject_exists(conn, subject_id)
    auth = _insert(
        conn,
        principal,
        {
            "subject_id": subject_id,
            "dept_uscc": dept.uscc,
            "purpose": text,
            "datasets": scope,
            "valid_from": start,
            "valid_until": end,
            "channel": ONLINE,
            "created_at": current,
            # the subject's own act: nobody else need vouch for it
            "confirmed_at": current,
            "confirmed_by": principal.name,
            "confirmed_role": principal.role.value,
        },
    )
    _audit(conn, principal, "authorisation.grant", auth)
    return auth


def record_paper(
    conn: Connection,
    principal: Principal,
    *,
    catalog: Catalog,
    settings: Settings,
    subject_id: int,
    dept_uscc: str,
    purpose: str,
    valid_from: datetime,
    valid_until: datetime,
    scan: bytes,
    scan_name: str,
    notify: Notify,
    datasets: Iterable[str] | None = None,
    now: datetime | None = None,
) -> Authorisation:
    """A clerk of the requesting department, or an operator, records a signed paper
    authorisation (书面授权) with its scan. It is provisional until ``confirm``; the subject
    is told at once, with what it may do (accept it online, or revoke it).

    Everything is checked before the scan is written. The file is written before the row; if
    the insert fails the file is removed, but a caller's later rollback leaves an unreferenced
    file behind (random name, no row points to it, never served).
    """
    if principal.role is Role.CLERK:
        if principal.dept_uscc != dept_uscc.strip().upper():
            raise NotAllowed(
                "AUTHORISATION_OTHER_DEPT", "部门经办人只能登记本部门作为查询单位的书面授权"
            )
    elif principal.role is not Role.OPERATOR:
        raise NotAllowed(
            "AUTHORISATION_NOT_ALLOWED", "只有查询单位的经办人或平台管理员可以登记书面授权"
        )
    current = now_utc(conn, now)
    dept = departments.get(conn, dept_uscc)
    text = _purpose(purpose)
    start, end = _validity(valid_from, valid_until, current)
    scope = _scope(catalog, datasets)
    _subject_exists(conn, subject_id)
    kind, ext = detect_scan(scan)
    original = Path(scan_name or "").name[:200] or None
    stored = _write_scan(settings, scan, ext)
    try:
        auth = _insert(
            conn,
            principal,
            {
                "subject_id": subject_id,
                "dept_uscc": dept.uscc,
                "purpose": text,
                "datasets": scope,
                "valid_from": start,
                "valid_until": end,
                "channel": PAPER,
                "scan_file": stored,
                "scan_sha256": hashlib.sha256(scan).hexdigest(),
                "scan_type": kind,
                "scan_size": len(scan),
                "scan_name": original,
                "created_at": current,
            },
        )
    except BaseException:
        (scan_dir(settings) / stored).unlink(missing_ok=True)
        raise
    _audit(
        conn,
        principal,
        "authorisation.record",
        auth,
        scan_sha256=auth.scan_sha256,
        provisional=True,
    )
    dept_name = dept.name
    notify(
        conn,
        auth.subject_id,
        "有单位登记了您的书面查询授权（待确认）",
        f"{dept_name}登记了一份您签署的书面授权（编号 {auth.id}，用途：{auth.purpose}），"
        "经平台管理员核实或您本人在“我的信用”中确认后才生效。"
        "如您未签署过该授权，请在“我的信用”中撤回并联系信用办。",
    )
    return auth


def confirm(
    conn: Connection,
    principal: Principal,
    authorisation_id: int,
    *,
    notify: Notify,
    now: datetime | None = None,
) -> Authorisation:
    """The second person vouches for a provisional paper authorisation: an operator who is
    not its recorder (having checked the signed form), or the subject itself accepting it.
    From then on it opens the data it covers; the subject is told."""
    auth = get_authorisation(conn, authorisation_id)
    if principal.role is Role.SUBJECT:
        if principal.subject_id != auth.subject_id:
            # another subject's authorisation: as if it did not exist
            raise NotFound("AUTHORISATION_NOT_FOUND", f"授权 {authorisation_id} 不存在")
    elif principal.role is not Role.OPERATOR:
        raise NotAllowed(
            "AUTHORISATION_NOT_ALLOWED", "书面授权须由平台管理员核实确认，或由信用主体本人确认"
        )
    elif principal.name == auth.created_by:
        raise NotAllowed(
            "AUTHORISATION_SAME_PERSON", "登记该书面授权的人不能自己确认：须由另一名管理员核实"
        )
    if not auth.provisional:
        raise Conflict("AUTHORISATION_CONFIRMED", f"授权 {auth.id} 此前已确认")
    if auth.revoked_at is not None:
        raise Conflict("AUTHORISATION_REVOKED", f"授权 {auth.id} 已于此前撤销")
    current = now_utc(conn, now)
    if auth.valid_until <= current:
        raise _invalid(f"授权 {auth.id} 的有效期已过，无需确认")
    moved = conn.execute(
        update(authorisations)
        .where(authorisations.c.id == auth.id, authorisations.c.confirmed_at.is_(None))
        .values(
            confirmed_at=current, confirmed_by=principal.name, confirmed_role=principal.role.value
        )
    )
    if moved.rowcount != 1:
        raise Conflict("AUTHORISATION_CONFIRMED", f"授权 {auth.id} 此前已确认")
    confirmed = get_authorisation(conn, auth.id)
    _audit(conn, principal, "authorisation.confirm", confirmed)
    by = "您本人" if principal.role is Role.SUBJECT else "平台管理员"
    notify(
        conn,
        confirmed.subject_id,
        "书面查询授权已确认生效",
        f"编号 {confirmed.id} 的书面授权（用途：{confirmed.purpose}）已由{by}确认，"
        "自即日起被授权单位可按该用途查询您的授权查询类信息；您可随时在“我的信用”中撤回。",
    )
    return confirmed


def _may_manage(principal: Principal, auth: Authorisation) -> bool:
    """The subject itself, the requesting department, and operators."""
    if principal.role is Role.OPERATOR:
        return True
    if principal.role is Role.SUBJECT:
        return principal.subject_id == auth.subject_id
    return principal.role is Role.CLERK and principal.dept_uscc == auth.dept_uscc


def revoke(
    conn: Connection,
    principal: Principal,
    authorisation_id: int,
    reason: str,
    *,
    now: datetime | None = None,
) -> Authorisation:
    """Revoke an authorisation from now on; queries made under it before stay explained."""
    auth = get_authorisation(conn, authorisation_id)
    if not _may_manage(principal, auth):
        raise NotAllowed(
            "AUTHORISATION_NOT_ALLOWED",
            "只有信用主体本人、查询单位的经办人或平台管理员可以撤销该授权",
        )
    text = " ".join(reason.split())
    if not text:
        raise _invalid("须写明撤销原因")
    if len(text) > REASON_MAX_CHARS:
        raise _invalid(f"撤销原因过长：最多 {REASON_MAX_CHARS} 个字")
    if auth.revoked_at is not None:
        raise Conflict("AUTHORISATION_REVOKED", f"授权 {auth.id} 已于此前撤销")
    current = now_utc(conn, now)
    # The condition repeats the check above: of two concurrent revocations only one moves it.
    moved = conn.execute(
        update(authorisations)
        .where(authorisations.c.id == auth.id, authorisations.c.revoked_at.is_(None))
        .values(revoked_at=current, revoked_by=principal.name, revoke_reason=text)
    )
    if moved.rowcount != 1:
        raise Conflict("AUTHORISATION_REVOKED", f"授权 {auth.id} 已于此前撤销")
    revoked = get_authorisation(conn, auth.id)
    _audit(conn, principal, "authorisation.revoke", revoked, reason=text)
    return revoked


# -- reading -----------------------------------------------------------------------------------


def _authorisation(row: Row[Any]) -> Authorisation:
    data = dict(row._mapping)
    for key in ("valid_from", "valid_until", "created_at", "revoked_at", "confirmed_at"):
        data[key] = aware(data[key])
    data["datasets"] = tuple(data["datasets"]) if data["datasets"] is not None else None
    data.pop("scan_file")
    return Authorisation(**data)


def get_authorisation(conn: Connection, authorisation_id: int) -> Authorisation:
    row = conn.execute(
        select(authorisations).where(authorisations.c.id == authorisation_id)
    ).first()
    if row is None:
        raise NotFound("AUTHORISATION_NOT_FOUND", f"授权 {authorisation_id} 不存在")
    return _authorisation(row)


def list_authorisations(
    conn: Connection,
    principal: Principal,
    *,
    subject_id: int | None = None,
    dept_uscc: str | None = None,
    active_at: datetime | None = None,
) -> list[Authorisation]:
    """Newest first. A subject sees its own, a department those given to it, operators and
    auditors all; the filters narrow that further, never widen it."""
    stmt = select(authorisations).order_by(authorisations.c.id.desc())
    if principal.role is Role.SUBJECT:
        if principal.subject_id is None:
            raise NotAllowed("AUTHORISATION_NOT_ALLOWED", "该账号未关联信用主体")
        stmt = stmt.where(authorisations.c.subject_id == principal.subject_id)
    elif principal.role in DEPARTMENT_ROLES:
        stmt = stmt.where(authorisations.c.dept_uscc == principal.dept_uscc)
    elif principal.role not in (Role.OPERATOR, Role.AUDITOR):
        raise NotAllowed("AUTHORISATION_NOT_ALLOWED", "无权查看查询授权")
    if subject_id is not None:
        stmt = stmt.where(authorisations.c.subject_id == subject_id)
    if dept_uscc is not None:
        stmt = stmt.where(authorisations.c.dept_uscc == dept_uscc.strip().upper())
    if active_at is not None:
        stmt = stmt.where(*_active(now_utc(conn, active_at)))
    return [_authorisation(row) for row in conn.execute(stmt)]


def _active(at: datetime) -> tuple[Any, ...]:
    # Bounds in UTC: SQLite compares the stored text. A provisional one opens nothing.
    return (
        authorisations.c.confirmed_at.is_not(None),
        authorisations.c.confirmed_at <= at,
        authorisations.c.valid_from <= at,
        authorisations.c.valid_until > at,
        or_(authorisations.c.revoked_at.is_(None), authorisations.c.revoked_at > at),
    )


def _covering(
    conn: Connection, subject_id: int, dept_uscc: str, purpose: str, at: datetime
) -> list[Authorisation]:
    """Authorisations of one subject for one department and purpose, in force at ``at``."""
    rows = conn.execute(
        select(authorisations).where(
            and_(
                authorisations.c.subject_id == subject_id,
                authorisations.c.dept_uscc == dept_uscc,
                authorisations.c.purpose == normalise_purpose(purpose),
                *_active(at),
            )
        )
    )
    return [_authorisation(row) for row in rows]


def is_authorised(
    conn: Connection,
    *,
    subject_id: int,
    dept_uscc: str,
    purpose: str,
    dataset: str,
    at: datetime | None = None,
) -> bool:
    """Whether ``dept_uscc`` holds an authorisation of the subject covering ``dataset`` for
    ``purpose``, in force at ``at`` (default now)."""
    found = _covering(conn, subject_id, dept_uscc.strip().upper(), purpose, now_utc(conn, at))
    return any(a.covers(dataset) for a in found)


def authorised_datasets(
    conn: Connection,
    principal: Principal,
    subject_id: int,
    purpose: str | None,
    at: datetime | None = None,
    *,
    catalog: Catalog,
) -> frozenset[str]:
    """The 授权查询 datasets about ``subject_id`` that the principal's department may see for
    ``purpose``: what ``disclosure.visible_records`` takes as ``authorised``. Roles without a
    department (operators, auditors) hold no authorisations; a subject needs none for itself."""
    if principal.role not in DEPARTMENT_ROLES or principal.dept_uscc is None or not purpose:
        return frozenset()
    found = _covering(conn, subject_id, principal.dept_uscc, purpose, now_utc(conn, at))
    codes = _authorised_codes(catalog)
    return frozenset(c for c in codes if any(a.covers(c) for a in found))


def require_authorisation(
    conn: Connection,
    principal: Principal,
    *,
    catalog: Catalog,
    subject_id: int,
    purpose: str | None,
    datasets: Iterable[str] | None = None,
    at: datetime | None = None,
) -> frozenset[str]:
    """The authorised datasets when every 授权查询 dataset asked for (default: all of them) is
    covered; otherwise ``AuthorisationRequired``. A subject asking about itself passes."""
    if principal.role is Role.SUBJECT and principal.subject_id == subject_id:
        return frozenset(_authorised_codes(catalog))
    wanted = (
        _authorised_codes(catalog)
        if datasets is None
        else sorted(
            {
                catalog.dataset(c).code
                for c in datasets
                if catalog.dataset(c).disclosure is Disclosure.AUTHORISED
            }
        )
    )
    held = authorised_datasets(conn, principal, subject_id, purpose, at, catalog=catalog)
    missing = tuple(c for c in wanted if c not in held)
    if missing:
        raise AuthorisationRequired(
            principal, subject_id, normalise_purpose(purpose or ""), missing
        )
    return held


def read_scan(
    conn: Connection, principal: Principal, settings: Settings, authorisation_id: int
) -> tuple[bytes, str, Authorisation]:
    """The scan of a paper authorisation and its content type, for those who may manage it
    and auditors. A file that no longer matches its stored SHA-256 is refused, not served."""
    auth = get_authorisation(conn, authorisation_id)
    if not (_may_manage(principal, auth) or principal.role is Role.AUDITOR):
        raise NotAllowed("AUTHORISATION_NOT_ALLOWED", "无权查看该授权书扫描件")
    name = conn.scalar(
        select(authorisations.c.scan_file).where(authorisations.c.id == authorisation_id)
    )
    if name is None or auth.scan_type is None:
        raise NotFound("SCAN_NOT_FOUND", f"授权 {authorisation_id} 是网上授权，没有扫描件")
    data = (scan_dir(settings) / name).read_bytes()
    if hashlib.sha256(data).hexdigest() != auth.scan_sha256:
        raise Conflict("SCAN_ALTERED", f"授权 {authorisation_id} 的扫描件与登记时的摘要不符")
    return data, CONTENT_TYPES[auth.scan_type], auth
