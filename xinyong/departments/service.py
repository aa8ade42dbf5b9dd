"""Submitting departments (报送部门): the one place that reads and changes them.

Departments are operational data. The catalogue's ``departments.yaml`` is only the seed: a
fresh database receives its departments (``seed``), and from then on the table is the truth.
Seeding inserts the departments the table does not hold yet (by 统一社会信用代码) and never
touches one it holds, so an operator's later change (a new name, other datasets, disabling) is
never undone by an upgrade, while a department new in a newer catalogue is still added. Editing
an existing department in ``departments.yaml`` therefore changes nothing in a running platform:
operators use ``xinyong departments update``.

Changes by operators (``add``, ``update``, ``set_enabled``) are audit events
(``department.add`` / ``department.update`` / ``department.disable`` / ``department.enable``)
appended in the caller's transaction. Nothing here writes a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, insert, select, update

from xinyong.accounts.policy import require_role
from xinyong.accounts.roles import Principal, Role
from xinyong.audit.service import append_for
from xinyong.catalog.loader import Catalog
from xinyong.clock import aware, now
from xinyong.codes import check_uscc, division_known
from xinyong.departments.models import departments
from xinyong.errors import CatalogError, NotAllowed

__all__ = [
    "Department",
    "add",
    "all_departments",
    "find",
    "fingerprint",
    "get",
    "names",
    "require_active",
    "seed",
    "seed_database",
    "set_enabled",
    "update_department",
]

# Who the rows seeded from the catalogue are recorded as created by.
SEED_ACTOR = "catalog:departments.yaml"

_DIVISION_RE = re.compile(r"\d{6}")


@dataclass(frozen=True)
class Department:
    """One submitting department as stored."""

    uscc: str
    name: str
    division: str
    datasets: tuple[str, ...]
    enabled: bool
    origin: str  # 'catalog' or 'operator'
    created_at: datetime
    updated_at: datetime

    def as_detail(self) -> dict[str, Any]:
        """What an audit event records of it."""
        return {
            "uscc": self.uscc,
            "name": self.name,
            "division": self.division,
            "datasets": list(self.datasets),
            "enabled": self.enabled,
        }


def _department(row: Row[Any]) -> Department:
    created, updated = aware(row.created_at), aware(row.updated_at)
    assert created is not None and updated is not None  # NOT NULL columns
    return Department(
        uscc=row.uscc,
        name=row.name,
        division=row.division,
        datasets=tuple(row.datasets),
        enabled=bool(row.enabled),
        origin=row.origin,
        created_at=created,
        updated_at=updated,
    )


# -- reading ------------------------------------------------------------------------------------


def all_departments(conn: Connection, *, enabled_only: bool = False) -> dict[str, Department]:
    """Every department keyed by its code, in the order they were registered."""
    query = select(departments).order_by(departments.c.id)
    if enabled_only:
        query = query.where(departments.c.enabled.is_(True))
    return {d.uscc: d for d in map(_department, conn.execute(query))}


def names(conn: Connection) -> dict[str, str]:
    """Every department's name by its code (disabled ones too: their records stay theirs)."""
    return {r.uscc: r.name for r in conn.execute(select(departments.c.uscc, departments.c.name))}


def find(conn: Connection, uscc: str) -> Department | None:
    row = conn.execute(
        select(departments).where(departments.c.uscc == uscc.strip().upper())
    ).first()
    return None if row is None else _department(row)


def get(conn: Connection, uscc: str) -> Department:
    """The department with this code, enabled or not (its past records are still its own)."""
    dept = find(conn, uscc)
    if dept is None:
        raise CatalogError(
            "DEPT_UNKNOWN",
            f"报送部门 {uscc.strip()} 不在部门名录中，请先由平台管理员登记"
            "（xinyong departments add）",
        )
    return dept


def require_active(conn: Connection, uscc: str) -> Department:
    """The department, refused with ``DEPT_DISABLED`` when an operator has disabled it."""
    dept = get(conn, uscc)
    if not dept.enabled:
        raise NotAllowed(
            "DEPT_DISABLED",
            f"报送部门“{dept.name}”（{dept.uscc}）已停用，不能报送数据；"
            "其已报送的记录仍然保留。如需恢复，请平台管理员启用该部门",
        )
    return dept


def fingerprint(conn: Connection) -> tuple[int, str]:
    """Changes whenever a department is added or changed: lets a cache of something derived
    from the departments (the measures' implementing departments) know it is stale."""
    count, last = conn.execute(
        select(func.count(), func.max(departments.c.updated_at)).select_from(departments)
    ).one()
    return int(count), str(last)


# -- seeding from the catalogue -----------------------------------------------------------------


def seed(conn: Connection, catalog: Catalog) -> list[Department]:
    """Insert the catalogue's departments that the table does not hold yet; returns them.

    Idempotent, and never changes a stored department (see the module's docstring). A
    catalogue department whose name another stored code already carries is left out: two
    departments of one name would make the measures' 实施主体 ambiguous."""
    stored = conn.execute(select(departments.c.uscc, departments.c.name)).all()
    codes = {r.uscc for r in stored}
    names = {r.name for r in stored}
    missing = [
        d for d in catalog.seed_departments.values() if d.uscc not in codes and d.name not in names
    ]
    if not missing:
        return []
    at = now(conn)
    conn.execute(
        insert(departments),
        [
            {
                "uscc": d.uscc,
                "name": d.name,
                "division": d.division,
                "datasets": list(d.datasets),
                "enabled": True,
                "origin": "catalog",
                "created_at": at,
                "created_by": SEED_ACTOR,
                "updated_at": at,
                "updated_by": SEED_ACTOR,
            }
            for d in missing
        ],
    )
    added = all_departments(conn)
    return [added[d.uscc] for d in missing]


