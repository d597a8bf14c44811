"""The CMS Hospital General Information file loads as published, and big files load fast."""

from __future__ import annotations

import csv
import io

import pytest

from hospital_bulk.csv_input import CsvReport, read_hospital_csv
from tests.support import CMS_FILE

# Facility ids 180154 and 180021 share name, address and phone.
CMS_DUPLICATE_ROW = 3895
CMS_FIRST_OF_DUPLICATE = 1675


@pytest.fixture(scope="module")
def cms_data() -> bytes:
    return CMS_FILE.read_bytes()


@pytest.fixture(scope="module")
def cms_report(cms_data: bytes) -> CsvReport:
    return read_hospital_csv(cms_data, filename=CMS_FILE.name)


def test_cms_all_rows_valid(cms_report: CsvReport) -> None:
    assert len(cms_report.rows) == 5320
    assert cms_report.invalid_rows == []


def test_cms_first_row(cms_report: CsvReport) -> None:
    first = cms_report.rows[0]

    assert first.row == 1
    assert first.name == "CONWAY BEHAVIORAL HEALTH"
    assert first.address == "2255 STURGIS ROAD, CONWAY, AR 72034"
    assert first.phone == "(501) 205-0011"
    assert first.source["Facility ID"] == "044022"


def test_cms_mapping(cms_report: CsvReport) -> None:
    assert cms_report.mapping == {
        "name": ["Facility Name"],
        "address": ["Address", "City", "State", "ZIP Code"],
        "phone": ["Phone Number"],
    }
    assert cms_report.encoding == "utf-8"
    assert cms_report.delimiter == ","


def test_cms_ignored_columns_one_warning(cms_report: CsvReport) -> None:
    ignored_warnings = [w for w in cms_report.warnings if w.startswith("Ignored 23 columns")]

    assert len(cms_report.ignored_columns) == 23
    assert "Location" in cms_report.ignored_columns
    assert len(ignored_warnings) == 1
    assert '"Facility ID", "County Name"' in ignored_warnings[0]


def test_cms_zip_leading_zero(cms_report: CsvReport) -> None:
    assert any(row.address.endswith(" MA 01830") for row in cms_report.rows)


def test_cms_keeps_double_spaces(cms_report: CsvReport) -> None:
    assert sum("  " in row.name for row in cms_report.rows) == 51


def test_cms_quoted_comma_in_name(cms_report: CsvReport) -> None:
    row = cms_report.rows[CMS_FIRST_OF_DUPLICATE - 1]

    assert row.name == "PINEVILLE COMMUNITY HEALTH CENTER, INC"


def test_cms_duplicate_warning(cms_report: CsvReport) -> None:
    warned = [row for row in cms_report.rows if row.warnings]

    assert [row.row for row in warned] == [CMS_DUPLICATE_ROW]
    assert f"repeats row {CMS_FIRST_OF_DUPLICATE}" in warned[0].warnings[0]


def test_cms_duplicate_rejected(cms_data: bytes) -> None:
    report = read_hospital_csv(cms_data, filename=CMS_FILE.name, reject_duplicates=True)

    assert [row.row for row in report.invalid_rows] == [CMS_DUPLICATE_ROW]


def test_cms_as_european_excel(cms_data: bytes) -> None:
    """The same file as Excel saves it in Europe: CRLF, semicolons, Windows-1252."""
    records = list(csv.reader(io.StringIO(cms_data.decode("utf-8"), newline="")))
    records[1][1] = "CONWAY BÉHAVIORAL HEALTH"
    output = io.StringIO()
    csv.writer(output, delimiter=";", lineterminator="\r\n").writerows(records)
    data = output.getvalue().encode("cp1252")

    report = read_hospital_csv(data, filename="cms.csv")

    assert report.encoding == "cp1252"
    assert report.delimiter == ";"
    assert len(report.valid_rows) == 5320
    assert report.rows[0].name == "CONWAY BÉHAVIORAL HEALTH"
    assert report.rows[0].address == "2255 STURGIS ROAD, CONWAY, AR 72034"


def test_100k_rows_all_read() -> None:
    """Speed is measured by the benchmarks; this checks that a large file loses no row."""
    lines = [f"Hospital {i},{i} Main St,(555) 010-{i % 10_000:04d}\n" for i in range(100_000)]
    data = ("name,address,phone\n" + "".join(lines)).encode()

    report = read_hospital_csv(data, filename="big.csv")

    assert len(report.rows) == 100_000
    assert report.rows[-1].row == 100_000
    assert report.rows[-1].name == "Hospital 99999"
