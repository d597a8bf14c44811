"""Files that load: encodings, delimiters, quoting, headers and address columns."""

from __future__ import annotations

import codecs
from typing import Any

import pytest

from hospital_bulk import csv_input
from hospital_bulk.csv_input import read_hospital_csv
from tests.csv_input.helpers import csv_bytes, utf16_be, utf16_le

BIG_NOTE = "x" * 200_000
# Curly quotes are 0x93, 0x94 and 0x92 in Windows-1252, as Excel writes them.
CP1252_NAME = "Café “Saint” Clinic"
CP1252_STREET = "12 Rue de l\u2019Église"
CP1252_TEXT = f"name,address,phone\r\n{CP1252_NAME},{CP1252_STREET},555-0100\r\n"


def case(
    data: bytes,
    rows: list[tuple[int, str, str, str | None]],
    *,
    id: str,
    options: dict[str, Any] | None = None,
    **report: Any,
) -> Any:
    return pytest.param(data, options or {}, rows, report, id=id)


LOAD_CASES = [
    case(
        csv_bytes("name,address,phone", "Café Clinic,1 Rue X,555-0100"),
        [(1, "Café Clinic", "1 Rue X", "555-0100")],
        encoding="utf-8",
        delimiter=",",
        id="utf8",
    ),
    case(
        codecs.BOM_UTF8 + csv_bytes("name,address", "Café Clinic,1 Rue X"),
        [(1, "Café Clinic", "1 Rue X", None)],
        encoding="utf-8-sig",
        columns=["name", "address"],
        id="utf8-bom",
    ),
    case(
        utf16_le("name\taddress\tphone\r\nKlinik Zürich\tHauptstraße 1\t044 123 45 67\r\n"),
        [(1, "Klinik Zürich", "Hauptstraße 1", "044 123 45 67")],
        encoding="utf-16",
        delimiter="\t",
        id="utf16-le-bom",
    ),
    case(
        utf16_be("name,address\n東京病院,千代田区1-1\n"),
        [(1, "東京病院", "千代田区1-1", None)],
        encoding="utf-16",
        id="utf16-be-bom",
    ),
    case(
        CP1252_TEXT.encode("cp1252"),
        [(1, CP1252_NAME, CP1252_STREET, "555-0100")],
        encoding="cp1252",
        id="cp1252-excel",
    ),
    case(
        csv_bytes("name;address;phone", "A;1 Main St, Suite 2;555-0100"),
        [(1, "A", "1 Main St, Suite 2", "555-0100")],
        delimiter=";",
        id="semicolon",
    ),
    case(
        csv_bytes("name\taddress\tphone", "A\t1 Main St, Suite 2\t555-0100"),
        [(1, "A", "1 Main St, Suite 2", "555-0100")],
        delimiter="\t",
        id="tab",
    ),
    case(
        csv_bytes("name|address|phone", "A|1 Main St; Suite 2|555-0100"),
        [(1, "A", "1 Main St; Suite 2", "555-0100")],
        delimiter="|",
        id="pipe",
    ),
    case(
        csv_bytes("name;Street;Notes, misc", "A;1 Main St;x, y, z"),
        [(1, "A", "1 Main St", None)],
        delimiter=";",
        id="delimiter-by-known-columns",
    ),
    case(
        b"name,address,phone\r\nA,1 Main St,555-0100\r\nB,2 Main St,555-0101\r\n",
        [(1, "A", "1 Main St", "555-0100"), (2, "B", "2 Main St", "555-0101")],
        id="crlf",
    ),
    case(
        b"name,address\rA,1 Main St\rB,2 Main St",
        [(1, "A", "1 Main St", None), (2, "B", "2 Main St", None)],
        id="cr-only-no-final-break",
    ),
    case(
        csv_bytes("name,address,phone", '"Mercy, North","12 Main St', 'Suite 4",555-0100'),
        [(1, "Mercy, North", "12 Main St\nSuite 4", "555-0100")],
        id="quoted-comma-newline",
    ),
    case(
        csv_bytes("name,address", '"St. ""Mary"" Hospital",1 Main St', 'Joe"s Clinic,2 Main St'),
        [(1, 'St. "Mary" Hospital', "1 Main St", None), (2, 'Joe"s Clinic', "2 Main St", None)],
        id="quotes-in-cells",
    ),
    case(
        csv_bytes("name,address,notes", f'A,1 Main St,"{BIG_NOTE}"'),
        [(1, "A", "1 Main St", None)],
        id="huge-cell",
    ),
    case(
        csv_bytes("name,address", "", "A,1 Main St", ",", "   ", '"",""', "B,2 Main St"),
        [(2, "A", "1 Main St", None), (6, "B", "2 Main St", None)],
        id="blank-lines-skipped",
    ),
    case(
        csv_bytes("", ",,", "name,address", "A,1 Main St"),
        [(1, "A", "1 Main St", None)],
        id="blank-lines-above-header",
    ),
    case(
        csv_bytes("name,address", "A,1 Main St,,", "B,2 Main St, ,"),
        [(1, "A", "1 Main St", None), (2, "B", "2 Main St", None)],
        id="long-row-blank-extras",
    ),
    case(
        csv_bytes(" NAME , Street Address ,PHONE_NO", "A,1 Main St,555-0100"),
        [(1, "A", "1 Main St", "555-0100")],
        mapping={"name": ["NAME"], "address": ["Street Address"], "phone": ["PHONE_NO"]},
        id="header-case-spacing",
    ),
    case(
        csv_bytes("Hospital Name,Address Line 1,Telephone", "A,1 Main St,555-0100"),
        [(1, "A", "1 Main St", "555-0100")],
        id="header-aliases",
    ),
    case(
        csv_bytes("Facility,Street,Phone #", "A,1 Main St,555-0100"),
        [(1, "A", "1 Main St", "555-0100")],
        id="header-aliases-punctuation",
    ),
    case(
        csv_bytes("name,address,city,state,zip", "A,1 Main St,Lowell,MA,01830"),
        [(1, "A", "1 Main St, Lowell, MA 01830", None)],
        mapping={"name": ["name"], "address": ["address", "city", "state", "zip"], "phone": []},
        id="split-address",
    ),
    case(
        csv_bytes("name,address,city,state,zip", "A,1 Main St,,MA,01830", "B,2 Main St,Lowell,,"),
        [(1, "A", "1 Main St, MA 01830", None), (2, "B", "2 Main St, Lowell", None)],
        id="split-address-empty-parts",
    ),
    case(
        csv_bytes(
            "name,Address Line 1,Address Line 2,City,Postal Code",
            "A,1 Main St,Suite 4,Lowell,01830",
        ),
        [(1, "A", "1 Main St, Suite 4, Lowell, 01830", None)],
        id="split-address-line-2",
    ),
    case(
        csv_bytes("Nom,Adresse,Tel", "A,1 Rue X,01 23 45 67 89"),
        [(1, "A", "1 Rue X", "01 23 45 67 89")],
        options={"column_mapping": {"name": "Nom", "address": "Adresse"}},
        mapping={"name": ["Nom"], "address": ["Adresse"], "phone": ["Tel"]},
        id="explicit-mapping",
    ),
    case(
        csv_bytes("name,Hospital Name,address", "Old,New,1 Main St"),
        [(1, "New", "1 Main St", None)],
        options={"column_mapping": {"name": "Hospital Name"}},
        ignored_columns=["name"],
        id="mapping-overrides-detection",
    ),
    case(
        csv_bytes("Nom;Adresse", "A;1 Rue X"),
        [(1, "A", "1 Rue X", None)],
        options={"column_mapping": {"name": "nom", "address": "ADRESSE"}},
        delimiter=";",
        id="mapping-case-insensitive",
    ),
    case(
        csv_bytes("name,address,notes,rating", "A,1 Main St,open 24h,5"),
        [(1, "A", "1 Main St", None)],
        ignored_columns=["notes", "rating"],
        id="unknown-headers-ignored",
    ),
    case(
        csv_bytes("name,address,phone", "  CONWAY  BEHAVIORAL  ,  1 Main St ,  "),
        [(1, "CONWAY  BEHAVIORAL", "1 Main St", None)],
        id="cells-stripped-inside-kept",
    ),
    case(
        csv_bytes(
            "name,address,phone",
            "A,1 Main St,+1 (501) 205-0011 ext. 12",
            "B,2 Main St,501.205.0011 x12",
            "C,3 Main St,030/123 456",
            "D,4 Main St,911",
        ),
        [
            (1, "A", "1 Main St", "+1 (501) 205-0011 ext. 12"),
            (2, "B", "2 Main St", "501.205.0011 x12"),
            (3, "C", "3 Main St", "030/123 456"),
            (4, "D", "4 Main St", "911"),
        ],
        id="phone-formats",
    ),
    case(
        csv_bytes("name,address", "A,1 Main St", "a ,  1  MAIN st"),
        [(1, "A", "1 Main St", None), (2, "a", "1  MAIN st", None)],
        id="duplicate-is-warning",
    ),
]


