"""Read an uploaded CSV file of hospitals: its header line first, then its rows one by one."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

from hospital_bulk.csv_input.columns import ColumnLayout, resolve_columns
from hospital_bulk.csv_input.decoding import CsvText, open_csv_text
from hospital_bulk.csv_input.dialect import detect_delimiter, find_header_line, parse_records
from hospital_bulk.csv_input.errors import STATUS_TOO_LARGE, CsvFileError
from hospital_bulk.csv_input.models import CsvReport, HospitalRow
from hospital_bulk.csv_input.rows import RowBuilder, is_blank_record

__all__ = ["HospitalCsv", "open_hospital_csv", "read_hospital_csv"]

_EXAMPLE_FIX = (
    'Upload a CSV file whose first line is the header "name,address,phone", followed by '
    "one hospital per line."
)


@dataclass(frozen=True, slots=True)
class HospitalCsv:
    """A CSV file of hospitals whose header line was understood, with its rows not yet read.

    `rows()` decodes, parses and checks the data rows one at a time from the file, so a
    caller that stores each row as it comes keeps only one row of the file in memory
    (see `open_csv_text` for the files that are read whole).

    Attributes:
        filename: The name of the file, as given by the caller.
        encoding: The Python codec name the file was decoded with (see `CsvReport`).
        delimiter: The delimiter between cells.
        layout: The columns of the fields, resolved from the header line.
        warnings: Messages about the whole file, such as ignored columns or a guessed
            encoding.
        text: The text of the file.
        header_line: The index in `text.lines()` of the header line.
        max_rows: The maximum number of data rows, or None for no limit.
        reject_duplicates: If True, a row that repeats an earlier row gets an error
            instead of a warning.
    """

    filename: str
    encoding: str
    delimiter: str
    layout: ColumnLayout
    warnings: list[str]
    text: CsvText = field(repr=False)
    header_line: int
    max_rows: int | None
    reject_duplicates: bool

    @property
    def columns(self) -> list[str]:
        return list(self.layout.headers)

    @property
    def mapping(self) -> dict[str, list[str]]:
        return self.layout.mapping()

    @property
    def ignored_columns(self) -> list[str]:
        return self.layout.ignored_headers()

    def rows(self) -> Iterator[HospitalRow]:
        """Parse and check the data rows, one at a time and in file order.

        Problems in single rows do not raise: the row carries them in its `errors`.
        Blank records are skipped. Each call reads the rows again from the start, with
        its own duplicate detection.

        Raises:
            CsvFileError: When a record is malformed, when the file has more than
                `max_rows` data rows, or when it has none. The rows before the problem
                have been yielded by then, so a caller that stores rows as they come
                must discard them.
        """
        records = _records_from_header(self.text, self.header_line, self.delimiter, self.filename)
        next(records)  # The header line, resolved already.
        builder = RowBuilder(
            self.layout, delimiter=self.delimiter, reject_duplicates=self.reject_duplicates
        )
        count = 0
        for row, record in records:
            if is_blank_record(record):
                continue
            if self.max_rows is not None and count >= self.max_rows:
                raise _too_many_rows_error(row, self.max_rows, filename=self.filename)
            count += 1
            yield builder.build(row, record)

        if not count:
            raise CsvFileError(
                filename=self.filename,
                title="No data rows",
                detail="The file has a header line but no hospital rows below it.",
                fix="Add one hospital per line below the header line, or upload the file "
                "that has them.",
            )


def open_hospital_csv(
    data: bytes | BinaryIO,
    *,
    filename: str,
    column_mapping: Mapping[str, str] | None = None,
    max_rows: int | None = None,
    reject_duplicates: bool = False,
) -> HospitalCsv:
    """Decode a CSV file of hospitals and resolve its header line, without reading its rows.

    This step raises every problem that rejects the file from its header line alone.
    Problems found later, in the rows, raise from `HospitalCsv.rows()`.

    Args:
        data: The bytes of the file, as uploaded, or a seekable binary file of them. A
            file must stay open while `HospitalCsv.rows()` reads it.
        filename: The name of the file, used in every message.
        column_mapping: The source header of some fields, such as
            {"name": "Nom", "address": "Adresse"}. It overrides header detection for the
            fields it names. Fields: name, address, address_line_2, city, state, zip, phone.
        max_rows: The maximum number of data rows (blank records not counted), or None
            for no limit.
        reject_duplicates: If True, a row that repeats an earlier row gets an error
            instead of a warning.

    Raises:
        CsvFileError: When the content is not text, or the file has no usable header
            line (see its `status_code`).
        ValueError: When `max_rows` is less than 1.
    """
    if max_rows is not None and max_rows < 1:
        raise ValueError(f"max_rows must be at least 1 or None, not {max_rows}")

    file = io.BytesIO(data) if isinstance(data, bytes) else data
    text = open_csv_text(file, filename=filename)
    header_line = find_header_line(text.lines())
    if header_line is None:
        raise CsvFileError(
            filename=filename,
            title="Empty file",
            detail="The file contains no text other than blank lines.",
            fix=_EXAMPLE_FIX,
        )

    index, line = header_line
    delimiter = detect_delimiter(line, column_mapping)
    records = _records_from_header(text, index, delimiter, filename)
    _, header = next(records)
    records.close()
    layout = resolve_columns(header, filename=filename, column_mapping=column_mapping)

    warnings = [text.warning] if text.warning else []
    warnings.extend(layout.warnings())
    return HospitalCsv(
        filename=filename,
        encoding=text.encoding,
        delimiter=delimiter,
        layout=layout,
        warnings=warnings,
        text=text,
        header_line=index,
        max_rows=max_rows,
        reject_duplicates=reject_duplicates,
    )


def read_hospital_csv(
    data: bytes | BinaryIO,
    *,
    filename: str,
    column_mapping: Mapping[str, str] | None = None,
    max_rows: int | None = None,
    reject_duplicates: bool = False,
) -> CsvReport:
    """Decode, parse and check a CSV file of hospitals, keeping every row in the report.

    Problems in single rows do not raise: the row is kept in `CsvReport.rows` with its
    `errors`, and the other rows still load. Blank records are skipped. The arguments
    are those of `open_hospital_csv`.

    Raises:
        CsvFileError: When the file as a whole cannot be loaded (see its `status_code`).
        ValueError: When `max_rows` is less than 1.
    """
    hospital_csv = open_hospital_csv(
        data,
        filename=filename,
        column_mapping=column_mapping,
        max_rows=max_rows,
        reject_duplicates=reject_duplicates,
    )
    return CsvReport(
        filename=filename,
        encoding=hospital_csv.encoding,
        delimiter=hospital_csv.delimiter,
        columns=hospital_csv.columns,
        mapping=hospital_csv.mapping,
        ignored_columns=hospital_csv.ignored_columns,
        rows=list(hospital_csv.rows()),
        warnings=hospital_csv.warnings,
    )


def _too_many_rows_error(row: int, max_rows: int, *, filename: str) -> CsvFileError:
    return CsvFileError(
        filename=filename,
        title="Too many rows",
        detail=f"The file has more than {_count_rows(max_rows)}, the maximum for one upload.",
        fix=f"Split the file into files of at most {_count_rows(max_rows)} each, and "
        "upload them one by one.",
        row=row,
        status_code=STATUS_TOO_LARGE,
    )


def _records_from_header(
    text: CsvText, header_line: int, delimiter: str, filename: str
) -> Iterator[tuple[int, list[str]]]:
    lines = itertools.islice(text.lines(), header_line, None)
    return _number_records(parse_records(lines, delimiter), filename=filename)


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
