"""Every error as RFC 9457 problem details (`application/problem+json`), mapped in one place."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hospital_bulk.csv_input import CsvFileError
from hospital_bulk.errors import HospitalBulkError

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, **extensions: Any) -> JSONResponse:
    """Build a problem response; `extensions` become extra members (fix, row, column, ...)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({key: value for key, value in extensions.items() if value is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into problem responses."""

    @app.exception_handler(HospitalBulkError)
    async def _service_error(_request: Request, exc: HospitalBulkError) -> JSONResponse:
        return problem(exc.status_code, exc.title, exc.detail, fix=exc.fix, **exc.extensions)

    @app.exception_handler(CsvFileError)
    async def _csv_error(_request: Request, exc: CsvFileError) -> JSONResponse:
        return problem(
            exc.status_code,
            exc.title,
            exc.detail,
            fix=exc.fix,
            file=exc.filename,
            row=exc.row,
            column=exc.column,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(part) for part in error.get("loc", ())),
                "message": error.get("msg"),
            }
            for error in exc.errors()
        ]
        detail = "; ".join(f"{error['field']}: {error['message']}" for error in errors)
        return problem(
            422,
            "Invalid request",
            detail,
            errors=errors,
            fix="Correct the named fields and send the request again.",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = problem(exc.status_code, _title(exc.status_code), str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
