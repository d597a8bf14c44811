"""Validation of a CSV file without uploading it: the report an upload would act on."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from hospital_bulk.api.deps import OwnerDep, ServicesDep
from hospital_bulk.api.forms import ColumnMappingField, CsvFile, parse_column_mapping
from hospital_bulk.api.schemas import ValidatedRow, ValidationReport
from hospital_bulk.csv_input import CsvReport, HospitalRow, read_hospital_csv
from hospital_bulk.jobs.intake import check_batch_cap

router = APIRouter(prefix="/api/v1/hospitals", tags=["hospitals"])

#: Rows shown in `preview`, enough to check that the columns were understood.
PREVIEW_ROWS = 5

_PROBLEM = {"content": {"application/problem+json": {}}}


@router.post(
    "/bulk/validate",
    response_model=ValidationReport,
    responses={401: _PROBLEM, 413: _PROBLEM, 415: _PROBLEM, 422: _PROBLEM},
)
async def validate_hospitals_file(
    services: ServicesDep,
    _owner: OwnerDep,
    file: CsvFile,
    column_mapping: ColumnMappingField = None,
) -> ValidationReport:
    """Read a CSV file as an upload would, and report what was found. Creates nothing.

    The report names the detected encoding and delimiter, the column of each field, the
    ignored columns, and every row with an error or a warning. A file that an upload
    would reject gets the same problem response (413, 415 or 422) as the upload.
    """
    settings = services.settings
    report = await asyncio.to_thread(
        read_hospital_csv,
        file.file,
        filename=file.filename or "upload.csv",
        column_mapping=parse_column_mapping(column_mapping),
        max_rows=settings.max_rows,
        reject_duplicates=settings.reject_duplicate_rows,
    )
    check_batch_cap(report, settings.directory_batch_cap)
    return _validation_report(report)


def _validation_report(report: CsvReport) -> ValidationReport:
    flagged = [row for row in report.rows if row.errors or row.warnings]
    return ValidationReport(
        filename=report.filename,
        encoding=report.encoding,
        delimiter=report.delimiter,
        columns=list(report.columns),
        mapping={field: list(columns) for field, columns in report.mapping.items()},
        ignored_columns=list(report.ignored_columns),
        warnings=list(report.warnings),
        total_rows=len(report.rows),
        valid_rows=len(report.valid_rows),
        invalid_rows=len(report.invalid_rows),
        rows_with_warnings=sum(1 for row in report.rows if row.warnings),
        rows=[_validated_row(row) for row in flagged],
        preview=[_validated_row(row) for row in report.rows[:PREVIEW_ROWS]],
    )


def _validated_row(row: HospitalRow) -> ValidatedRow:
    return ValidatedRow(
        row=row.row,
        name=row.name,
        address=row.address,
        phone=row.phone,
        errors=list(row.errors),
        warnings=list(row.warnings),
    )
