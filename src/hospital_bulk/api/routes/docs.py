"""OpenAPI docs at /docs, with Swagger UI served from the package so that they work offline.

FastAPI's default docs page loads Swagger UI from a CDN, which a machine without network
access cannot reach; the swagger-ui-bundle-v2 package ships the same files.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS_PATH = "/docs-assets"

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def read_docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=str(request.app.openapi_url),
        title=f"{request.app.title} - API docs",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
    )


def mount_docs_assets(app: FastAPI) -> None:
    """Serve the Swagger UI files that the /docs page loads."""
    app.mount(ASSETS_PATH, StaticFiles(directory=swagger_ui_path), name="docs-assets")
