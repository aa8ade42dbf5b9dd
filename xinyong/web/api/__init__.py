"""The JSON API under /api/v1: thin routes over the services; errors are
``{"error": {"code", "message"}}`` (see ``xinyong.web.errors``)."""

from fastapi import APIRouter

from xinyong.web.api import (
    batches,
    cases,
    checks,
    evaluation,
    exchange,
    lists,
    notifications,
    public,
    repair,
    reports,
)

router = APIRouter()
# before the public routes: /lists/{kind} would otherwise answer /lists/entries
router.include_router(lists.router)
router.include_router(public.router)
router.include_router(batches.router)
router.include_router(checks.router)
router.include_router(notifications.router)
router.include_router(reports.router)
router.include_router(cases.router)
router.include_router(repair.router)
router.include_router(evaluation.router)
router.include_router(exchange.router)
