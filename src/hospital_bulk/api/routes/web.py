"""The upload page at `/`, served from the package so that it works offline."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def read_upload_page() -> HTMLResponse:
    page = files("hospital_bulk.web").joinpath("static/index.html").read_text(encoding="utf-8")
    return HTMLResponse(page)