def seed_database(engine: Engine, catalog: Catalog) -> list[Department]:
    """``seed`` in a transaction of its own: what ``xinyong db upgrade``, the first command on
    a database and the web application's start run."""
    with engine.begin() as conn:
        return seed(conn, catalog)


# -- changes by operators -----------------------------------------------------------------------


def _checked_uscc(uscc: str) -> str:
    check = check_uscc(uscc.strip().upper())
    if not check.ok:
        raise CatalogError(
            "DEPT_USCC_INVALID", f"部门统一社会信用代码“{uscc.strip()}”无效：{check.message}"
        )
    return check.value


def _checked_name(conn: Connection, name: str, *, other_than: str | None = None) -> str:
    name = name.strip()
    if not name:
        raise CatalogError("DEPT_NAME_EMPTY", "部门名称不能为空")
    taken = conn.execute(
        select(departments.c.uscc).where(departments.c.name == name)
    ).scalar_one_or_none()
    if taken is not None and taken != other_than:
        raise CatalogError("DEPT_EXISTS", f"报送部门“{name}”已登记，统一社会信用代码为 {taken}")
    return name


def _checked_division(division: str) -> str:
    division = division.strip()
    if not _DIVISION_RE.fullmatch(division) or not division_known(division):
        raise CatalogError(
            "DEPT_DIVISION_INVALID", f"行政区划代码“{division}”无效，应为6位行政区划代码，如 410900"
        )
    return division


def _checked_datasets(catalog: Catalog, refs: Iterable[str]) -> tuple[str, ...]:
    codes: list[str] = []
    for ref in refs:
        ds = catalog.dataset(ref)  # DATASET_UNKNOWN names the datasets that do exist
        if ds.code not in codes:
            codes.append(ds.code)
    return tuple(codes)


def _audit(conn: Connection, principal: Principal, action: str, uscc: str, detail: Any) -> None:
    append_for(
        conn,
        principal,
        action=action,
        dept_uscc=uscc,
        detail=detail,
    )


def add(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    *,
    uscc: str,
    name: str,
    datasets: Sequence[str],
    division: str = "410900",
) -> Department:
    """Register a submitting department (operators only); audited as ``department.add``."""
    require_role(principal, Role.OPERATOR)
    code = _checked_uscc(uscc)
    existing = find(conn, code)
    if existing is not None:
        raise CatalogError(
            "DEPT_EXISTS", f"统一社会信用代码 {code} 已登记为报送部门“{existing.name}”"
        )
    name = _checked_name(conn, name)
    division = _checked_division(division)
    codes = _checked_datasets(catalog, datasets)
    at = now(conn)
    conn.execute(
        insert(departments).values(
            uscc=code,
            name=name,
            division=division,
            datasets=list(codes),
            enabled=True,
            origin="operator",
            created_at=at,
            created_by=principal.name,
            updated_at=at,
            updated_by=principal.name,
        )
    )
    dept = get(conn, code)
    _audit(conn, principal, "department.add", code, dept.as_detail())
    return dept


def _change(
    conn: Connection,
    principal: Principal,
    before: Department,
    action: str,
    values: dict[str, Any],
    reason: str = "",
) -> Department:
    conn.execute(
        update(departments)
        .where(departments.c.uscc == before.uscc)
        .values(updated_at=now(conn), updated_by=principal.name, **values)
    )
    after = get(conn, before.uscc)
    detail: dict[str, Any] = {"before": before.as_detail(), "after": after.as_detail()}
    if reason.strip():
        detail["reason"] = reason.strip()
    _audit(conn, principal, action, before.uscc, detail)
    return after


def update_department(
    conn: Connection,
    catalog: Catalog,
    principal: Principal,
    uscc: str,
    *,
    name: str | None = None,
    datasets: Sequence[str] | None = None,
    division: str | None = None,
) -> Department:
    """Change a department's name, datasets or division; audited as ``department.update``.

    Records already delivered keep their department; narrowing the datasets only refuses
    later deliveries of the datasets taken away."""
    require_role(principal, Role.OPERATOR)
    before = get(conn, uscc)
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = _checked_name(conn, name, other_than=before.uscc)
    if datasets is not None:
        values["datasets"] = list(_checked_datasets(catalog, datasets))
    if division is not None:
        values["division"] = _checked_division(division)
    if not values:
        raise CatalogError("DEPT_NO_CHANGE", "未指定要修改的内容（名称、可报送数据集或行政区划）")
    return _change(conn, principal, before, "department.update", values)


def set_enabled(
    conn: Connection, principal: Principal, uscc: str, *, enabled: bool, reason: str = ""
) -> Department:
    """Disable (停用) or enable (启用) a department; audited as ``department.disable`` or
    ``department.enable`` with the reason given. A disabled department's records stay."""
    require_role(principal, Role.OPERATOR)
    before = get(conn, uscc)
    if before.enabled == enabled:
        state = "启用" if enabled else "停用"
        raise CatalogError("DEPT_NO_CHANGE", f"报送部门“{before.name}”已是{state}状态")
    action = "department.enable" if enabled else "department.disable"
    return _change(conn, principal, before, action, {"enabled": enabled}, reason)
