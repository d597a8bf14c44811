"""Export of a job's rows as CSV: the original cells plus each row's outcome."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse

from hospital_bulk.api.deps import OwnerDep, ServicesDep
from hospital_bulk.jobs.models import Job, RowResult
from hospital_bulk.jobs.states import RowStatus
from hospital_bulk.store.repository import JobRepository

router = APIRouter(prefix="/api/v1/hospitals", tags=["hospitals"])

#: Columns added after the original ones, in this order.
OUTCOME_COLUMNS = ("row", "status", "hospital_id", "error_message")

#: First characters that make Excel, LibreOffice and Google Sheets read a cell as a
#: formula (OWASP "CSV Injection"); such cells get a leading single quote.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

#: Rows read from the job store per query while the export streams.
PAGE_SIZE = 1000

_FALLBACK_COLUMNS = ("name", "address", "phone")


@router.get(
    "/status/{job_id}/rows.csv",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The rows as CSV, UTF-8 with a BOM."},
        404: {"content": {"application/problem+json": {}}},
        422: {"content": {"application/problem+json": {}}},
    },
)
def export_job_rows(
    job_id: str,
    services: ServicesDep,
    owner: OwnerDep,
    status: Annotated[
        list[str] | None,
        Query(
            description="Only rows with these statuses; repeat the parameter or separate them "
            "with commas."
        ),
    ] = None,
) -> StreamingResponse:
    """Download a job's rows as CSV: the file's original columns, then `row`, `status`,
    `hospital_id` and `error_message`.

    Cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab
    or carriage return) get a leading `'`. The file is UTF-8 with a byte order mark, so
    that Excel detects the encoding; the upload endpoint accepts it as it is.
    """
    repository = services.repository
    job = repository.get_job(job_id, owner=owner)
    statuses = parse_status_filter(status)
    source_columns = _source_columns(job, repository)
    lines = _csv_lines(repository, job, source_columns=source_columns, statuses=statuses)
    filename = export_filename(job.filename, statuses)
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition(filename)},
    )


def parse_status_filter(values: list[str] | None) -> frozenset[RowStatus] | None:
    """Return the row statuses named in `values`, or None when no filter was given.

    Raises:
        RequestValidationError: a value is not a row status.
    """
    names = [name.strip() for value in values or [] for name in value.split(",") if name.strip()]
    if not names:
        return None
    allowed = {status.value for status in RowStatus}
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "status"),
                    "msg": f"{unknown[0]!r} is not a row status; use one or more of "
                    f"{', '.join(sorted(allowed))}.",
                    "type": "enum",
                }
            ]
        )
    return frozenset(RowStatus(name) for name in names)


def neutralize_formula(cell: str) -> str:
    """Prefix a single quote to a cell that a spreadsheet would run as a formula."""
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell


def export_filename(upload_filename: str, statuses: frozenset[RowStatus] | None) -> str:
    """Name the export after the uploaded file, e.g. "hospitals-failed.csv"."""
    stem = PurePath(upload_filename.replace("\\", "/")).stem or "job"
    suffix = "-".join(sorted(status.value for status in statuses)) if statuses else "rows"
    return f"{stem}-{suffix}.csv"


def content_disposition(filename: str) -> str:
    """Build an attachment header with an ASCII fallback and the UTF-8 name (RFC 6266)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _source_columns(job: Job, repository: JobRepository) -> list[str]:
    # Every row's source has the same keys: the header, made unique.
    first = repository.list_rows(job.id, limit=1)
    if first and first[0].source:
        return list(first[0].source)
    return list(job.file_report.get("columns") or _FALLBACK_COLUMNS)


def _outcome_headers(source_columns: list[str]) -> list[str]:
    # An original column with the same name would make the header ambiguous, and an
    # upload of the export would then be rejected for its duplicate headers.
    existing_names = {column.casefold() for column in source_columns}
    return [f"result_{name}" if name in existing_names else name for name in OUTCOME_COLUMNS]


def _csv_lines(
    repository: JobRepository,
    job: Job,
    *,
    source_columns: list[str],
    statuses: frozenset[RowStatus] | None,
) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [neutralize_formula(cell) for cell in source_columns + _outcome_headers(source_columns)]
    )
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode()

    # The whole job is paged without the status filter because a running job's rows
    # change status between pages, which would shift the offsets of a filtered query.
    offset = 0
    while page := repository.list_rows(job.id, offset=offset, limit=PAGE_SIZE):
        offset += len(page)
        buffer.seek(0)
        buffer.truncate()
        for row in page:
            if statuses is None or row.status in statuses:
                writer.writerow(_export_cells(row, source_columns))
        yield buffer.getvalue().encode()


def _export_cells(row: RowResult, source_columns: list[str]) -> list[str]:
    source = row.source or {"name": row.name, "address": row.address, "phone": row.phone or ""}
    cells = [source.get(column, "") for column in source_columns]
    cells += [
        str(row.row),
        row.status.value,
        "" if row.hospital_id is None else str(row.hospital_id),
        row.error_message or "",
    ]
    return [neutralize_formula(cell) for cell in cells]
