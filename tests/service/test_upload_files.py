"""Real-world files through the upload endpoint, each with its documented outcome."""

from __future__ import annotations

import pytest

from tests.support import run_job, upload

UTF8 = "name,address,phone\nHôpital Saint-Éloi,1 Rue de la Paix,+33 1 23 45 67 89\n"


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "expected_name"),
    [
        pytest.param(UTF8.encode(), "hospitals.csv", "text/csv", "Hôpital Saint-Éloi", id="utf8"),
        pytest.param(
            UTF8.encode("utf-8-sig"),
            "HOSPITALS.CSV",
            "application/vnd.ms-excel",
            "Hôpital Saint-Éloi",
            id="utf8-bom-excel-type",
        ),
        pytest.param(
            UTF8.encode("utf-16"),
            "h.csv",
            "application/octet-stream",
            "Hôpital Saint-Éloi",
            id="utf16-bom",
        ),
        pytest.param(
            "Hospital Name;Street Address;Telephone\r\nCafé Clinic;2 Main St;555-0100\r\n".encode(
                "cp1252"
            ),
            "export.csv",
            "text/plain",
            "Café Clinic",
            id="cp1252-semicolon",
        ),
        pytest.param(
            b"Facility Name\tAddress\tCity\tState\tZIP Code\nTab Hospital\t1 Tab St\tAUSTIN\tTX\t01830\n",
            "tabs.tsv",
            "text/tab-separated-values",
            "Tab Hospital",
            id="tab-split-address",
        ),
        pytest.param(
            b'name|address|phone\n"Pipe, Hospital"|"1 Pipe St\nSuite 2"|555\n\n||\n',
            "pipes.txt",
            "text/csv",
            "Pipe, Hospital",
            id="pipe-quoted-blank-lines",
        ),
    ],
)
def test_file_loads(
    api: str, data: bytes, filename: str, content_type: str, expected_name: str
) -> None:
    final = run_job(api, data, filename=filename, content_type=content_type)
    rows = final["result"]["hospitals"]

    assert final["result"]["failed_hospitals"] == 0
    assert final["result"]["batch_activated"] is True
    assert len(rows) == 1
    assert rows[0]["name"] == expected_name


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        pytest.param(b"", 422, "Empty", id="empty"),
        pytest.param(b"name,address\n", 422, "No data rows", id="header-only"),
        pytest.param(b"hospital,phone\nA,1\n", 422, "address", id="missing-address-column"),
        pytest.param(b"name,name,address\nA,B,C\n", 422, "Duplicate column", id="duplicate-header"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00binary", 415, "", id="png"),
        pytest.param(b"name,address\nA\x00B,C\n", 415, "", id="nul-byte"),
    ],
)
def test_file_rejected(api: str, data: bytes, status: int, words: str) -> None:
    response = upload(api, data, filename="bad.csv")
    body = response.json()

    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["file"] == "bad.csv"
    assert body["fix"]
    assert words in body["title"] + body["detail"]


def test_duplicate_rows_rejected_by_setting(start_service) -> None:  # type: ignore[no-untyped-def]
    """With HOSPITAL_BULK_REJECT_DUPLICATE_ROWS the repeated row fails instead of warning."""
    api = start_service(reject_duplicate_rows=True)
    data = b"name,address\nSame Hospital,1 St\nSame Hospital,1 St\n"

    result = run_job(api, data)["result"]
    second = result["hospitals"][1]

    assert result["processed_hospitals"] == 1
    assert second["status"] == "failed"
    assert "row 1" in second["error_message"].lower()


def test_duplicate_rows_warned_by_default(api: str) -> None:
    data = b"name,address\nSame Hospital,1 St\nSame Hospital,1 St\n"

    result = run_job(api, data)["result"]

    assert result["processed_hospitals"] == 2
    assert result["hospitals"][1]["warnings"]