@pytest.mark.parametrize(("data", "options", "expected_rows", "expected_report"), LOAD_CASES)
def test_load(
    data: bytes,
    options: dict[str, Any],
    expected_rows: list[tuple[int, str, str, str | None]],
    expected_report: dict[str, Any],
) -> None:
    report = read_hospital_csv(data, filename="hospitals.csv", **options)
    loaded = [(row.row, row.name, row.address, row.phone) for row in report.rows]

    assert loaded == expected_rows
    assert report.invalid_rows == []
    for attribute, expected in expected_report.items():
        assert getattr(report, attribute) == expected, attribute


def test_design_example() -> None:
    data = csv_bytes(
        "name,address,phone",
        "Valid Hospital,123 Main St,555-0001",
        ",Invalid Missing Name,555-0002",
        "Another Valid,789 Pine St,555-0003",
    )

    report = read_hospital_csv(data, filename="hospitals.csv")

    assert [row.row for row in report.rows] == [1, 2, 3]
    assert [row.row for row in report.invalid_rows] == [2]
    assert report.rows[1].errors == (
        'Row 2, column "name": the value is empty. Fill in the hospital name.',
    )


def test_source_keeps_original_cells() -> None:
    data = csv_bytes("name,address,notes,notes,", " A ,1 Main St,n1,n2,z")

    row = read_hospital_csv(data, filename="hospitals.csv").rows[0]

    assert row.source == {
        "name": " A ",
        "address": "1 Main St",
        "notes": "n1",
        "notes (2)": "n2",
        "column 5": "z",
    }


