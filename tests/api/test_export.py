"""GET /api/v1/hospitals/status/{job_id}/rows.csv: original cells, outcomes, filters, safety."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import httpx
import pytest

from hospital_bulk.api.routes import export
from tests.support import TEST3, csv_rows, run_job, upload, wait_for_job

OUTCOME_HEADER = ["row", "status", "hospital_id", "error_message"]


def export_url(api: str, job_id: str) -> str:
    return f"{api}/api/v1/hospitals/status/{job_id}/rows.csv"


def read_export(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def test_export_all_rows(api: str) -> None:
    job = run_job(api, TEST3)

    response = httpx.get(export_url(api, job["job_id"]))
    records = read_export(response)

    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert records[0] == ["name", "address", "phone", *OUTCOME_HEADER]
    assert records[1][:5] == ["Valid Hospital", "123 Main St", "555-0001", "1", "created"]
    assert records[1][5].isdigit()
    assert records[2] == [
        "", "Invalid Missing Name", "555-0002", "2", "failed", "",
        'Row 2, column "name": the value is empty. Fill in the hospital name.',
    ]
    assert records[3][:5] == ["Another Valid", "789 Pine St", "555-0003", "3", "created"]
    assert len(records) == 4


@pytest.mark.parametrize(
    ("query", "expected_rows"),
    [
        pytest.param("?status=failed", ["2"], id="one"),
        pytest.param("?status=failed,created", ["1", "2", "3"], id="comma-separated"),
        pytest.param("?status=failed&status=created", ["1", "2", "3"], id="repeated"),
        pytest.param("?status=created_and_activated", [], id="none-match"),
        pytest.param("?status=", ["1", "2", "3"], id="empty-means-all"),
    ],
)
def test_export_status_filter(api: str, query: str, expected_rows: list[str]) -> None:
    job = run_job(api, TEST3)

    records = read_export(httpx.get(export_url(api, job["job_id"]) + query))

    assert [record[3] for record in records[1:]] == expected_rows


def test_export_unknown_status_is_problem(api: str) -> None:
    job = run_job(api, TEST3)

    response = httpx.get(export_url(api, job["job_id"]) + "?status=failed,broken")

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "'broken' is not a row status" in response.json()["detail"]


def test_export_neutralizes_formulas(api: str) -> None:
    """Cells a spreadsheet would run as formulas get a leading quote, in the header too."""
    data = csv_bytes([
        ["name", "address", "phone", "@notes"],
        ['=HYPERLINK("http://example.invalid")', "+1 Main St", "-555", "@SUM(A1)"],
        ["\tTabbed", "\rCarriage St", "555", "=1+1"],
        ["Plain Hospital", "2 Main St", "555-0101", "'quoted already"],
    ])
    job = run_job(api, data)

    records = read_export(httpx.get(export_url(api, job["job_id"])))

    assert records[0][3] == "'@notes"
    assert records[1][:4] == ['\'=HYPERLINK("http://example.invalid")', "'+1 Main St", "'-555", "'@SUM(A1)"]
    assert records[2][:4] == ["'\tTabbed", "'\rCarriage St", "555", "'=1+1"]
    assert records[3][:4] == ["Plain Hospital", "2 Main St", "555-0101", "'quoted already"]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        pytest.param("=1+1", "'=1+1", id="equals"),
        pytest.param("+1", "'+1", id="plus"),
        pytest.param("-1", "'-1", id="minus"),
        pytest.param("@A1", "'@A1", id="at"),
        pytest.param("\tx", "'\tx", id="tab"),
        pytest.param("\rx", "'\rx", id="carriage-return"),
        pytest.param("a=1", "a=1", id="later-equals"),
        pytest.param("", "", id="empty"),
        pytest.param("555-0001", "555-0001", id="phone"),
    ],
)
def test_neutralize_formula(cell: str, expected: str) -> None:
    assert export.neutralize_formula(cell) == expected


def test_export_keeps_original_columns(api: str) -> None:
    """Split address columns and unknown columns come back as they were uploaded."""
    data = csv_bytes([
        ["Hospital Name", "Street", "City", "State", "ZIP", "Notes"],
        ["Split Hospital", "1 Main St", "Springfield", "IL", "62701", "keep me"],
    ])
    job = run_job(api, data)

    records = read_export(httpx.get(export_url(api, job["job_id"])))

    assert records[0] == ["Hospital Name", "Street", "City", "State", "ZIP", "Notes", *OUTCOME_HEADER]
    assert records[1][:6] == ["Split Hospital", "1 Main St", "Springfield", "IL", "62701", "keep me"]


def test_export_renames_clashing_outcome_columns(api: str) -> None:
    data = csv_bytes([["name", "address", "Status"], ["A Hospital", "1 Main St", "open"]])
    job = run_job(api, data)

    records = read_export(httpx.get(export_url(api, job["job_id"])))

    assert records[0] == ["name", "address", "Status", "row", "result_status", "hospital_id", "error_message"]
    assert records[1][2] == "open"
    assert records[1][4] == "created_and_activated"


def test_export_pages_through_rows(api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "PAGE_SIZE", 2)
    job = run_job(api, csv_rows(5))

    records = read_export(httpx.get(export_url(api, job["job_id"])))

    assert [record[3] for record in records[1:]] == ["1", "2", "3", "4", "5"]


@pytest.mark.parametrize(
    ("filename", "query", "expected"),
    [
        pytest.param(
            "March Hospitals.csv", "?status=failed",
            "attachment; filename=\"March Hospitals-failed.csv\"; "
            "filename*=UTF-8''March%20Hospitals-failed.csv",
            id="filtered",
        ),
        pytest.param(
            "Hôpitaux.CSV", "",
            "attachment; filename=\"H_pitaux-rows.csv\"; filename*=UTF-8''H%C3%B4pitaux-rows.csv",
            id="non-ascii",
        ),
        pytest.param(
            "C:\\Users\\me\\march.csv", "?status=created,failed",
            "attachment; filename=\"march-created-failed.csv\"; "
            "filename*=UTF-8''march-created-failed.csv",
            id="windows-path",
        ),
    ],
)
def test_export_attachment_filename(api: str, filename: str, query: str, expected: str) -> None:
    job = run_job(api, TEST3, filename=filename)

    response = httpx.get(export_url(api, job["job_id"]) + query)

    assert response.status_code == 200
    assert response.headers["content-disposition"] == expected


def test_content_disposition_escapes_quotes() -> None:
    header = export.content_disposition('we"ird\\name.csv')

    assert header == (
        "attachment; filename=\"we_ird_name.csv\"; filename*=UTF-8''we%22ird%5Cname.csv"
    )


def test_export_unknown_job_is_404(api: str) -> None:
    response = httpx.get(export_url(api, "no-such-job"))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["fix"]


def test_export_scoped_to_api_key(start_service: Callable[..., str]) -> None:
    api = start_service(api_keys=["key-a", "key-b"])
    owner = {"Authorization": "Bearer key-a"}
    accepted = upload(api, TEST3, headers=owner)
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]
    wait_for_job(api, job_id, headers=owner)

    as_owner = httpx.get(export_url(api, job_id), headers=owner)
    as_other = httpx.get(export_url(api, job_id), headers={"Authorization": "Bearer key-b"})
    anonymous = httpx.get(export_url(api, job_id))

    assert len(read_export(as_owner)) == 4
    assert as_other.status_code == 404
    assert anonymous.status_code == 401
