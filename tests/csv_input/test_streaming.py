"""Reading in two steps: the header line first, then the rows one at a time."""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hospital_bulk.csv_input import CsvFileError, open_hospital_csv, read_hospital_csv
from hospital_bulk.csv_input.dialect import parse_records
from tests.csv_input.helpers import csv_bytes


def test_rows_read_lazily() -> None:
    """The first rows come out before the parser reaches a malformed record further down."""
    data = csv_bytes("name,address", "A,1 Main St", "B,2 Main St", '"C,3 Main St')

    rows = open_hospital_csv(data, filename="h.csv").rows()
    first = next(rows)
    second = next(rows)

    assert (first.row, first.name) == (1, "A")
    assert (second.row, second.name) == (2, "B")
    with pytest.raises(CsvFileError, match="never closed") as error:
        next(rows)
    assert error.value.row == 3


def test_header_errors_raise_on_open() -> None:
    with pytest.raises(CsvFileError, match="Missing column"):
        open_hospital_csv(csv_bytes("name,city", "A,Springfield"), filename="h.csv")


def test_rows_match_report() -> None:
    """Each call of rows() reads the file again, with its own duplicate detection."""
    data = csv_bytes("name,address", "A,1 Main St", "", "A,1 Main St", ",2 Main St")
    hospital_csv = open_hospital_csv(data, filename="h.csv", reject_duplicates=True)

    first_pass = list(hospital_csv.rows())
    second_pass = list(hospital_csv.rows())
    report = read_hospital_csv(data, filename="h.csv", reject_duplicates=True)

    assert first_pass == report.rows
    assert second_pass == report.rows
    assert [row.row for row in report.rows] == [1, 3, 4]
    assert "repeats row 1" in report.rows[1].errors[0]


def test_max_rows_raises_while_streaming() -> None:
    data = csv_bytes("name,address", "A,1 St", "B,2 St", "C,3 St")

    rows = open_hospital_csv(data, filename="h.csv", max_rows=2).rows()

    assert [row.name for row in (next(rows), next(rows))] == ["A", "B"]
    with pytest.raises(CsvFileError, match="Too many rows") as error:
        next(rows)
    assert error.value.status_code == 413


def test_no_data_rows_raises_at_end() -> None:
    rows = open_hospital_csv(csv_bytes("name,address", ",,"), filename="h.csv").rows()

    with pytest.raises(CsvFileError, match="No data rows"):
        next(rows)


line_text = st.text(alphabet=st.sampled_from('ab,"\r\n '), max_size=40)


@settings(max_examples=500, deadline=None)
@given(line_text, st.integers(min_value=0, max_value=40))
def test_parse_records_splits_like_stringio(text: str, start: int) -> None:
    """Records and csv errors match the csv module reading io.StringIO(newline="")."""
    start = min(start, len(text))
    expected_reader = csv.reader(io.StringIO(text[start:], newline=""), strict=True)

    try:
        expected = list(expected_reader)
    except csv.Error as error:
        with pytest.raises(csv.Error, match=re.escape(str(error))):
            list(parse_records(text, ",", start=start))
        return

    assert list(parse_records(text, ",", start=start)) == expected
