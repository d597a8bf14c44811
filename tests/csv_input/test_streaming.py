"""Reading in two steps: the header line first, then the rows one at a time."""

from __future__ import annotations

import csv
import gc
import io
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hospital_bulk.csv_input import CsvFileError, open_hospital_csv, read_hospital_csv
from hospital_bulk.csv_input.decoding import open_csv_text, split_lines
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
@given(line_text)
def test_parse_records_splits_like_stringio(text: str) -> None:
    """Records and csv errors match the csv module reading io.StringIO(newline="")."""
    expected_reader = csv.reader(io.StringIO(text, newline=""), strict=True)

    try:
        expected = list(expected_reader)
    except csv.Error as error:
        with pytest.raises(csv.Error, match=re.escape(str(error))):
            list(parse_records(split_lines(text), ","))
        return

    assert list(parse_records(split_lines(text), ",")) == expected


# TextIOWrapper decodes 8,192 bytes at a time, so a line break or a character of several
# bytes can straddle two of its reads. The padding moves the text across that edge.
@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=8_150, max_value=8_200),
    st.text(alphabet=st.sampled_from('aé,"\r\n \u20ac'), max_size=60),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]),
)
def test_streamed_lines_match_split_lines(padding: int, tail: str, encoding: str) -> None:
    """A file read as a stream splits into the lines that the decoded text splits into."""
    text = "x" * padding + tail
    streamed = open_csv_text(io.BytesIO(text.encode(encoding)), filename="h.csv")

    assert streamed.encoding == encoding
    assert list(streamed.lines()) == list(split_lines(text))


def test_open_file_rows_match_bytes(tmp_path: Path) -> None:
    """An open file reads like its bytes, pass after pass, and stays open."""
    data = csv_bytes("name,address,phone", "A,1 Main St,555", '"B, Inc","2\nMain St",', "")
    path = tmp_path / "h.csv"
    path.write_bytes(data)

    with path.open("rb") as file:
        hospital_csv = open_hospital_csv(file, filename="h.csv")
        passes = [list(hospital_csv.rows()), list(hospital_csv.rows())]
        assert not file.closed

    assert passes[0] == passes[1] == read_hospital_csv(data, filename="h.csv").rows
    assert [(row.name, row.address) for row in passes[0]] == [
        ("A", "1 Main St"),
        ("B, Inc", "2\nMain St"),
    ]


def test_unfinished_pass_leaves_file_open(tmp_path: Path) -> None:
    """A pass dropped halfway, as when a row error stops an upload, keeps the file usable."""
    path = tmp_path / "h.csv"
    path.write_bytes(csv_bytes("name,address", "A,1 St", "B,2 St"))

    with path.open("rb") as file:
        hospital_csv = open_hospital_csv(file, filename="h.csv")
        rows = hospital_csv.rows()
        next(rows)
        rows.close()
        del rows
        gc.collect()

        assert not file.closed
        assert [row.name for row in hospital_csv.rows()] == ["A", "B"]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        pytest.param("name,address\nCafé,1 Rue\n".encode("cp1252"), "cp1252", id="cp1252"),
        pytest.param(b"name,address\nA,1 St\x00\n", None, id="nul-byte"),
        pytest.param(b"%PDF-name,address\nA,1 St\n", None, id="ascii-pdf"),
    ],
)
def test_unclean_text_read_whole(data: bytes, encoding: str | None) -> None:
    """Legacy encodings are guessed from the whole file, and NULs and binary files rejected."""
    if encoding is None:
        with pytest.raises(CsvFileError) as error:
            open_csv_text(io.BytesIO(data), filename="h.csv")
        assert error.value.status_code == 415
        return

    text = open_csv_text(io.BytesIO(data), filename="h.csv")

    assert text.encoding == encoding
    assert text.warning is not None
    assert "".join(text.lines()) == data.decode(encoding)
