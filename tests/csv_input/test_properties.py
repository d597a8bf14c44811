"""Property tests: any input gives a report or CsvFileError, and records survive intact."""

from __future__ import annotations

import codecs
import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hospital_bulk.csv_input import CsvFileError, CsvReport, read_hospital_csv

HEADERS = ["name", "address", "phone"]
DELIMITERS = [",", ";", "\t", "|"]
LINE_TERMINATORS = ["\n", "\r\n", "\r"]
FILE_ERROR_STATUSES = {413, 415, 422}

# Characters that stress the CSV syntax and the whitespace handling.
SPECIAL_CHARACTERS = ',;|\t"\r\n \u00a0'
# Cells for Windows-1252 files are built from words, because a guessed encoding is only
# reliable on text that reads like a language. Every accented letter is 0xE0 or above,
# and no character encodes to 0x80-0xBF, so the bytes are never valid UTF-8 (a no-break
# space, 0xA0, after "é" could make them so).
CP1252_WORDS = ["Café", "Hôpital", "Müller", "Zürich", "São", "Général", "Saint", "Clinic", "12"]
CP1252_SEPARATORS = SPECIAL_CHARACTERS.replace("\u00a0", "")

unicode_cells = st.text(
    alphabet=st.one_of(
        st.sampled_from(SPECIAL_CHARACTERS),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    ),
    max_size=20,
)
cp1252_cells = st.lists(
    st.one_of(st.sampled_from(CP1252_WORDS), st.sampled_from(list(CP1252_SEPARATORS))),
    max_size=6,
).map("".join)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, list[list[str]]]:
    """Draw the bytes of a CSV file and the records written to it, header excluded."""
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    cells = cp1252_cells if encoding == "cp1252" else unicode_cells
    records = draw(st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=8))
    delimiter = draw(st.sampled_from(DELIMITERS))
    line_terminator = draw(st.sampled_from(LINE_TERMINATORS))

    output = io.StringIO()
    # The csv writer quotes a cell with CR or LF only if the character is in the line
    # terminator, so other terminators need every cell quoted.
    quoting = csv.QUOTE_MINIMAL if line_terminator == "\r\n" else csv.QUOTE_ALL
    writer = csv.writer(
        output, delimiter=delimiter, lineterminator=line_terminator, quoting=quoting
    )
    writer.writerow(HEADERS)
    writer.writerows(records)
    text = output.getvalue()

    if encoding == "utf-16":
        data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    else:
        data = text.encode(encoding)
    return data, records


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2_000))
def test_any_bytes_report_or_file_error(data: bytes) -> None:
    try:
        report = read_hospital_csv(data, filename="fuzz.csv")
    except CsvFileError as error:
        assert error.status_code in FILE_ERROR_STATUSES
        return

    assert isinstance(report, CsvReport)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2_000))
def test_any_body_report_or_file_error(body: bytes) -> None:
    try:
        report = read_hospital_csv(b"name,address,phone\n" + body, filename="fuzz.csv")
    except CsvFileError as error:
        assert error.status_code in FILE_ERROR_STATUSES
        return

    assert isinstance(report, CsvReport)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_files())
def test_generated_records_intact(file: tuple[bytes, list[list[str]]]) -> None:
    data, records = file
    expected = [
        (row, [cell.strip() for cell in record])
        for row, record in enumerate(records, start=1)
        if any(cell.strip() for cell in record)
    ]

    try:
        report = read_hospital_csv(data, filename="generated.csv")
    except CsvFileError as error:
        assert not expected, str(error)
        assert error.title == "No data rows"
        return
    loaded = [(row.row, [row.name, row.address, row.phone or ""]) for row in report.rows]

    assert loaded == expected
