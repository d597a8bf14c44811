"""Batch endpoints and the batch cap of the bundled Directory."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

NOT_FOUND = {"detail": "No hospitals found with the specified batch ID"}
ALREADY_ACTIVE = {
    "detail": "Cannot activate batch: one or more hospitals in the batch are already active"
}


def _create_in_batch(client: httpx.Client, batch_id: str, name: str = "Hospital") -> dict:
    body = {"name": name, "address": "1 Main St", "creation_batch_id": batch_id}
    response = client.post("/hospitals/", json=body)
    response.raise_for_status()
    return response.json()


async def _create_concurrently(base_url: str, batch_id: str, count: int) -> list[int]:
    body = {"name": "Hospital", "address": "1 Main St", "creation_batch_id": batch_id}
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as http:
        responses = await asyncio.gather(
            *(http.post("/hospitals/", json=body) for _ in range(count))
        )
    return [response.status_code for response in responses]


def test_list_batch_returns_members(client: httpx.Client) -> None:
    batch_id = str(uuid.uuid4())
    first = _create_in_batch(client, batch_id, "First")
    second = _create_in_batch(client, batch_id, "Second")
    _create_in_batch(client, str(uuid.uuid4()), "Other batch")

    response = client.get(f"/hospitals/batch/{batch_id}")

    assert response.status_code == 200
    assert response.json() == [first, second]


def test_list_batch_unknown_404(client: httpx.Client) -> None:
    """An unknown or empty batch is 404, never an empty list."""
    response = client.get(f"/hospitals/batch/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_list_batch_emptied_404(client: httpx.Client) -> None:
    batch_id = str(uuid.uuid4())
    created = _create_in_batch(client, batch_id)
    client.delete(f"/hospitals/{created['id']}")

    response = client.get(f"/hospitals/batch/{batch_id}")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/hospitals/batch/not-a-uuid", id="list"),
        pytest.param("PATCH", "/hospitals/batch/not-a-uuid/activate", id="activate"),
        pytest.param("DELETE", "/hospitals/batch/not-a-uuid", id="delete"),
    ],
)
def test_batch_id_not_uuid_422(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["type"] == "uuid_parsing"
    assert error["loc"] == ["path", "batch_id"]


def test_activate_batch_ok(client: httpx.Client) -> None:
    batch_id = str(uuid.uuid4())
    _create_in_batch(client, batch_id)
    _create_in_batch(client, batch_id)

    response = client.patch(f"/hospitals/batch/{batch_id}/activate")

    assert response.status_code == 200
    assert response.json() == {
        "activated_count": 2,
        "message": f"Activated 2 hospital(s) with batch ID {batch_id}",
    }
    members = client.get(f"/hospitals/batch/{batch_id}").json()
    assert [hospital["active"] for hospital in members] == [True, True]


def test_activate_batch_twice_400(client: httpx.Client) -> None:
    """Activation is one-shot, so a repeated activate fails although the batch is live."""
    batch_id = str(uuid.uuid4())
    _create_in_batch(client, batch_id)
    client.patch(f"/hospitals/batch/{batch_id}/activate")

    response = client.patch(f"/hospitals/batch/{batch_id}/activate")

    assert response.status_code == 400
    assert response.json() == ALREADY_ACTIVE


def test_activate_batch_late_member_stays_inactive(client: httpx.Client) -> None:
    """A hospital added after activation can never be activated."""
    batch_id = str(uuid.uuid4())
    _create_in_batch(client, batch_id)
    client.patch(f"/hospitals/batch/{batch_id}/activate")
    late = _create_in_batch(client, batch_id, "Late")

    response = client.patch(f"/hospitals/batch/{batch_id}/activate")

    assert late["active"] is False
    assert response.status_code == 400
    assert client.get(f"/hospitals/{late['id']}").json()["active"] is False


def test_activate_batch_unknown_404(client: httpx.Client) -> None:
    response = client.patch(f"/hospitals/batch/{uuid.uuid4()}/activate")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_delete_batch_ok(client: httpx.Client) -> None:
    batch_id = str(uuid.uuid4())
    _create_in_batch(client, batch_id)
    _create_in_batch(client, batch_id)
    client.patch(f"/hospitals/batch/{batch_id}/activate")
    unbatched = client.post("/hospitals/", json={"name": "Live", "address": "2 Main St"}).json()

    response = client.delete(f"/hospitals/batch/{batch_id}")

    assert response.status_code == 200
    assert response.json() == {
        "deleted_count": 2,
        "message": f"Deleted 2 hospital(s) with batch ID {batch_id}",
    }
    assert client.get(f"/hospitals/batch/{batch_id}").status_code == 404
    assert client.get("/hospitals/").json() == [unbatched]


def test_delete_batch_unknown_404(client: httpx.Client) -> None:
    response = client.delete(f"/hospitals/batch/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_batch_cap_400(client: httpx.Client) -> None:
    client.put("/_control/faults", json={"batch_cap": 2})
    batch_id = str(uuid.uuid4())
    _create_in_batch(client, batch_id)
    _create_in_batch(client, batch_id)

    response = client.post(
        "/hospitals/", json={"name": "Third", "address": "1 Main St", "creation_batch_id": batch_id}
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "Batch cannot exceed 2 hospitals"}
    assert len(client.get(f"/hospitals/batch/{batch_id}").json()) == 2


def test_batch_cap_other_batch_unaffected(client: httpx.Client) -> None:
    client.put("/_control/faults", json={"batch_cap": 1})
    _create_in_batch(client, str(uuid.uuid4()))

    response = client.post(
        "/hospitals/",
        json={"name": "Other", "address": "1 Main St", "creation_batch_id": str(uuid.uuid4())},
    )

    assert response.status_code == 200


def test_batch_cap_race_passes_cap(client: httpx.Client) -> None:
    """Concurrent creates all pass the cap check before any of them is stored."""
    client.put("/_control/faults", json={"batch_cap": 2, "create_latency_ms": 300})
    batch_id = str(uuid.uuid4())

    statuses = asyncio.run(_create_concurrently(str(client.base_url), batch_id, count=5))

    assert statuses == [200] * 5
    assert len(client.get(f"/hospitals/batch/{batch_id}").json()) == 5
    late = client.post(
        "/hospitals/", json={"name": "Late", "address": "1 Main St", "creation_batch_id": batch_id}
    )
    assert late.status_code == 400
