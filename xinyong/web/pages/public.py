"""The public portal pages (信用濮阳). Filled in by the portal work; the home page is here so
that the application always has a front door."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from xinyong.web.deps import page
from xinyong.web.render import render

router = APIRouter()


@router.get("/")
def home(request: Request) -> Response:
    with page(request):
        return render(request, "home.html", {})
