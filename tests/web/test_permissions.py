"""The permission matrix (权限矩阵): every route of the application, called as every role,
allowed or refused exactly as one declared table says. A route missing from the table fails
the test, so no page or endpoint can be added without deciding who may use it.

"Allowed" means the call got past authorisation (any answer but 401/403); "refused" means
401 (nobody logged in; a page redirects to the login form instead) or 403. Calls carry
valid CSRF tokens and well-formed bodies, so that
a refusal can only come from the principal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from fixtures.deliveries import SAMR, XINYUAN, penalty, run, write_csv
from fixtures.web import PASSWORD, bearer, csrf_of, login, make_account
from sqlalchemy import Engine, select
from starlette.routing import Mount

from xinyong.accounts.roles import Principal, Role
from xinyong.accounts.tokens import issue_token
from xinyong.catalog.loader import Catalog
from xinyong.checks.service import run_check
from xinyong.ingest import queue
from xinyong.measures.catalog import load_measures, measures_dir
from xinyong.records.models import records
from xinyong.reports.content import ReportKind
from xinyong.reports.service import issue_report
from xinyong.subjects.models import subjects

ROLES = ("public", "subject", "clerk", "dept_system", "auditor", "operator")
EVERYONE = frozenset(ROLES)
ACCOUNTS = EVERYONE - {"public"}
GOVERNMENT = frozenset({"clerk", "dept_system", "auditor", "operator"})
DEPT = frozenset({"clerk", "dept_system"})
# Pages are used with a login session; a department system has no password and so is the
# public there.
PAGE_ACCOUNTS = ACCOUNTS - {"dept_system"}


@dataclass
class World:
    subject_id: int
    batch_id: int
    tmp: Path
    tokens: dict[str, str] = field(default_factory=dict)
    report_no: str = ""
    check_id: int = 0
    record_id: int = 0
    job_id: int = 0


Call = Callable[[TestClient, World, dict[str, str]], Any]


def _csv(world: World) -> tuple[str, bytes, str]:
    path = write_csv(world.tmp / "matrix.csv", [penalty(XINYUAN, "濮市监罚决字〔2025〕09001号")])
    return ("matrix.csv", path.read_bytes(), "text/csv")


def _form(client: TestClient, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"csrf_token": csrf_of(client.get("/login").text), **(extra or {})}


def _pdf() -> tuple[str, bytes, str]:
    return ("scan.pdf", b"%PDF-1.4\n% matrix\n", "application/pdf")


def _api_headers(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    """A token's headers, or for a session (a subject) its CSRF token in ``X-CSRF-Token``."""
    if headers:
        return headers
    return {"X-CSRF-Token": csrf_of(client.get("/login").text)}


# a well-formed department code no department has
UNKNOWN_DEPT = "11410900MB1234562N"