def test_huge_cell_kept_in_source() -> None:
    data = csv_bytes("name,address,notes", f'A,1 Main St,"{BIG_NOTE}"')

    row = read_hospital_csv(data, filename="hospitals.csv").rows[0]

    assert row.source["notes"] == BIG_NOTE


def test_unknown_headers_one_warning() -> None:
    data = csv_bytes("name,address,phone,notes,rating,", "A,1 Main St,555-0100,x,5,")

    report = read_hospital_csv(data, filename="hospitals.csv")

    assert len(report.warnings) == 1
    assert '"notes", "rating", column 6 (no header)' in report.warnings[0]


def test_no_phone_column_warning() -> None:
    report = read_hospital_csv(csv_bytes("name,address", "A,1 Main St"), filename="h.csv")

    assert report.mapping["phone"] == []
    assert any("no phone column" in warning for warning in report.warnings)


def test_cp1252_warning_names_encoding() -> None:
    report = read_hospital_csv(CP1252_TEXT.encode("cp1252"), filename="h.csv")

    assert any("Windows-1252 (cp1252)" in warning for warning in report.warnings)


def test_guessed_encoding_cp1251() -> None:
    text = (
        "name,address,phone\n"
        "Городская клиническая больница № 1,Ленинский проспект 8,+7 495 952-02-05\n"
        "Детская больница имени Филатова,Садовая-Кудринская улица 15,+7 499 254-09-06\n"
    )

    report = read_hospital_csv(text.encode("cp1251"), filename="h.csv")

    assert report.encoding == "cp1251"
    assert report.rows[0].name == "Городская клиническая больница № 1"
    assert any("guessed as cp1251" in warning for warning in report.warnings)


