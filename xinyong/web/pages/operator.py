"""The operator's room (平台管理): accounts with their API tokens, and the submitting
departments with what each may deliver. Thin pages over the services the command line uses
(``xinyong accounts …``, ``xinyong departments …``), so every change is the same audited
event whichever way it is made. A one-time secret (a new password, a token) is shown on the
answer to the form that made it and never again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import QueryParams

from xinyong import clock
from xinyong.accounts import service as accounts
from xinyong.accounts import tokens
from xinyong.accounts.roles import ACCOUNT_ROLES, Principal, Role
from xinyong.codes import division_name
from xinyong.departments import service as departments
from xinyong.departments.service import Department
from xinyong.errors import NotAllowed, XinyongError
from xinyong.web.casework import form_text, read_form
from xinyong.web.deps import Ctx, RowId, check_csrf, page, require_login
from xinyong.web.errors import status_of
from xinyong.web.render import render

router = APIRouter()

T = TypeVar("T")

# Roles an operator creates here; subjects register themselves (or are made on the CLI).
CREATABLE = (Role.CLERK, Role.DEPT_SYSTEM, Role.AUDITOR, Role.OPERATOR)
ACCOUNT_STATES = {"active": "正常", "disabled": "已停用"}
PAGE_SIZE = 50
NO_STORE = {"Cache-Control": "no-store"}


def operator(ctx: Ctx) -> Principal:
    return require_login(ctx, Role.OPERATOR)


def attempt(ctx: Ctx, action: Callable[[], T]) -> tuple[T | None, XinyongError | None]:
    """Run a change in a savepoint: a mistake in the form (a taken name, a bad code) is
    rolled back and handed back to be shown on the form; a refusal still refuses."""
    savepoint = ctx.conn.begin_nested()
    try:
        result = action()
    except NotAllowed:
        savepoint.rollback()
        raise
    except XinyongError as exc:
        savepoint.rollback()
        return None, exc
    savepoint.commit()
    return result, None


def page_no(q: QueryParams) -> int:
    try:
        return max(1, min(int(q.get("page") or 1), 100_000))
    except ValueError:
        return 1


def pager(base: str, query: dict[str, str], page: int, total: int, size: int) -> dict[str, Any]:
    from urllib.parse import urlencode

    pages = max(1, -(-total // size))
    kept = {k: v for k, v in query.items() if v and k != "page"}

    def url(n: int) -> str:
        return base + "?" + urlencode({**kept, "page": n})

    return {
        "page": page,
        "pages": pages,
        "total": total,
        "prev": url(page - 1) if page > 1 else None,
        "next": url(page + 1) if page < pages else None,
    }


def filter_day(q: QueryParams, name: str) -> date | None:
    """A date filter of a listing page (YYYY-MM-DD), or none; anything else is refused."""
    text = (q.get(name) or "").strip()[:10]
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise XinyongError("FILTER_INVALID", "日期格式应为 YYYY-MM-DD") from None


def known_choice(value: str, known: dict[str, str] | list[tuple[str, str]], what: str) -> str:
    """A filter chosen from a list: one of its codes, or empty; anything else is refused."""
    codes = dict(known)
    if value and value not in codes:
        raise XinyongError("FILTER_INVALID", f"{what}“{value[:20]}”不在可选范围内")
    return value


def dept_choices(ctx: Ctx) -> list[Department]:
    return sorted(departments.all_departments(ctx.conn).values(), key=lambda d: d.name)


# -- accounts ----------------------------------------------------------------------------------


def _account_filters(q: QueryParams) -> dict[str, str]:
    found = {name: (q.get(name) or "").strip()[:32] for name in ("role", "dept", "state")}
    if found["role"] and found["role"] not in {r.value for r in ACCOUNT_ROLES}:
        raise XinyongError("FILTER_INVALID", f"角色“{found['role'][:20]}”不在可选范围内")
    if found["state"] and found["state"] not in ACCOUNT_STATES:
        raise XinyongError("FILTER_INVALID", f"状态“{found['state'][:20]}”不在可选范围内")
    return found


def _accounts_page(
    ctx: Ctx,
    q: QueryParams,
    *,
    form: dict[str, str] | None = None,
    error: XinyongError | None = None,
) -> Response:
    filters = _account_filters(q)
    found = accounts.list_accounts(
        ctx.conn,
        role=filters["role"] or None,
        dept_uscc=filters["dept"] or None,
        disabled={"active": False, "disabled": True}.get(filters["state"]),
    )
    live: dict[str, int] = {}
    for t in tokens.list_tokens(ctx.conn):
        if t.revoked_at is None:
            live[t.username] = live.get(t.username, 0) + 1
    number = page_no(q)
    shown = found[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    return render(
        ctx.request,
        "op_accounts.html",
        {
            "accounts": shown,
            "tokens": live,
            "filters": filters,
            "roles": [(r.value, r.label) for r in ACCOUNT_ROLES],
            "creatable": [(r.value, r.label) for r in CREATABLE],
            "states": ACCOUNT_STATES,
            "departments": dept_choices(ctx),
            "dept_names": departments.names(ctx.conn),
            "pager": pager("/admin/accounts", dict(q), number, len(found), PAGE_SIZE),
            "form": form or {},
            "error": error,
        },
        status_code=status_of(error) if error else 200,
    )


@router.get("/admin/accounts")
def accounts_page(request: Request) -> Response:
    with page(request) as ctx:
        operator(ctx)
        return _accounts_page(ctx, request.query_params)


def _secret(
    ctx: Ctx, *, title: str, account: accounts.Account, secret: str, kind: str, note: str
) -> Response:
    return render(
        ctx.request,
        "op_secret.html",
        {"title": title, "account": account, "secret": secret, "kind": kind, "note": note},
        headers=NO_STORE,
    )


@router.post("/admin/accounts")
async def account_create(request: Request) -> Response:
    form, token = await read_form(request)
    fields = {
        name: form_text(form, name).strip()[:200]
        for name in ("username", "display_name", "role", "dept")
    }
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        by = operator(ctx)
        role = fields["role"]
        if role not in {r.value for r in CREATABLE}:
            unknown = XinyongError(
                "ROLE_UNKNOWN", "请选择账号角色（部门经办人、部门系统、审计员或平台管理员）"
            )
            return _accounts_page(ctx, request.query_params, form=fields, error=unknown)
        password = None if role == Role.DEPT_SYSTEM.value else accounts.new_password()
        made, error = attempt(
            ctx,
            lambda: accounts.create_account(
                ctx.conn,
                ctx.catalog,
                username=fields["username"],
                role=role,
                display_name=fields["display_name"] or fields["username"],
                password=password,
                dept_uscc=fields["dept"] or None,
                created_by=by.name,
                by=by,
                change_at_login=True,  # the operator saw it: the holder must choose their own
            ),
        )
        if made is None:
            return _accounts_page(ctx, request.query_params, form=fields, error=error)
        if password is None:
            return RedirectResponse(f"/admin/accounts/{made.username}?done=created", 303)
        return _secret(
            ctx,
            title="账号已创建",
            account=made,
            secret=password,
            kind="初始密码",
            note="请当面或通过安全渠道交给账号使用人。",
        )


DONE = {
    "created": "账号已创建。部门系统账号不设登录密码，请为其签发接口令牌。",
    "disabled": "账号已停用：不能再登录，其接口令牌一并失效。",
    "enabled": "账号已启用。",
    "revoked": "令牌已吊销，立即生效。",
}


def _account_page(
    ctx: Ctx, username: str, *, error: XinyongError | None = None, done: str = ""
) -> Response:
    account = accounts.get_account(ctx.conn, username)
    dept = departments.find(ctx.conn, account.dept_uscc) if account.dept_uscc else None
    return render(
        ctx.request,
        "op_account.html",
        {
            "account": account,
            "dept": dept,
            "tokens": tokens.list_tokens(ctx.conn, username=account.username),
            "may_have_tokens": account.role
            in (Role.OPERATOR, Role.CLERK, Role.DEPT_SYSTEM, Role.AUDITOR),
            "error": error,
            "done": DONE.get(done, ""),
            "now": clock.now(ctx.conn),
        },
        status_code=status_of(error) if error else 200,
    )


@router.get("/admin/accounts/{username}")
def account_page(request: Request, username: str) -> Response:
    with page(request) as ctx:
        operator(ctx)
        return _account_page(ctx, username[:64], done=request.query_params.get("done") or "")


@router.post("/admin/accounts/{username}/disable")
async def account_disable(request: Request, username: str) -> Response:
    return await _account_change(request, username, "disable")


@router.post("/admin/accounts/{username}/enable")
async def account_enable(request: Request, username: str) -> Response:
    return await _account_change(request, username, "enable")


async def _account_change(request: Request, username: str, what: str) -> Response:
    _, token = await read_form(request)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        by = operator(ctx)
        change = accounts.disable_account if what == "disable" else accounts.enable_account
        account = change(ctx.conn, username[:64], by=by)
    return RedirectResponse(f"/admin/accounts/{account.username}?done={what}d", 303)


@router.post("/admin/accounts/{username}/password")
async def account_password(request: Request, username: str) -> Response:
    _, token = await read_form(request)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        by = operator(ctx)
        done, error = attempt(ctx, lambda: accounts.reset_password(ctx.conn, username[:64], by=by))
        if done is None:
            return _account_page(ctx, username[:64], error=error)
        account, password = done
        return _secret(
            ctx,
            title="密码已重置",
            account=account,
            secret=password,
            kind="新密码",
            note="原密码已失效，该用户名的登录限制已解除。请通过安全渠道交给账号使用人。",
        )


@router.post("/admin/accounts/{username}/tokens")
async def account_token(request: Request, username: str) -> Response:
    form, token = await read_form(request)
    label = form_text(form, "label").strip()[:100]
    days_text = form_text(form, "days").strip()
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        by = operator(ctx)
        account = accounts.get_account(ctx.conn, username[:64])
        if days_text and not (days_text.isdigit() and 1 <= int(days_text) <= 3650):
            bad = XinyongError("TOKEN_EXPIRY_INVALID", "有效天数应为 1–3650 的整数，留空为长期有效")
            return _account_page(ctx, account.username, error=bad)
        expires = clock.now(ctx.conn) + timedelta(days=int(days_text)) if days_text else None
        secret, error = attempt(
            ctx,
            lambda: tokens.issue_token(
                ctx.conn,
                account.id,
                label=label or f"{account.username} 的令牌",
                by=by,
                expires_at=expires,
            ),
        )
        if secret is None:
            return _account_page(ctx, account.username, error=error)
        info = tokens.find_token(ctx.conn, secret)
        until = f"有效期至 {info.expires_at:%Y-%m-%d}" if info.expires_at else "长期有效，直到吊销"
        return _secret(
            ctx,
            title=f"已签发令牌 {info.id}",
            account=account,
            secret=secret,
            kind="令牌密钥",
            note=f"用途：{info.label}；{until}。"
            "部门系统调用接口时放在请求头 Authorization: Bearer 之后。",
        )


@router.post("/admin/tokens/{token_id}/revoke")
async def token_revoke(request: Request, token_id: RowId) -> Response:
    _, token = await read_form(request)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        by = operator(ctx)
        info = tokens.revoke_token(ctx.conn, token_id, by=by)
    return RedirectResponse(f"/admin/accounts/{info.username}?done=revoked", 303)


# -- departments -------------------------------------------------------------------------------


def _division(code: str) -> str:
    name = division_name(code)
    return f"{name}（{code}）" if name else code


def _dept_rows(ctx: Ctx) -> list[dict[str, Any]]:
    register = ctx.catalog.lists
    counts: dict[str, int] = {}
    for a in accounts.list_accounts(ctx.conn, disabled=False):
        if a.dept_uscc:
            counts[a.dept_uscc] = counts.get(a.dept_uscc, 0) + 1
    rows = []
    for d in departments.all_departments(ctx.conn).values():
        rows.append(
            {
                "dept": d,
                "division": _division(d.division),
                "datasets": [
                    ctx.catalog.datasets[c].name if c in ctx.catalog.datasets else c
                    for c in d.datasets
                ],
                "kinds": [
                    k.name
                    for k in register.kinds.values()
                    if d.uscc in register.designated_by.get(k.code, frozenset())
                ],
                "accounts": counts.get(d.uscc, 0),
            }
        )
    return rows


def _datasets(ctx: Ctx) -> list[tuple[str, str]]:
    return [(code, ds.name) for code, ds in ctx.catalog.datasets.items()]


def _departments_page(
    ctx: Ctx, *, form: dict[str, Any] | None = None, error: XinyongError | None = None
) -> Response:
    return render(
        ctx.request,
        "op_departments.html",
        {
            "rows": _dept_rows(ctx),
            "datasets": _datasets(ctx),
            "form": form or {"division": "410900", "datasets": []},
            "error": error,
            "done": {"added": "部门已登记。"}.get(ctx.request.query_params.get("done") or "", ""),
        },
        status_code=status_of(error) if error else 200,
    )


@router.get("/admin/departments")
def departments_page(request: Request) -> Response:
    with page(request) as ctx:
        operator(ctx)
        return _departments_page(ctx)


def _dept_form(form: Any) -> dict[str, Any]:
    return {
        "uscc": form_text(form, "uscc").strip()[:18],
        "name": form_text(form, "name").strip()[:100],
        "division": form_text(form, "division").strip()[:6],
        "datasets": [d for d in form.getlist("datasets") if isinstance(d, str)][:100],
        "reason": form_text(form, "reason").strip()[:500],
    }


@router.post("/admin/departments")
async def department_add(request: Request) -> Response:
    form, token = await read_form(request)
    fields = _dept_form(form)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        by = operator(ctx)
        dept, error = attempt(
            ctx,
            lambda: departments.add(
                ctx.conn,
                ctx.catalog,
                by,
                uscc=fields["uscc"],
                name=fields["name"],
                datasets=fields["datasets"],
                division=fields["division"] or "410900",
            ),
        )
        if dept is None:
            return _departments_page(ctx, form=fields, error=error)
    return RedirectResponse(f"/admin/departments/{dept.uscc}?done=added", 303)


def _department_page(
    ctx: Ctx,
    uscc: str,
    *,
    form: dict[str, Any] | None = None,
    error: XinyongError | None = None,
) -> Response:
    dept = departments.get(ctx.conn, uscc)
    row = next(r for r in _dept_rows(ctx) if r["dept"].uscc == dept.uscc)
    done = {
        "added": "部门已登记。",
        "updated": "修改已保存。",
        "disabled": "部门已停用：不能再报送数据，已报送的记录仍然保留。",
        "enabled": "部门已启用。",
    }.get(ctx.request.query_params.get("done") or "", "")
    return render(
        ctx.request,
        "op_department.html",
        {
            "row": row,
            "dept": dept,
            "datasets": _datasets(ctx),
            "form": form
            or {"name": dept.name, "division": dept.division, "datasets": list(dept.datasets)},
            "error": error,
            "done": done,
        },
        status_code=status_of(error) if error else 200,
    )


@router.get("/admin/departments/{uscc}")
def department_page(request: Request, uscc: str) -> Response:
    with page(request) as ctx:
        operator(ctx)
        return _department_page(ctx, uscc[:18])


@router.post("/admin/departments/{uscc}")
async def department_update(request: Request, uscc: str) -> Response:
    form, token = await read_form(request)
    fields = _dept_form(form)
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        by = operator(ctx)
        dept = departments.get(ctx.conn, uscc[:18])
        changed, error = attempt(
            ctx,
            lambda: departments.update_department(
                ctx.conn,
                ctx.catalog,
                by,
                dept.uscc,
                name=fields["name"] if fields["name"] != dept.name else None,
                datasets=fields["datasets"] if tuple(fields["datasets"]) != dept.datasets else None,
                division=fields["division"] if fields["division"] != dept.division else None,
            ),
        )
        if changed is None:
            return _department_page(ctx, dept.uscc, form=fields, error=error)
    return RedirectResponse(f"/admin/departments/{dept.uscc}?done=updated", 303)


@router.post("/admin/departments/{uscc}/disable")
async def department_disable(request: Request, uscc: str) -> Response:
    return await _department_switch(request, uscc, enabled=False)


@router.post("/admin/departments/{uscc}/enable")
async def department_enable(request: Request, uscc: str) -> Response:
    return await _department_switch(request, uscc, enabled=True)


async def _department_switch(request: Request, uscc: str, *, enabled: bool) -> Response:
    form, token = await read_form(request)
    reason = form_text(form, "reason").strip()[:500]
    with page(request, write=True) as ctx:
        check_csrf(ctx, token)
        by = operator(ctx)
        dept = departments.get(ctx.conn, uscc[:18])
        changed, error = attempt(
            ctx,
            lambda: departments.set_enabled(
                ctx.conn, by, dept.uscc, enabled=enabled, reason=reason
            ),
        )
        if changed is None:
            return _department_page(ctx, dept.uscc, error=error)
    done = "enabled" if enabled else "disabled"
    return RedirectResponse(f"/admin/departments/{dept.uscc}?done={done}", 303)
