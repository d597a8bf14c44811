"""Read an uploaded CSV file of hospitals into a `CsvReport`."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping

from hospital_bulk.csv_input.columns import resolve_columns
from hospital_bulk.csv_input.decoding import decode_csv_bytes
from hospital_bulk.csv_input.dialect import detect_delimiter, find_header_line, parse_records
from hospital_bulk.csv_input.errors import STATUS_TOO_LARGE, CsvFileError
from hospital_bulk.csv_input.models import CsvReport, HospitalRow
from hospital_bulk.csv_input.rows import RowBuilder, is_blank_record

__all__ = ["read_hospital_csv"]

_EXAMPLE_FIX = (
    'Upload a CSV file whose first line is the header "name,address,phone", followed by '
    "one hospital per line."
)


def read_hospital_csv(
    data: bytes,
    *,
    filename: str,
    column_mapping: Mapping[str, str] | None = None,
    max_rows: int | None = None,
    reject_duplicates: bool = False,
) -> CsvReport:
    """Decode, parse and check a CSV file of hospitals.

    Problems in single rows do not raise: the row is kept in `CsvReport.rows` with its
    `errors`, and the other rows still load. Blank records are skipped.

    Args:
        data: The bytes of the file, as uploaded.
        filename: The name of the file, used in every message.
        column_mapping: The source header of some fields, such as
            {"name": "Nom", "address": "Adresse"}. It overrides header detection for the
            fields it names. Fields: name, address, address_line_2, city, state, zip, phone.
        max_rows: The maximum number of data rows (blank records not counted), or None
            for no limit.
        reject_duplicates: If True, a row that repeats an earlier row gets an error
            instead of a warning.

    Raises:
        CsvFileError: When the file as a whole cannot be loaded (see its `status_code`).
        ValueError: When `max_rows` is less than 1.
    """
    if max_rows is not None and max_rows < 1:
        raise ValueError(f"max_rows must be at least 1 or None, not {max_rows}")

    decoded = decode_csv_bytes(data, filename=filename)
    header_line = find_header_line(decoded.text)
    if header_line is None:
        raise CsvFileError(
            filename=filename,
            title="Empty file",
            detail="The file contains no text other than blank lines.",
            fix=_EXAMPLE_FIX,
        )

    offset, line = header_line
    delimiter = detect_delimiter(line, column_mapping)
    records = _number_records(parse_records(decoded.text[offset:], delimiter), filename=filename)
    _, header = next(records)
    layout = resolve_columns(header, filename=filename, column_mapping=column_mapping)

    builder = RowBuilder(layout, delimiter=delimiter, reject_duplicates=reject_duplicates)
    rows = _build_rows(records, builder, max_rows=max_rows, filename=filename)
    warnings = [decoded.warning] if decoded.warning else []
    warnings.extend(layout.warnings())
    return CsvReport(
        filename=filename,
        encoding=decoded.encoding,
        delimiter=delimiter,
        columns=list(layout.headers),
        mapping=layout.mapping(),
        ignored_columns=layout.ignored_headers(),
        rows=rows,
        warnings=warnings,
    )


def _build_rows(
    records: Iterable[tuple[int, list[str]]],
    builder: RowBuilder,
    *,
    max_rows: int | None,
    filename: str,
) -> list[HospitalRow]:
    rows: list[HospitalRow] = []
    for row, record in records:
        if is_blank_record(record):
            continue
        if max_rows is not None and len(rows) >= max_rows:
            raise CsvFileError(
                filename=filename,
                title="Too many rows",
                detail=f"The file has more than {_count_rows(max_rows)}, the maximum for "
                "one upload.",
                fix=f"Split the file into files of at most {_count_rows(max_rows)} each, and "
                "upload them one by one.",
                row=row,
                status_code=STATUS_TOO_LARGE,
            )
        rows.append(builder.build(row, record))

    if not rows:
        raise CsvFileError(
            filename=filename,
            title="No data rows",
            detail="The file has a header line but no hospital rows below it.",
            fix="Add one hospital per line below the header line, or upload the file that "
            "has them.",
        )
    return rows


def _number_records(
    records: Iterator[list[str]], *, filename: str
) -> Iterator[tuple[int, list[str]]]:
    """Yield (row, record) with the header as row 0, turning csv.Error into CsvFileError."""
    row = 0
    try:
        for record in records:
            yield row, record
            row += 1
    except csv.Error as exc:
        raise _malformed_record_error(exc, row, filename=filename) from exc


def _malformed_record_error(exc: csv.Error, row: int, *, filename: str) -> CsvFileError:
    # The csv module has no error codes, so the cause is read from its message text
    # (as in CPython 3.11: "unexpected end of data", "',' expected after '\"'"). Other
    # messages get the generic fix.
    message = str(exc)
    where = f"Row {row}" if row else "The header line"
    if "unexpected end of data" in message:
        detail = (
            f'{where} has a cell that starts with a double quote (") but is never closed, '
            "so the rest of the file would be read into that one cell."
        )
        fix = "Add the closing double quote at the end of the cell, or delete the opening one."
    elif "expected after" in message:
        detail = f"{where} has a cell in double quotes with more text after the closing quote."
        fix = (
            "Put the whole cell in double quotes and write each double quote inside it twice, "
            'as in "St. ""Mary"" Hospital".'
        )
    else:
        detail = f"{where} is not valid CSV: {message}."
        fix = "Open the file in a spreadsheet program, check that row, and save it as CSV again."
    return CsvFileError(
        filename=filename,
        title="Malformed CSV",
        detail=detail,
        fix=fix,
        row=row or None,
    )


def _count_rows(number: int) -> str:
    return "1 row" if number == 1 else f"{number} rows"
