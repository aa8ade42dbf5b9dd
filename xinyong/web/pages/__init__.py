"""Server-rendered pages: the public portal and the pages of logged-in users."""

from fastapi import APIRouter

from xinyong.web.pages import (
    assessment,
    auth,
    cases,
    checks,
    complaints,
    dept,
    evaluation,
    exchange,
    lists,
    me,
    opendata,
    operations,
    operator,
    oversight,
    paper,
    public,
    reconcile,
    register,
    repair,
    window,
)

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
router.include_router(public.router)
router.include_router(dept.router)
router.include_router(lists.router)
router.include_router(me.router)
router.include_router(oversight.router)
router.include_router(operator.router)
router.include_router(operations.router)
router.include_router(checks.router)
router.include_router(register.router)
router.include_router(paper.router)
router.include_router(cases.router)
router.include_router(repair.router)
router.include_router(window.router)
router.include_router(complaints.router)
router.include_router(assessment.router)
router.include_router(evaluation.router)
router.include_router(exchange.router)
router.include_router(reconcile.router)
router.include_router(opendata.router)