def test_guessed_encoding_shift_jis() -> None:
    text = "name,address\n東京大学医学部附属病院,東京都文京区本郷7-3-1\n聖路加国際病院,明石町9-1\n"

    report = read_hospital_csv(text.encode("shift_jis"), filename="h.csv")

    assert report.encoding == "cp932"
    assert report.rows[1].name == "聖路加国際病院"


def test_utf8_has_no_encoding_warning() -> None:
    report = read_hospital_csv(csv_bytes("name,address,phone", "A,1 St,555"), filename="h.csv")

    assert report.warnings == []


def test_duplicate_row_warning() -> None:
    data = csv_bytes("name,address,phone", "A,1 Main St,555", "B,2 Main St,", "a ,1  main st,555")

    report = read_hospital_csv(data, filename="hospitals.csv")
    duplicate = report.rows[2]

    assert duplicate.is_valid
    assert duplicate.warnings == (
        'Row 3, columns "name", "address", "phone": the row repeats row 1 (the same name, '
        "address and phone). Delete one of the two rows, or make them differ if they are "
        "different hospitals.",
    )
    assert report.rows[0].warnings == ()


def test_duplicate_row_rejected() -> None:
    data = csv_bytes("name,address,phone", "A,1 Main St,555", "B,2 Main St,", "a ,1  main st,555")

    report = read_hospital_csv(data, filename="hospitals.csv", reject_duplicates=True)

    assert [row.row for row in report.invalid_rows] == [3]
    assert report.rows[2].errors[0].startswith('Row 3, columns "name", "address", "phone":')
    assert "repeats row 1" in report.rows[2].errors[0]


def test_duplicate_differs_by_phone() -> None:
    data = csv_bytes("name,address,phone", "A,1 Main St,555-0100", "A,1 Main St,555-0199")

    report = read_hospital_csv(data, filename="hospitals.csv", reject_duplicates=True)

    assert report.invalid_rows == []


def test_max_rows_at_limit_loads() -> None:
    data = csv_bytes("name,address", "A,1 St", "", "B,2 St")

    report = read_hospital_csv(data, filename="hospitals.csv", max_rows=2)

    assert len(report.rows) == 2


def test_max_rows_below_one_raises() -> None:
    with pytest.raises(ValueError, match="max_rows"):
        read_hospital_csv(csv_bytes("name,address", "A,1 St"), filename="h.csv", max_rows=0)


def test_public_names_exported() -> None:
    for name in csv_input.__all__:
        assert hasattr(csv_input, name), name


@pytest.mark.parametrize(
    "cell",
    ["CaféCaféCaféCafé", "Ñandú", "Zoë Ørsted\u2013Ålborg", "São"],
)
def test_short_cp1252_text_loads(cell: str) -> None:
    """Short or repetitive accented text, which charset-normalizer finds incoherent, loads."""
    data = f'"name","address","phone"\n"","{cell}","{cell}"\n'.encode("cp1252")

    report = read_hospital_csv(data, filename="h.csv")

    assert report.encoding == "cp1252"
    assert report.rows[0].address == cell


def test_cyrillic_is_not_read_as_cp1252() -> None:
    data = "name,address\nБольница,Москва ул. Ленина\n".encode("cp1251")  # noqa: RUF001

    with pytest.raises(csv_input.CsvFileError) as error:
        read_hospital_csv(data, filename="h.csv")

    assert "encoding" in error.value.title


def test_repetitive_cp1252_file_loads() -> None:
    """A file whose only text is repeated accented words, which charset-normalizer rejects."""
    data = b'"name","address","phone"\n"","Caf\xe9Caf\xe9Caf\xe9Caf\xe9","Caf\xe9Caf\xe9Caf\xe9Caf\xe9Caf\xe9"\n'

    report = read_hospital_csv(data, filename="h.csv")

    assert report.encoding == "cp1252"
    assert report.rows[0].address == "CaféCaféCaféCafé"
