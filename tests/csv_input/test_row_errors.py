"""Rows with problems stay in the report with errors, and the other rows still load."""

from __future__ import annotations

import pytest

from hospital_bulk.csv_input import (
    MAX_ADDRESS_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PHONE_LENGTH,
    read_hospital_csv,
)
from tests.csv_input.helpers import csv_bytes

LONG_NAME = "N" * (MAX_NAME_LENGTH + 1)
LONG_STREET = "S" * (MAX_ADDRESS_LENGTH + 1)
LONG_PHONE = "5" * (MAX_PHONE_LENGTH + 1)


def case(line: str, column: str, fragment: str, *, id: str, header: str = "name,address,phone"):
    """A file with `line` as row 2 between two good rows; row 2 must fail in `column`."""
    empty_cells = "," * (header.count(",") - 1)
    first = f"Good Hospital,9 Good St{empty_cells}"
    last = f"Other Hospital,7 Other St{empty_cells}"
    data = csv_bytes(header, first, line, last)
    return pytest.param(data, column, fragment, id=id)


ROW_ERROR_CASES = [
    case(
        ",1 Main St,555-0100",
        "name",
        "the value is empty. Fill in the hospital name.",
        id="name-empty",
    ),
    case("   ,1 Main St,555-0100", "name", "the value is empty.", id="name-whitespace"),
    case(
        "A,,555-0100",
        "address",
        "the value is empty. Fill in the street address.",
        id="address-empty",
    ),
    case("A, \t ,555-0100", "address", "the value is empty.", id="address-whitespace"),
    case(
        "A,,Lowell,MA,01830",
        "Street",
        "the value is empty.",
        header="name,Street,City,State,ZIP",
        id="split-address-street-empty",
    ),
    case(
        "A,1 Main St",
        "phone",
        "the row has 2 cells, but the header line has 3 columns.",
        id="short-row",
    ),
    case("A", "address", "the row has 1 cell, but", id="short-row-one-cell"),
    case(
        "A,1 Main St,555-0100,extra", "", "column 4 (no header): the row has 4 cells", id="long-row"
    ),
    case(
        f"{LONG_NAME},1 Main St,",
        "name",
        "256 characters, more than the maximum of 255",
        id="name-too-long",
    ),
    case(
        f"A,{LONG_STREET},",
        "address",
        "501 characters, more than the maximum of 500",
        id="address-too-long",
    ),
    case(
        f"A,{'S' * 490},Lowell,MA,01830",
        "Street",
        'joined from "Street", "City", "State", "ZIP"), more than the maximum of 500',
        header="name,Street,City,State,ZIP",
        id="composed-address-too-long",
    ),
    case(
        f"A,1 Main St,{LONG_PHONE}",
        "phone",
        "41 characters, more than the maximum of 40",
        id="phone-too-long",
    ),
    case("A,1 Main St,call us", "phone", '"call us" is not a phone number', id="phone-letters"),
    case("A,1 Main St,555-0100 ext: 4", "phone", "is not a phone number", id="phone-bad-extension"),
    case(
        "A,1 Main St,12",
        "phone",
        '"12" has 2 digits, fewer than the minimum of 3',
        id="phone-few-digits",
    ),
    case("A,1 Main St,(--) x1", "phone", "has 1 digit, fewer", id="phone-extension-only"),
    case(
        "A\x07B,1 Main St,",
        "name",
        "control character U+0007 at position 2. Delete it.",
        id="name-control",
    ),
    case(
        "A,1 Main St,Lowell\x1b,MA,",
        "City",
        "control character U+001B at position 7",
        header="name,address,City,State,ZIP",
        id="city-control",
    ),
    case('"A\nB",1 Main St,', "name", "the value contains a line break.", id="name-line-break"),
]


@pytest.mark.parametrize(("data", "column", "fragment"), ROW_ERROR_CASES)
def test_row_error(data: bytes, column: str, fragment: str) -> None:
    report = read_hospital_csv(data, filename="hospitals.csv")
    bad_row = report.rows[1]
    prefix = f'Row 2, column "{column}": ' if column else "Row 2, column "

    assert [row.row for row in report.rows] == [1, 2, 3]
    assert [row.row for row in report.invalid_rows] == [2]
    assert len(bad_row.errors) == 1
    assert bad_row.errors[0].startswith(prefix)
    assert fragment in bad_row.errors[0]


def test_short_row_keeps_present_cells() -> None:
    report = read_hospital_csv(csv_bytes("name,address,phone", "A,1 Main St"), filename="h.csv")
    row = report.rows[0]

    assert row.name == "A"
    assert row.address == "1 Main St"
    assert row.source == {"name": "A", "address": "1 Main St", "phone": ""}


def test_errors_use_header_as_found() -> None:
    report = read_hospital_csv(csv_bytes("Facility Name,Address", ",1 Main St"), filename="h.csv")

    assert report.rows[0].errors[0].startswith('Row 1, column "Facility Name": ')


def test_several_errors_in_one_row() -> None:
    report = read_hospital_csv(csv_bytes("name,address,phone", ",,x"), filename="h.csv")
    errors = report.rows[0].errors

    assert len(errors) == 3
    assert errors[0].startswith('Row 1, column "name"')
    assert errors[1].startswith('Row 1, column "address"')
    assert errors[2].startswith('Row 1, column "phone"')


def test_row_numbers_count_multiline_records() -> None:
    data = csv_bytes("name,address", '"A","1 Main St', 'Suite 2"', ",2 Main St")

    report = read_hospital_csv(data, filename="hospitals.csv")

    assert report.invalid_rows[0].row == 2
