"""POST /api/v1/hospitals/bulk/validate: the report of a file, with nothing created."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support import TEST3, csv_rows, upload


def validate(
    api: str, data: bytes, *, filename: str = "hospitals.csv", mapping: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    form = {"column_mapping": json.dumps(mapping)} if mapping is not None else None
    return httpx.post(
        f"{api}/api/v1/hospitals/bulk/validate", files={"file": (filename, data, "text/csv")},
        data=form, headers=headers, timeout=60,
    )


def jobs(api: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return list(httpx.get(f"{api}/api/v1/hospitals/jobs", headers=headers).json())


def test_validate_partial_file(api: str) -> None:
    response = validate(api, TEST3, filename="test3.csv")
    report = response.json()

    assert response.status_code == 200
    assert report["filename"] == "test3.csv"
    assert report["encoding"] == "utf-8"
    assert report["delimiter"] == ","
    assert report["columns"] == ["name", "address", "phone"]
    assert report["mapping"] == {"name": ["name"], "address": ["address"], "phone": ["phone"]}
    assert report["ignored_columns"] == []
    assert (report["total_rows"], report["valid_rows"], report["invalid_rows"]) == (3, 2, 1)
    assert [row["row"] for row in report["rows"]] == [2]
    assert report["rows"][0]["errors"] == ['Row 2, column "name": the value is empty. Fill in the hospital name.']
    assert [row["row"] for row in report["preview"]] == [1, 2, 3]


def test_validate_creates_nothing(api: str, directory: str) -> None:
    validate(api, csv_rows(3))

    assert jobs(api) == []


def test_validate_reports_dialect_and_aliases(api: str) -> None:
    data = "Hospital Name;Street;City;State;ZIP;Telephone;Notes\r\nCafé Général;1 Rue;Paris;TX;75001;555;x\r\n"

    report = validate(api, data.encode("cp1252")).json()

    assert report["encoding"] == "cp1252"
    assert report["delimiter"] == ";"
    assert report["mapping"]["name"] == ["Hospital Name"]
    assert report["mapping"]["address"] == ["Street", "City", "State", "ZIP"]
    assert report["mapping"]["phone"] == ["Telephone"]
    assert report["ignored_columns"] == ["Notes"]
    assert report["warnings"]
    assert report["preview"][0]["name"] == "Café Général"


def test_validate_reports_row_warnings(api: str) -> None:
    data = b"name,address\nTwin,1 Main St\nTwin,1 Main St\n"

    report = validate(api, data).json()

    assert report["rows_with_warnings"] >= 1
    assert report["invalid_rows"] == 0
    assert any(row["warnings"] for row in report["rows"])


def test_validate_with_column_mapping(api: str) -> None:
    data = b"Title,Where\nA Hospital,1 Main St\n"

    without = validate(api, data)
    mapped = validate(api, data, mapping={"name": "Title", "address": "Where"})

    assert without.status_code == 422
    assert mapped.status_code == 200
    assert mapped.json()["mapping"]["name"] == ["Title"]


def test_validate_invalid_mapping_json(api: str) -> None:
    response = httpx.post(
        f"{api}/api/v1/hospitals/bulk/validate", files={"file": ("a.csv", TEST3, "text/csv")},
        data={"column_mapping": "{not json"},
    )

    assert response.status_code == 422
    assert "column_mapping" in response.json()["detail"]
    assert response.json()["fix"]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"a,b\n1,2\n", id="no-header"),
        pytest.param(b"name,address\n", id="no-rows"),
        pytest.param(b"\x00\x01\x02binary\x00", id="binary"),
        pytest.param(b"name,name,address\nA,B,C\n", id="duplicate-header"),
    ],
)
def test_validate_file_error_matches_upload(api: str, data: bytes) -> None:
    validated = validate(api, data)
    uploaded = upload(api, data)

    assert validated.status_code == uploaded.status_code
    assert validated.status_code in (415, 422)
    assert validated.headers["content-type"] == "application/problem+json"
    assert validated.json() == uploaded.json()


def test_validate_batch_cap_matches_upload(start_service: Callable[..., str]) -> None:
    api = start_service(directory_batch_cap=2)
    data = csv_rows(3)

    validated = validate(api, data)
    uploaded = upload(api, data)

    assert validated.status_code == 422
    assert validated.json() == uploaded.json()


def test_validate_too_large(start_service: Callable[..., str]) -> None:
    api = start_service(max_upload_bytes=200)

    response = validate(api, csv_rows(20))

    assert response.status_code == 413
    assert response.json()["fix"]


def test_validate_needs_api_key(start_service: Callable[..., str]) -> None:
    api = start_service(api_keys=["key-v"])

    anonymous = validate(api, TEST3)
    with_key = validate(api, TEST3, headers={"Authorization": "Bearer key-v"})

    assert anonymous.status_code == 401
    assert with_key.status_code == 200


def test_validate_route_beside_batch_routes(api: str) -> None:
    """The validate path and the batch activation path do not shadow each other."""
    get_validate = httpx.get(f"{api}/api/v1/hospitals/bulk/validate")
    activate_unknown = httpx.patch(f"{api}/api/v1/hospitals/bulk/batch/validate/activate")

    assert get_validate.status_code == 405
    assert activate_unknown.status_code == 404
    assert "No job created batch 'validate'" in activate_unknown.json()["detail"]


def test_docs_served_without_cdn(api: str) -> None:
    """The docs page loads Swagger UI from the service itself, so it works offline."""
    import httpx

    page = httpx.get(f"{api}/docs")
    script = httpx.get(f"{api}/docs-assets/swagger-ui-bundle.js")

    assert page.status_code == 200
    assert "cdn." not in page.text
    assert "/docs-assets/swagger-ui-bundle.js" in page.text
    assert script.status_code == 200
