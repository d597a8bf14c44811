"""Files that cannot load at all raise CsvFileError with a status, location and fix."""

from __future__ import annotations

import codecs
import pickle
from typing import Any

import pytest

from hospital_bulk.csv_input import CsvFileError, read_hospital_csv
from tests.csv_input.helpers import csv_bytes

SAVE_AS_CSV = 'save it as "CSV UTF-8 (Comma delimited)"'
# Russian with little variety reads about as well in Windows-1251 as in Mac Cyrillic.
AMBIGUOUS_CP1251 = (
    "name,address\n" + "".join(f"Больница {i},улица {i}\n" for i in range(200))
).encode("cp1251")


def case(
    data: bytes,
    status: int,
    title: str,
    fragment: str,
    *,
    id: str,
    column: str | None = None,
    row: int | None = None,
    options: dict[str, Any] | None = None,
) -> Any:
    return pytest.param(data, options or {}, status, title, fragment, column, row, id=id)


FILE_ERROR_CASES = [
    case(b"", 422, "Empty file", "no text other than blank lines", id="empty"),
    case(
        b"\r\n \n,,\n", 422, "Empty file", "no text other than blank lines", id="blank-lines-only"
    ),
    case(
        csv_bytes("name,address,phone"), 422, "No data rows", "no hospital rows", id="header-only"
    ),
    case(
        csv_bytes("name,address", "", ",", " "),
        422,
        "No data rows",
        "no hospital rows",
        id="header-and-blank-rows",
    ),
    case(
        csv_bytes("Valid Hospital,123 Main St,555-0001"),
        422,
        "No header line",
        '"Valid Hospital", "123 Main St", "555-0001"',
        id="no-header-line",
    ),
    case(
        csv_bytes("address,phone", "1 Main St,555"),
        422,
        "Missing column",
        'name the column "name" (also accepted: "hospital name", "hospital", "facility name"',
        id="missing-name-column",
    ),
    case(
        csv_bytes("Hospital Name,City", "A,Lowell"),
        422,
        "Missing column",
        'For the street address, name the column "address" (also accepted: "street address"',
        id="missing-address-column",
    ),
    case(
        csv_bytes("phone,notes", "555,x"),
        422,
        "Missing column",
        "no column for the hospital name or the street address",
        id="missing-both-columns",
    ),
    case(
        csv_bytes("name,address,Name", "A,1 St,B"),
        422,
        "Duplicate column",
        'Columns 1 ("name") and 3 ("Name") both match the field "name".',
        column="Name",
        id="duplicate-header-case",
    ),
    case(
        csv_bytes("name,address,address", "A,1 St,2 St"),
        422,
        "Duplicate column",
        'Columns 2 and 3 are both named "address".',
        column="address",
        id="duplicate-header-exact",
    ),
    case(
        csv_bytes("name,address,Phone,Telephone", "A,1 St,555,556"),
        422,
        "Duplicate column",
        'so that one column holds "phone"',
        column="Telephone",
        id="duplicate-header-aliases",
    ),
    case(
        csv_bytes("name,address", "A,1 St"),
        422,
        "Mapped column not found",
        'maps the field "name" to the column "Nom"',
        column="Nom",
        options={"column_mapping": {"name": "Nom"}},
        id="mapping-missing-header",
    ),
    case(
        csv_bytes("name,address", "A,1 St"),
        422,
        "Unknown field in column mapping",
        'names the field "nom"',
        options={"column_mapping": {"nom": "name"}},
        id="mapping-unknown-field",
    ),
    case(
        csv_bytes("name,address", "A,1 St"),
        422,
        "Column mapped twice",
        'maps both "name" and "address" to the column "name"',
        column="name",
        options={"column_mapping": {"name": "name", "address": "name"}},
        id="mapping-same-column-twice",
    ),
    case(
        csv_bytes("name,address", "A,1 St", "", "B,2 St", "C,3 St"),
        413,
        "Too many rows",
        "files of at most 2 rows each",
        row=4,
        options={"max_rows": 2},
        id="too-many-rows",
    ),
    case(
        b"name,address\nA\x00,1 St\n",
        415,
        "Not a text file",
        "NUL character (the first at byte 14)",
        id="nul-byte",
    ),
    case(
        "name,address\nA,1 St\n".encode("utf-16-le"),
        415,
        "Not a text file",
        "UTF-16 text without a byte order mark",
        id="utf16-without-bom",
    ),
    case(
        codecs.BOM_UTF16_LE + "name,address\nA\x00,1 St\n".encode("utf-16-le"),
        415,
        "Not a text file",
        "NUL character (the first at character 14)",
        id="utf16-with-nul",
    ),
    case(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 415, "Not a CSV file", "a PNG image", id="png"),
    case(
        b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml",
        415,
        "Not a CSV file",
        "Excel workbook (.xlsx)",
        id="xlsx-zip",
    ),
    case(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
        415,
        "Not a CSV file",
        "Excel 97-2003 workbook (.xls)",
        id="xls-ole",
    ),
    case(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", 415, "Not a CSV file", "a PDF document", id="pdf"),
    case(
        bytes(range(128, 256)) * 4,
        415,
        "Unknown text encoding",
        "not valid UTF-8",
        id="undecodable",
    ),
    case(
        AMBIGUOUS_CP1251,
        415,
        "Ambiguous text encoding",
        "read about equally well as",
        id="ambiguous-encoding",
    ),
    case(
        codecs.BOM_UTF8 + b"name,address\nCaf\xe9,1 St\n",
        422,
        "Invalid text encoding",
        "line 2 has bytes that are not valid UTF-8 (b'\\xe9' at byte offset 19)",
        id="bom-then-invalid-utf8",
    ),
    case(
        csv_bytes("name,address", "A,1 St", '"B,2 St', "C,3 St"),
        422,
        "Malformed CSV",
        "Row 2 has a cell that starts with a double quote",
        row=2,
        id="unclosed-quote",
    ),
    case(
        csv_bytes("name,address", '"St. "Mary" Hospital",1 St'),
        422,
        "Malformed CSV",
        "more text after the closing quote",
        row=1,
        id="text-after-closing-quote",
    ),
    case(
        csv_bytes('"name,address', "A,1 St"),
        422,
        "Malformed CSV",
        "The header line has a cell that starts with a double quote",
        id="unclosed-quote-in-header",
    ),
]


@pytest.mark.parametrize(
    ("data", "options", "status", "title", "fragment", "column", "row"), FILE_ERROR_CASES
)
def test_file_error(
    data: bytes,
    options: dict[str, Any],
    status: int,
    title: str,
    fragment: str,
    column: str | None,
    row: int | None,
) -> None:
    with pytest.raises(CsvFileError) as caught:
        read_hospital_csv(data, filename="hospitals.csv", **options)
    error = caught.value

    assert error.status_code == status
    assert error.title == title
    assert fragment in f"{error.detail} {error.fix}"
    assert error.column == column
    assert error.row == row
    assert error.filename == "hospitals.csv"
    assert error.fix.endswith(".")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x89PNG\r\n\x1a\n", id="png"),
        pytest.param(b"PK\x03\x04", id="zip"),
        pytest.param(b"a\x00b", id="nul"),
    ],
)
def test_binary_fix_says_save_as_csv(data: bytes) -> None:
    with pytest.raises(CsvFileError) as caught:
        read_hospital_csv(data, filename="hospitals.xlsx")

    assert SAVE_AS_CSV in caught.value.fix


