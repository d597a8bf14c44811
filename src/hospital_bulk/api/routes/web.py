"""The upload page at `/` and its script and style sheet at `/static`, served from the package.

The page and its assets need no API key: they hold no data, and the page sends the key
that the user enters with each API request.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

router = APIRouter(include_in_schema=False)
router.mount("/static", StaticFiles(packages=[("hospital_bulk.web", "static")]), name="static")

#: Lets the page load only from this service, so that it works offline and a stray
#: reference to a CDN or web font fails in the browser instead of leaking requests.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@router.get("/", response_class=HTMLResponse)
def read_upload_page() -> HTMLResponse:
    page = files("hospital_bulk.web").joinpath("static/index.html").read_text(encoding="utf-8")
    return HTMLResponse(
        page,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
