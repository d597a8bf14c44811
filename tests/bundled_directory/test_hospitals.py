"""Health check, hospital endpoints and request validation of the bundled Directory."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

# An ISO timestamp without a time zone, e.g. 2026-09-27T09:50:50.824234.
NAIVE_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$")


def _create(client: httpx.Client, **fields: Any) -> httpx.Response:
    body = {"name": "General Hospital", "address": "1 Main St", **fields}
    return client.post("/hospitals/", json=body)


def test_health_check_ok(client: httpx.Client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response.json() == {"status": "OK"}


def test_openapi_title_and_version(client: httpx.Client) -> None:
    info = client.get("/openapi.json").json()["info"]

    assert info["title"] == "Hospital Directory API"
    assert info["version"] == "1.0.0"


def test_create_with_batch_inactive(client: httpx.Client) -> None:
    batch_id = str(uuid.uuid4())

    response = _create(client, phone="555-1234", creation_batch_id=batch_id)

    assert response.status_code == 200
    body = response.json()
    assert list(body) == [
        "id",
        "name",
        "address",
        "phone",
        "creation_batch_id",
        "active",
        "created_at",
    ]
    assert body["id"] == 1
    assert body["name"] == "General Hospital"
    assert body["address"] == "1 Main St"
    assert body["phone"] == "555-1234"
    assert body["creation_batch_id"] == batch_id
    assert body["active"] is False
    assert NAIVE_TIMESTAMP.match(body["created_at"])


def test_create_without_batch_active(client: httpx.Client) -> None:
    """A create without a batch id goes live at once."""
    body = _create(client).json()

    assert body["active"] is True
    assert body["creation_batch_id"] is None
    assert body["phone"] is None


def test_create_ids_count_up(client: httpx.Client) -> None:
    """Ids come from a global counter that a delete does not rewind."""
    first = _create(client).json()["id"]
    second = _create(client).json()["id"]
    client.delete(f"/hospitals/{second}")

    third = _create(client).json()["id"]

    assert (first, second, third) == (1, 2, 3)


def test_create_no_length_limit(client: httpx.Client) -> None:
    long_name = "N" * 10_000

    response = _create(client, name=long_name, phone="x" * 500)

    assert response.status_code == 200
    assert response.json()["name"] == long_name


def test_create_ignores_active_field(client: httpx.Client) -> None:
    body = _create(client, creation_batch_id=str(uuid.uuid4()), active=True).json()

    assert body["active"] is False


@pytest.mark.parametrize(
    ("fields", "field", "error_type"),
    [
        pytest.param({"name": None}, "name", "string_type", id="name-null"),
        pytest.param({"name": ""}, "name", "string_too_short", id="name-empty"),
        pytest.param({"name": " \t "}, "name", "value_error", id="name-whitespace"),
        pytest.param({"address": ""}, "address", "string_too_short", id="address-empty"),
        pytest.param({"address": "   "}, "address", "value_error", id="address-whitespace"),
        pytest.param(
            {"creation_batch_id": "batch-1"},
            "creation_batch_id",
            "uuid_parsing",
            id="batch-not-uuid",
        ),
        pytest.param({"phone": 12}, "phone", "string_type", id="phone-number"),
    ],
)
def test_create_invalid_field_422(
    client: httpx.Client, fields: dict[str, Any], field: str, error_type: str
) -> None:
    response = _create(client, **fields)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["type"] == error_type
    assert error["loc"] == ["body", field]
    assert "msg" in error
    assert "input" in error
    assert client.get("/hospitals/").json() == []


def test_create_missing_fields_422(client: httpx.Client) -> None:
    response = client.post("/hospitals/", json={})

    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [error["loc"] for error in errors] == [["body", "name"], ["body", "address"]]
    assert {error["type"] for error in errors} == {"missing"}


def test_create_whitespace_error_shape(client: httpx.Client) -> None:
    """Whitespace-only text gets pydantic v2's value_error entry with upstream's message."""
    response = _create(client, name="   ")

    assert response.json()["detail"] == [
        {
            "type": "value_error",
            "loc": ["body", "name"],
            "msg": "Value error, Field cannot be empty or whitespace only",
            "input": "   ",
            "ctx": {"error": {}},
        }
    ]


def test_create_empty_name_error_shape(client: httpx.Client) -> None:
    response = _create(client, name="")

    assert response.json()["detail"] == [
        {
            "type": "string_too_short",
            "loc": ["body", "name"],
            "msg": "String should have at least 1 character",
            "input": "",
            "ctx": {"min_length": 1},
        }
    ]


def test_list_hospitals_in_id_order(client: httpx.Client) -> None:
    _create(client, name="First")
    _create(client, name="Second")

    response = client.get("/hospitals/")

    assert response.status_code == 200
    assert [hospital["name"] for hospital in response.json()] == ["First", "Second"]


def test_list_hospitals_empty(client: httpx.Client) -> None:
    response = client.get("/hospitals/")

    assert response.status_code == 200
    assert response.json() == []


def test_get_hospital_found(client: httpx.Client) -> None:
    created = _create(client).json()

    response = client.get(f"/hospitals/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created


def test_get_hospital_missing_404(client: httpx.Client) -> None:
    response = client.get("/hospitals/99")

    assert response.status_code == 404
    assert response.json() == {"detail": "Hospital not found"}


def test_get_hospital_non_integer_422(client: httpx.Client) -> None:
    response = client.get("/hospitals/abc")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["type"] == "int_parsing"
    assert error["loc"] == ["path", "hospital_id"]


def test_update_hospital_partial(client: httpx.Client) -> None:
    created = _create(client, phone="555-0000", creation_batch_id=str(uuid.uuid4())).json()

    response = client.put(f"/hospitals/{created['id']}", json={"name": "Renamed"})

    assert response.status_code == 200
    assert response.json() == {**created, "name": "Renamed"}
    assert client.get(f"/hospitals/{created['id']}").json()["name"] == "Renamed"


def test_update_hospital_clears_phone(client: httpx.Client) -> None:
    created = _create(client, phone="555-0000").json()

    response = client.put(f"/hospitals/{created['id']}", json={"phone": None})

    assert response.status_code == 200
    assert response.json()["phone"] is None


def test_update_hospital_cannot_activate(client: httpx.Client) -> None:
    """PUT has no active field, so a batch hospital stays inactive."""
    created = _create(client, creation_batch_id=str(uuid.uuid4())).json()

    response = client.put(f"/hospitals/{created['id']}", json={"active": True})

    assert response.status_code == 200
    assert response.json()["active"] is False


def test_update_hospital_missing_404(client: httpx.Client) -> None:
    response = client.put("/hospitals/99", json={"name": "Renamed"})

    assert response.status_code == 404
    assert response.json() == {"detail": "Hospital not found"}


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"name": ""}, id="name-empty"),
        pytest.param({"name": "  "}, id="name-whitespace"),
        pytest.param({"address": None}, id="address-null"),
    ],
)
def test_update_hospital_invalid_422(client: httpx.Client, fields: dict[str, Any]) -> None:
    created = _create(client).json()

    response = client.put(f"/hospitals/{created['id']}", json=fields)

    assert response.status_code == 422
    assert client.get(f"/hospitals/{created['id']}").json() == created


def test_delete_hospital_204(client: httpx.Client) -> None:
    created = _create(client).json()

    response = client.delete(f"/hospitals/{created['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/hospitals/{created['id']}").status_code == 404


def test_delete_hospital_missing_404(client: httpx.Client) -> None:
    response = client.delete("/hospitals/99")

    assert response.status_code == 404
    assert response.json() == {"detail": "Hospital not found"}
