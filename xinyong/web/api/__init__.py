"""The JSON API under /api/v1: thin routes over the services; errors are
``{"error": {"code", "message"}}`` (see ``xinyong.web.errors``)."""

from fastapi import APIRouter, Depends

from xinyong.web.api import (
    batches,
    cases,
    checks,
    contract,
    docs,
    evaluation,
    exchange,
    lists,
    notifications,
    public,
    reference,
    repair,
    reports,
)

router = APIRouter(dependencies=[Depends(contract.known_query_only)])
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
router.include_router(reference.router)
router.include_router(docs.router)