# (allowed roles, how to call). ``h`` are the role's API headers (a bearer token or none).
TABLE: dict[str, tuple[frozenset[str], Call]] = {
    # -- the public portal and API -------------------------------------------------------
    "GET /": (EVERYONE, lambda c, w, h: c.get("/")),
    "GET /login": (EVERYONE, lambda c, w, h: c.get("/login")),
    "GET /register": (EVERYONE, lambda c, w, h: c.get("/register")),
    "POST /register": (
        EVERYONE,
        lambda c, w, h: c.post(
            "/register",
            data=_form(c, {"kind": "person", "code": "1", "name": "某", "username": "x"}),
        ),
    ),
    "GET /api/v1/health": (EVERYONE, lambda c, w, h: c.get("/api/v1/health", headers=h)),
    # the catalogue a department system works with: published lists
    "GET /api/v1/datasets": (EVERYONE, lambda c, w, h: c.get("/api/v1/datasets", headers=h)),
    "GET /api/v1/matters": (EVERYONE, lambda c, w, h: c.get("/api/v1/matters", headers=h)),
    "GET /api/v1/measures": (EVERYONE, lambda c, w, h: c.get("/api/v1/measures", headers=h)),
    "GET /api/v1/list-kinds": (EVERYONE, lambda c, w, h: c.get("/api/v1/list-kinds", headers=h)),
    "GET /api/v1/subjects": (EVERYONE, lambda c, w, h: c.get("/api/v1/subjects?q=鑫源", headers=h)),
    "GET /api/v1/subjects/{subject_id}": (
        EVERYONE,
        lambda c, w, h: c.get(f"/api/v1/subjects/{w.subject_id}", headers=h),
    ),
    "GET /api/v1/subjects/{subject_id}/records": (
        EVERYONE,
        lambda c, w, h: c.get(f"/api/v1/subjects/{w.subject_id}/records", headers=h),
    ),
    "GET /api/v1/publicity/{kind}": (
        EVERYONE,
        lambda c, w, h: c.get("/api/v1/publicity/xzcf", headers=h),
    ),
    "GET /api/v1/lists/{kind}": (EVERYONE, lambda c, w, h: c.get("/api/v1/lists/red", headers=h)),
    # -- login and logout ------------------------------------------------------------------
    "POST /login": (
        EVERYONE,
        lambda c, w, h: c.post(
            "/login",
            data=_form(c, {"username": "m.auditor", "password": PASSWORD}),
            follow_redirects=False,
        ),
    ),
    "POST /logout": (EVERYONE, lambda c, w, h: c.post("/logout", data=_form(c))),
    # one's own password: any account with a login (a wrong current password: 400, allowed)
    "GET /account/password": (PAGE_ACCOUNTS, lambda c, w, h: c.get("/account/password")),
    "POST /account/password": (
        PAGE_ACCOUNTS,
        lambda c, w, h: c.post(
            "/account/password",
            data=_form(c, {"current": "不是这个-2026", "new": "x", "again": "x"}),
        ),
    ),
    # -- department deliveries -----------------------------------------------------------
    "POST /api/v1/batches": (
        DEPT | {"operator"},
        lambda c, w, h: c.post(
            "/api/v1/batches",
            data={"dataset": "XZCF", "dept": SAMR.uscc},
            files={"file": _csv(w)},
            headers=h,
        ),
    ),
    "GET /api/v1/batches": (
        GOVERNMENT,
        lambda c, w, h: c.get("/api/v1/batches", headers=h),
    ),
    "GET /api/v1/batches/{batch_id}": (
        GOVERNMENT,
        lambda c, w, h: c.get(f"/api/v1/batches/{w.batch_id}", headers=h),
    ),
    "GET /api/v1/batches/{batch_id}/rejects": (
        GOVERNMENT,
        lambda c, w, h: c.get(f"/api/v1/batches/{w.batch_id}/rejects", headers=h),
    ),
    "GET /api/v1/deliveries/{job_id}": (
        GOVERNMENT,
        lambda c, w, h: c.get(f"/api/v1/deliveries/{w.job_id}", headers=h),
    ),
    "GET /dept/deliveries/{job_id}": (
        {"clerk", "auditor", "operator"},
        lambda c, w, h: c.get(f"/dept/deliveries/{w.job_id}", follow_redirects=False),
    ),
    "GET /dept": ({"clerk", "auditor", "operator"}, lambda c, w, h: c.get("/dept")),
    "GET /dept/datasets/{code}/template.xlsx": (
        {"clerk", "operator"},
        lambda c, w, h: c.get("/dept/datasets/XZCF/template.xlsx"),
    ),
    "GET /dept/datasets/{code}/dictionary.csv": (
        {"clerk", "operator"},
        lambda c, w, h: c.get("/dept/datasets/XZCF/dictionary.csv"),
    ),
    "POST /dept/batches": (
        {"clerk", "operator"},
        lambda c, w, h: c.post(
            "/dept/batches",
            data=_form(c, {"dataset": "XZCF", "dept": SAMR.uscc}),
            files={"file": _csv(w)},
            follow_redirects=False,
        ),
    ),
    "GET /dept/authorisations": (
        {"clerk", "operator"},
        lambda c, w, h: c.get("/dept/authorisations"),
    ),
    "POST /dept/authorisations": (
        {"clerk", "operator"},
        lambda c, w, h: c.post(
            "/dept/authorisations",
            data=_form(
                c,
                {
                    "subject": XINYUAN.uscc,
                    "dept": SAMR.uscc,
                    "purpose": "行政许可审查",
                    "valid_from": "2026-11-27",
                    "valid_until": "2027-01-31",
                },
            ),
            files={"scan": ("授权书.pdf", b"%PDF-1.4 signed", "application/pdf")},
            follow_redirects=False,
        ),
    ),
    "GET /dept/batches/{batch_id}": (
        {"clerk", "auditor", "operator"},
        lambda c, w, h: c.get(f"/dept/batches/{w.batch_id}"),
    ),
    "POST /dept/batches/{batch_id}/pending/{record_id}/link": (
        {"clerk", "operator"},
        # the world's record is linked already: 409 for those who may link it
        lambda c, w, h: c.post(
            f"/dept/batches/{w.batch_id}/pending/{w.record_id}/link",
            data=_form(c, {"code": XINYUAN.uscc}),
        ),
    ),
    "GET /dept/batches/{batch_id}/rejects": (
        {"clerk", "auditor", "operator"},
        lambda c, w, h: c.get(f"/dept/batches/{w.batch_id}/rejects"),
    ),
    # -- the lists lifecycle (名单办理) ----------------------------------------------------
    "GET /api/v1/lists/entries": (
        GOVERNMENT,
        lambda c, w, h: c.get("/api/v1/lists/entries", headers=h),
    ),
    "GET /api/v1/lists/entries/{record_id}": (
        GOVERNMENT,
        lambda c, w, h: c.get(f"/api/v1/lists/entries/{w.record_id}", headers=h),
    ),
    "POST /api/v1/lists/entries/{record_id}/exit": (
        DEPT | {"operator"},
        lambda c, w, h: c.post(
            f"/api/v1/lists/entries/{w.record_id}/exit",
            json={"reason": "performed", "basis": "已履行"},
            headers=h,
        ),
    ),
    "POST /api/v1/lists/entries/{record_id}/change": (
        DEPT | {"operator"},
        lambda c, w, h: c.post(
            f"/api/v1/lists/entries/{w.record_id}/change",
            json={"reason": "更正", "facts": "更正后的列入事由"},
            headers=h,
        ),
    ),
    "POST /api/v1/lists/notices": (
        DEPT | {"operator"},
        lambda c, w, h: c.post(
            "/api/v1/lists/notices",
            json={
                "dataset": "JYYC",
                "subject_id": w.subject_id,
                "basis": "《企业信息公示暂行条例》",
                "reasons": "未按期公示年度报告",
                "served_on": "2026-12-01",
                "dept": SAMR.uscc,
            },
            headers=h,
        ),
    ),
    "GET /api/v1/lists/subjects/{subject_id}/history": (
        GOVERNMENT,
        lambda c, w, h: c.get(f"/api/v1/lists/subjects/{w.subject_id}/history", headers=h),
    ),
    "GET /dept/lists": ({"clerk", "auditor", "operator"}, lambda c, w, h: c.get("/dept/lists")),
    "POST /dept/lists/notices": (
        {"clerk", "operator"},
        lambda c, w, h: c.post(
            "/dept/lists/notices",
            data=_form(
                c,
                {
                    "subject_code": XINYUAN.uscc,
                    "dataset": "JYYC",
                    "basis": "《企业信息公示暂行条例》",
                    "reasons": "未按期公示年度报告",
                    "served_on": "2026-12-01",
                    "dept": SAMR.uscc,
                },
            ),
            follow_redirects=False,
        ),
    ),
    "GET /dept/lists/{record_id}": (
        {"clerk", "auditor", "operator"},
        lambda c, w, h: c.get(f"/dept/lists/{w.record_id}"),
    ),
    "POST /dept/lists/{record_id}/exit": (
        {"clerk", "operator"},
        lambda c, w, h: c.post(
            f"/dept/lists/{w.record_id}/exit",
            data=_form(c, {"reason": "performed", "basis": "已履行"}),
            follow_redirects=False,
        ),
    ),
    "POST /dept/lists/{record_id}/change": (
        {"clerk", "operator"},
        lambda c, w, h: c.post(
            f"/dept/lists/{w.record_id}/change",
            data=_form(c, {"reason": "更正", "facts": "更正后的列入事由"}),
            follow_redirects=False,
        ),
    ),
    # -- 联合奖惩 checks -------------------------------------------------------------------
    "POST /api/v1/checks": (
        DEPT | {"operator"},
        lambda c, w, h: c.post(
            "/api/v1/checks", json={"subject_code": XINYUAN.uscc, "matter": "licensing"}, headers=h
        ),
    ),
    "POST /api/v1/checks/bulk": (
        DEPT | {"operator"},
        lambda c, w, h: c.post(
            "/api/v1/checks/bulk",
            data={"matter": "licensing", "name": "许可证持有人"},
            files={
                "file": ("list.csv", f"统一社会信用代码\n{XINYUAN.uscc}\n".encode(), "text/csv")
            },
            headers=h,
        ),
    ),
    "GET /api/v1/checks": (GOVERNMENT, lambda c, w, h: c.get("/api/v1/checks", headers=h)),
    "GET /api/v1/checks/{check_id}": (
        GOVERNMENT,
        lambda c, w, h: c.get(f"/api/v1/checks/{w.check_id}", headers=h),
    ),
    "POST /api/v1/checks/{check_id}/feedback": (
        DEPT | {"operator"},
        lambda c, w, h: c.post(
            f"/api/v1/checks/{w.check_id}/feedback",
            json={"items": [{"measure_id": "none", "applied": True, "action_date": "2026-11-20"}]},
            headers=h,
        ),
    ),
    "GET /checks": ({"clerk", "operator"}, lambda c, w, h: c.get("/checks")),
    "POST /checks": (
        {"clerk", "operator"},
        lambda c, w, h: c.post(
            "/checks",
            data=_form(c, {"subject": XINYUAN.uscc, "matter": "licensing"}),
            follow_redirects=False,
        ),
    ),
    "GET /checks/{check_id}": (
        {"clerk", "auditor", "operator"},
        lambda c, w, h: c.get(f"/checks/{w.check_id}"),
    ),
    "POST /checks/{check_id}/feedback": (
        {"clerk", "operator"},
        lambda c, w, h: c.post(
            f"/checks/{w.check_id}/feedback",
            data=_form(c, {"measure_id": "none", "applied": "yes", "action_date": "2026-11-20"}),
            follow_redirects=False,
        ),
    ),
    # -- credit reports (free to anyone) ---------------------------------------------------
    "POST /api/v1/reports": (
        EVERYONE,
        lambda c, w, h: c.post("/api/v1/reports", json={"subject_id": w.subject_id}, headers=h),
    ),
    "GET /api/v1/reports/{report_no}": (
        EVERYONE,
        lambda c, w, h: c.get(f"/api/v1/reports/{w.report_no}", headers=h),
    ),
    "GET /api/v1/reports/{report_no}.pdf": (
        EVERYONE,
        lambda c, w, h: c.get(f"/api/v1/reports/{w.report_no}.pdf", headers=h),
    ),
    # -- the portal pages --------------------------------------------------------------------
    "GET /search": (EVERYONE, lambda c, w, h: c.get("/search?q=鑫源")),
    "GET /subjects/{subject_id}": (EVERYONE, lambda c, w, h: c.get(f"/subjects/{w.subject_id}")),
    "POST /subjects/{subject_id}/report": (
        EVERYONE,
        lambda c, w, h: c.post(f"/subjects/{w.subject_id}/report", data=_form(c)),
    ),
    "GET /publicity/{kind}": (EVERYONE, lambda c, w, h: c.get("/publicity/xzcf")),
    "GET /lists/{kind}": (EVERYONE, lambda c, w, h: c.get("/lists/black")),
    "GET /verify": (EVERYONE, lambda c, w, h: c.get("/verify")),
    "GET /verify/{report_no}": (EVERYONE, lambda c, w, h: c.get(f"/verify/{w.report_no}")),
    "POST /verify": (
        EVERYONE,
        lambda c, w, h: c.post(
            "/verify",
            data={"no": w.report_no},
            files={"file": ("报告.pdf", b"%PDF-1.4 not the issued file", "application/pdf")},
        ),
    ),
    # -- notifications ---------------------------------------------------------------------
    "GET /api/v1/notifications": (DEPT, lambda c, w, h: c.get("/api/v1/notifications", headers=h)),
    # -- open data ---------------------------------------------------------------------------
    "GET /open-data": (EVERYONE, lambda c, w, h: c.get("/open-data")),
    # 404 for everyone before the first build: no role is refused
    "GET /open-data/files/{name}": (EVERYONE, lambda c, w, h: c.get("/open-data/files/XZCF.csv")),
    # -- the reconciliation service (OpenRefine sends no token) ------------------------------
    "GET /reconcile": (EVERYONE, lambda c, w, h: c.get("/reconcile")),
    "POST /reconcile": (
        EVERYONE,
        lambda c, w, h: c.post("/reconcile", data={"queries": '{"q0": {"query": "鑫源"}}'}),
    ),
    "GET /reconcile/preview": (
        EVERYONE,
        lambda c, w, h: c.get(f"/reconcile/preview?id={w.subject_id}"),
    ),
    "GET /reconcile/suggest/entity": (
        EVERYONE,
        lambda c, w, h: c.get("/reconcile/suggest/entity?prefix=鑫源"),
    ),
    "GET /reconcile/suggest/property": (
        EVERYONE,
        lambda c, w, h: c.get("/reconcile/suggest/property?prefix=代码"),
    ),
    "GET /reconcile/suggest/type": (EVERYONE, lambda c, w, h: c.get("/reconcile/suggest/type")),
    # -- exchange with the province: peer systems pull; departments read their rejections --
    "GET /api/v1/exchange/changes": (
        {"operator"},  # and a peer node's system account (tests/exchange)
        lambda c, w, h: c.get("/api/v1/exchange/changes", headers=h),
    ),
    "GET /api/v1/exchange/rejections": (
        GOVERNMENT,
        lambda c, w, h: c.get("/api/v1/exchange/rejections", headers=h),
    ),
    "GET /dept/exchange": (
        {"clerk", "auditor", "operator"},
        lambda c, w, h: c.get("/dept/exchange"),
    ),
    # -- the subject's own pages -----------------------------------------------------------
    "GET /me": ({"subject"}, lambda c, w, h: c.get("/me")),
    "POST /me/report": ({"subject"}, lambda c, w, h: c.post("/me/report", data=_form(c))),
    "POST /me/authorisations": (
        {"subject"},
        lambda c, w, h: c.post(
            "/me/authorisations",
            data=_form(
                c, {"dept": SAMR.uscc, "purpose": "行政许可审查", "valid_until": "2027-01-31"}
            ),
            follow_redirects=False,
        ),
    ),
    "POST /me/authorisations/{authorisation_id}/accept": (
        {"subject"},
        lambda c, w, h: c.post("/me/authorisations/999999/accept", data=_form(c)),
    ),
    "POST /dept/authorisations/{authorisation_id}/confirm": (
        {"operator"},
        lambda c, w, h: c.post("/dept/authorisations/999999/confirm", data=_form(c)),
    ),
    "POST /me/authorisations/{authorisation_id}/revoke": (
        {"subject"},
        lambda c, w, h: c.post("/me/authorisations/999999/revoke", data=_form(c)),
    ),
    # -- cases (办件) ------------------------------------------------------------------------
    "GET /complaints/new": (EVERYONE, lambda c, w, h: c.get("/complaints/new")),
    # anyone may report, without an account; an auditor's account only watches
    "POST /complaints": (
        EVERYONE - {"auditor"},
        lambda c, w, h: c.post(
            "/complaints", data=_form(c, {"subject_name": "某公司", "reason": "失信行为"})
        ),
    ),
    "GET /cases/follow": (EVERYONE, lambda c, w, h: c.get("/cases/follow")),
    "POST /cases/follow": (
        EVERYONE,
        lambda c, w, h: c.post(
            "/cases/follow", data=_form(c, {"case_no": "JB20261207-9999", "code": "00000000"})
        ),
    ),
    "GET /cases/stats": (EVERYONE, lambda c, w, h: c.get("/cases/stats")),
    # a subject's account holds no API token: it reads its eligibility on /me
    "GET /api/v1/records/{record_id}/repair-eligibility": (
        GOVERNMENT,
        lambda c, w, h: c.get(f"/api/v1/records/{w.record_id}/repair-eligibility", headers=h),
    ),
    "GET /me/objections/new": (
        {"subject"},
        lambda c, w, h: c.get(f"/me/objections/new?record={w.record_id}"),
    ),
    "POST /me/objections": (
        {"subject"},
        lambda c, w, h: c.post(
            "/me/objections", data=_form(c, {"record_id": str(w.record_id), "reason": "有误"})
        ),
    ),
    "GET /me/repair/new": (
        {"subject"},
        lambda c, w, h: c.get(f"/me/repair/new?record={w.record_id}"),
    ),
    "POST /me/repair": (
        {"subject"},
        lambda c, w, h: c.post(
            "/me/repair",
            data=_form(c, {"record_id": str(w.record_id), "agree": "yes", "signed_by": "刘志强"}),
        ),
    ),
    "GET /me/cases/{case_no}": ({"subject"}, lambda c, w, h: c.get("/me/cases/YY20261207-9999")),
    "POST /me/cases/{case_no}/withdraw": (
        {"subject"},
        lambda c, w, h: c.post("/me/cases/YY20261207-9999/withdraw", data=_form(c)),
    ),
    "POST /me/inbox/read": ({"subject"}, lambda c, w, h: c.post("/me/inbox/read", data=_form(c))),
    "GET /cases/{case_no}/decision": (
        PAGE_ACCOUNTS,
        lambda c, w, h: c.get("/cases/YY20261207-9999/decision"),
    ),
    "GET /cases/{case_no}/files/{file_id}": (
        PAGE_ACCOUNTS,
        lambda c, w, h: c.get("/cases/YY20261207-9999/files/1"),
    ),
    "GET /dept/cases": ({"clerk", "auditor", "operator"}, lambda c, w, h: c.get("/dept/cases")),
    "GET /dept/cases/{case_no}": (
        {"clerk", "auditor", "operator"},
        lambda c, w, h: c.get("/dept/cases/YY20261207-9999"),
    ),
    "POST /dept/cases/{case_no}/{action}": (
        {"clerk", "operator"},
        lambda c, w, h: c.post(
            "/dept/cases/YY20261207-9999/note", data=_form(c, {"reason": "备注"})
        ),
    ),
    "GET /dept/objections/new": (
        {"clerk", "operator"},
        lambda c, w, h: c.get(f"/dept/objections/new?subject={XINYUAN.uscc}"),
    ),
    "POST /dept/objections": (
        {"clerk", "operator"},
        lambda c, w, h: c.post(
            "/dept/objections", data=_form(c, {"record_id": str(w.record_id), "reason": "有误"})
        ),
    ),
    "POST /me/cases/{case_no}/material": (
        {"subject"},
        lambda c, w, h: c.post(
            "/me/cases/YY20261207-9999/material", data=_form(c), files={"evidence": _pdf()}
        ),
    ),
    # the cases API: department systems by token, subjects by their session (CSRF header)
    "GET /api/v1/cases": (ACCOUNTS, lambda c, w, h: c.get("/api/v1/cases", headers=h)),
    "POST /api/v1/cases/objections": (
        {"subject", "clerk", "operator"},
        lambda c, w, h: c.post(
            "/api/v1/cases/objections",
            data={"record_id": str(w.record_id), "reason": "有误"},
            headers=_api_headers(c, h),
        ),
    ),
    "GET /api/v1/cases/{case_no}": (
        ACCOUNTS,
        lambda c, w, h: c.get("/api/v1/cases/YY20261207-9999", headers=h),
    ),
    "POST /api/v1/cases/{case_no}/decision": (
        DEPT | {"operator"},
        lambda c, w, h: c.post(
            "/api/v1/cases/YY20261207-9999/decision",
            json={"outcome": "upheld", "reason": "理由"},
            headers=_api_headers(c, h),
        ),
    ),
    "POST /api/v1/cases/{case_no}/pause": (
        DEPT | {"operator"},
        lambda c, w, h: c.post(
            "/api/v1/cases/YY20261207-9999/pause",
            json={"cause": "inspection", "reason": "鉴定"},
            headers=_api_headers(c, h),
        ),
    ),
    "POST /api/v1/cases/{case_no}/resume": (
        DEPT | {"operator"},
        lambda c, w, h: c.post(
            "/api/v1/cases/YY20261207-9999/resume",
            json={"reason": "鉴定完毕"},
            headers=_api_headers(c, h),
        ),
    ),
    "POST /api/v1/cases/{case_no}/material-request": (
        DEPT | {"operator"},
        lambda c, w, h: c.post(
            "/api/v1/cases/YY20261207-9999/material-request",
            json={"reason": "营业执照"},
            headers=_api_headers(c, h),
        ),
    ),
    "POST /api/v1/cases/{case_no}/material": (
        {"subject"},
        lambda c, w, h: c.post(
            "/api/v1/cases/YY20261207-9999/material",
            files={"evidence": _pdf()},
            headers=_api_headers(c, h),
        ),
    ),
    "POST /dept/inbox/read": (
        {"clerk", "operator"},
        lambda c, w, h: c.post("/dept/inbox/read", data=_form(c)),
    ),
    # -- oversight -------------------------------------------------------------------------
    "GET /audit": ({"auditor", "operator"}, lambda c, w, h: c.get("/audit")),
    "GET /audit/export.csv": ({"auditor", "operator"}, lambda c, w, h: c.get("/audit/export.csv")),
    "GET /admin": ({"operator"}, lambda c, w, h: c.get("/admin")),
    "GET /audit/event/{chain}/{seq}": (
        {"auditor", "operator"},
        lambda c, w, h: c.get("/audit/event/1/1"),
    ),
    "POST /audit/verify": (
        {"auditor", "operator"},
        lambda c, w, h: c.post("/audit/verify", data=_form(c)),
    ),
    # -- department assessment and the dashboard: operators; the published 通报 to anyone
    "GET /admin/assessment": ({"operator"}, lambda c, w, h: c.get("/admin/assessment")),
    "POST /admin/assessment/publish": (
        {"operator"},
        lambda c, w, h: c.post("/admin/assessment/publish", data={**_form(c), "period": "2026-11"}),
    ),
    "GET /admin/dashboard": ({"operator"}, lambda c, w, h: c.get("/admin/dashboard")),
    "GET /admin/dashboard/{key}.xlsx": (
        {"operator"},
        lambda c, w, h: c.get("/admin/dashboard/cases.xlsx"),
    ),
    "GET /assessment": (EVERYONE, lambda c, w, h: c.get("/assessment")),
    "GET /assessment/{period}": (EVERYONE, lambda c, w, h: c.get("/assessment/2026-11")),
    # -- credit evaluation: the grade to anyone as the model publishes it, the rest to the
    # subject itself and government; monitoring to operators and auditors
    "GET /api/v1/subjects/{subject_id}/evaluation/{model}": (
        EVERYONE,
        lambda c, w, h: c.get(f"/api/v1/subjects/{w.subject_id}/evaluation/QYGGXY", headers=h),
    ),
    "GET /api/v1/evaluation/{model}/monitor": (
        {"auditor", "operator"},
        lambda c, w, h: c.get("/api/v1/evaluation/QYGGXY/monitor", headers=h),
    ),
    "GET /me/evaluation": ({"subject"}, lambda c, w, h: c.get("/me/evaluation")),
    # the SME profile: the company itself (with a token) or a department holding its
    # authorisation; the matrix's world holds none, and a session is not accepted on the API
    "GET /api/v1/subjects/{subject_id}/profiles/{code}": (
        frozenset(),
        lambda c, w, h: c.get(
            f"/api/v1/subjects/{w.subject_id}/profiles/XYD", headers=_api_headers(c, h)
        ),
    ),
    "POST /me/evaluation/objection": (
        {"subject"},
        lambda c, w, h: c.post(
            "/me/evaluation/objection", data=_form(c, {"model": "QYGGXY", "reason": "等级有误"})
        ),
    ),
    "GET /admin/evaluation": ({"auditor", "operator"}, lambda c, w, h: c.get("/admin/evaluation")),
    # -- the operator's room: accounts, tokens, departments (changes aimed at ones that do not
    # exist or carry a mistake, so that the run goes on with the world unchanged)
    "GET /admin/accounts": ({"operator"}, lambda c, w, h: c.get("/admin/accounts")),
    "POST /admin/accounts": (
        {"operator"},
        lambda c, w, h: c.post("/admin/accounts", data=_form(c, {"username": "m.new"})),
    ),
    "GET /admin/accounts/{username}": (
        {"operator"},
        lambda c, w, h: c.get("/admin/accounts/m.clerk"),
    ),
    "POST /admin/accounts/{username}/disable": (
        {"operator"},
        lambda c, w, h: c.post("/admin/accounts/m.nobody/disable", data=_form(c)),
    ),
    "POST /admin/accounts/{username}/enable": (
        {"operator"},
        lambda c, w, h: c.post("/admin/accounts/m.nobody/enable", data=_form(c)),
    ),
    "POST /admin/accounts/{username}/password": (
        {"operator"},
        lambda c, w, h: c.post("/admin/accounts/m.nobody/password", data=_form(c)),
    ),
    "POST /admin/accounts/{username}/tokens": (
        {"operator"},
        lambda c, w, h: c.post("/admin/accounts/m.nobody/tokens", data=_form(c)),
    ),
    "POST /admin/tokens/{token_id}/revoke": (
        {"operator"},
        lambda c, w, h: c.post("/admin/tokens/999999/revoke", data=_form(c)),
    ),
    "GET /admin/departments": ({"operator"}, lambda c, w, h: c.get("/admin/departments")),
    "POST /admin/departments": (
        {"operator"},
        lambda c, w, h: c.post("/admin/departments", data=_form(c, {"uscc": "123"})),
    ),
    "GET /admin/departments/{uscc}": (
        {"operator"},
        lambda c, w, h: c.get(f"/admin/departments/{SAMR.uscc}"),
    ),
    "POST /admin/departments/{uscc}": (
        {"operator"},
        lambda c, w, h: c.post(
            f"/admin/departments/{SAMR.uscc}", data=_form(c, {"name": SAMR.name, "division": "x"})
        ),
    ),
    "POST /admin/departments/{uscc}/disable": (
        {"operator"},
        lambda c, w, h: c.post(f"/admin/departments/{UNKNOWN_DEPT}/disable", data=_form(c)),
    ),
    "GET /admin/batches": ({"operator"}, lambda c, w, h: c.get("/admin/batches")),
    "GET /admin/pending": ({"operator"}, lambda c, w, h: c.get("/admin/pending")),
    "POST /admin/pending/{record_id}/link": (
        {"operator"},
        # the world's record is linked already: 409 for an operator
        lambda c, w, h: c.post(
            f"/admin/pending/{w.record_id}/link", data=_form(c, {"code": XINYUAN.uscc})
        ),
    ),
    "GET /admin/catalogue": ({"operator"}, lambda c, w, h: c.get("/admin/catalogue")),
    "GET /admin/feedback": ({"operator"}, lambda c, w, h: c.get("/admin/feedback")),
    "POST /admin/departments/{uscc}/enable": (
        {"operator"},
        lambda c, w, h: c.post(f"/admin/departments/{UNKNOWN_DEPT}/enable", data=_form(c)),
    ),
}