def test_error_str_names_location() -> None:
    data = csv_bytes("name,address", "A,1 St", "B,2 St")

    with pytest.raises(CsvFileError) as caught:
        read_hospital_csv(data, filename="big.csv", max_rows=1)

    assert str(caught.value) == (
        "big.csv, row 2: Too many rows. The file has more than 1 row, the maximum for one "
        "upload. Split the file into files of at most 1 row each, and upload them one by one."
    )


def test_error_str_names_column() -> None:
    with pytest.raises(CsvFileError) as caught:
        read_hospital_csv(csv_bytes("name,address,Name", "A,1 St,B"), filename="h.csv")

    assert str(caught.value).startswith('h.csv, column "Name": Duplicate column. ')


def test_error_survives_pickle() -> None:
    with pytest.raises(CsvFileError) as caught:
        read_hospital_csv(csv_bytes("name,address,Name", "A,1 St,B"), filename="h.csv")

    copy = pickle.loads(pickle.dumps(caught.value))

    assert str(copy) == str(caught.value)
    assert copy.column == "Name"
    assert copy.status_code == 422


def test_no_header_lists_cells() -> None:
    with pytest.raises(CsvFileError) as caught:
        read_hospital_csv(csv_bytes("Nom,Adresse", "A,1 Rue X"), filename="h.csv")

    assert caught.value.title == "No header line"
    assert '"Nom", "Adresse"' in caught.value.detail