# Framework routes that carry no data.
UNCHECKED = {
    "GET /api/v1/openapi.json",
    "GET /api/v1/docs",
    "GET /api/v1/docs/assets/{name}",  # Swagger UI's files
}


def route_keys(app: FastAPI) -> set[str]:
    """Every method and path the application answers, through included routers too."""
    keys = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            continue  # /static: files of the site itself
        methods = getattr(route, "methods", None) or {"GET"}
        for method in methods - {"HEAD"}:
            keys.add(f"{method} {context.path}")
    return keys


def test_every_route_is_in_the_table(app: FastAPI) -> None:
    missing = route_keys(app) - set(TABLE) - UNCHECKED
    assert not missing, f"routes without a declared permission: {sorted(missing)}"
    stale = set(TABLE) - route_keys(app)
    assert not stale, f"the table names routes that do not exist: {sorted(stale)}"


@pytest.fixture
def world(engine: Engine, catalog: Catalog, tmp_path: Path) -> World:
    path = write_csv(tmp_path / "seed.csv", [penalty(XINYUAN, "濮市监罚决字〔2025〕00001号")])
    receipt = run(engine, catalog, path)
    assert receipt.batch_id is not None
    with engine.connect() as conn:
        subject_id = conn.execute(
            select(subjects.c.id).where(subjects.c.uscc == XINYUAN.uscc)
        ).scalar_one()
    w = World(subject_id=subject_id, batch_id=receipt.batch_id, tmp=tmp_path)
    clerk = Principal(role=Role.CLERK, name="m.clerk", dept_uscc=SAMR.uscc)
    with engine.begin() as conn:
        w.job_id = queue.enqueue(
            conn, clerk, path=path, dataset="XZCF", file_name="seed.csv", channel="web"
        )
    with engine.connect() as conn:
        w.record_id = conn.execute(
            select(records.c.id).where(records.c.subject_id == subject_id)
        ).scalar_one()
    specs = {
        "subject": dict(role=Role.SUBJECT, subject_id=subject_id),
        "clerk": dict(role=Role.CLERK, dept_uscc=SAMR.uscc),
        "dept_system": dict(role=Role.DEPT_SYSTEM, dept_uscc=SAMR.uscc, password=None),
        "auditor": dict(role=Role.AUDITOR),
        "operator": dict(role=Role.OPERATOR),
    }
    for name, spec in specs.items():
        account_id = make_account(engine, catalog, f"m.{name}", **spec)  # type: ignore[arg-type]
        if name != "subject":  # a subject's account never holds an API token
            with engine.begin() as conn:
                w.tokens[name] = issue_token(
                    conn, account_id, label="matrix", by=Principal.cli("test@host")
                )
    system = Principal(role=Role.DEPT_SYSTEM, name="m.dept_system", dept_uscc=SAMR.uscc)
    measures = load_measures(measures_dir(catalog), catalog)
    with engine.begin() as conn:
        w.check_id = (
            run_check(
                conn, catalog, measures, system, subject_code=XINYUAN.uscc, matter="licensing"
            ).check_id
            or 0
        )
        w.report_no = issue_report(
            conn, catalog, Principal.public("test"), subject_id, kind=ReportKind.PUBLIC
        ).report_no
    return w


@pytest.mark.parametrize("role", ROLES)
def test_matrix(role: str, app: FastAPI, world: World) -> None:
    """Every route as ``role``: one login per role, then the whole table."""
    wrong = []
    with TestClient(app, raise_server_exceptions=False) as client:
        if role in PAGE_ACCOUNTS:
            login(client, f"m.{role}")
        headers = bearer(world.tokens[role]) if role in world.tokens else {}
        # logging in (as someone else) and out change the client's session: do them last
        for key in sorted(TABLE, key=lambda k: (k == "POST /logout", k == "POST /login")):
            allowed, call = TABLE[key]
            response = call(client, world, headers)
            assert response.status_code < 500, f"{key}: {response.status_code} {response.text}"
            # a page read without a session is sent to the login form: refused too
            to_login = (bool(response.history) and response.url.path == "/login") or (
                response.status_code == 303
                and response.headers["location"].startswith("/login?next=")
            )
            refused = response.status_code in (401, 403) or to_login
            if refused == (role in allowed):
                wrong.append(f"{key}: {response.status_code} {response.text[:160]}")
    assert not wrong, f"as {role}:\n" + "\n".join(wrong)
