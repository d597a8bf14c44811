"""Fault settings, injected failures, rate limits and wipe of the bundled Directory."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from hospital_bulk.bundled_directory import PROFILES

HOSPITAL = {"name": "General Hospital", "address": "1 Main St"}


def _set_faults(client: httpx.Client, **fields: Any) -> None:
    client.put("/_control/faults", json=fields).raise_for_status()


def test_faults_get_local_defaults(client: httpx.Client) -> None:
    response = client.get("/_control/faults")

    assert response.status_code == 200
    assert response.json() == PROFILES["local"].model_dump()
    assert response.json()["hang_seconds"] == 60.0


def test_faults_put_merges(client: httpx.Client) -> None:
    client.put("/_control/faults", json={"batch_cap": 5})

    response = client.put("/_control/faults", json={"error_rate": 0.25})

    expected = {**PROFILES["local"].model_dump(), "batch_cap": 5, "error_rate": 0.25}
    assert response.status_code == 200
    assert response.json() == expected
    assert client.get("/_control/faults").json() == expected


def test_faults_put_empty_body_no_change(client: httpx.Client) -> None:
    response = client.put("/_control/faults", json={})

    assert response.status_code == 200
    assert response.json() == PROFILES["local"].model_dump()


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"create_latency_ms": -1}, id="latency-negative"),
        pytest.param({"create_latency_ms": 1.5}, id="latency-float"),
        pytest.param({"batch_cap": "3"}, id="cap-string"),
        pytest.param({"batch_cap": True}, id="cap-bool"),
        pytest.param({"create_rate_per_minute": -5}, id="rate-negative"),
        pytest.param({"error_rate": 1.5}, id="error-rate-above-1"),
        pytest.param({"error_rate": -0.1}, id="error-rate-negative"),
        pytest.param({"store_then_hang_rate": 2}, id="hang-rate-above-1"),
        pytest.param({"activation_fails": "yes"}, id="activation-string"),
        pytest.param({"activation_fails": 1}, id="activation-int"),
        pytest.param({"hang_seconds": -1}, id="hang-negative"),
        pytest.param({"max_hospitals": None}, id="max-null"),
        pytest.param({"batch_cap": 1, "no_such_fault": 1}, id="unknown-field"),
    ],
)
def test_faults_invalid_value_422(client: httpx.Client, fields: dict[str, Any]) -> None:
    response = client.put("/_control/faults", json=fields)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"
    assert client.get("/_control/faults").json() == PROFILES["local"].model_dump()


def test_faults_not_json_object_422(client: httpx.Client) -> None:
    response = client.put("/_control/faults", json=[1, 2])

    assert response.status_code == 422


def test_create_latency_delays_response(client: httpx.Client) -> None:
    _set_faults(client, create_latency_ms=300)

    started = time.monotonic()
    response = client.post("/hospitals/", json=HOSPITAL)
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed >= 0.29  # 10 ms margin for timer and clock resolution


def test_error_rate_one_503_stores_nothing(client: httpx.Client) -> None:
    _set_faults(client, error_rate=1.0)

    response = client.post("/hospitals/", json={**HOSPITAL, "creation_batch_id": str(uuid.uuid4())})

    assert response.status_code == 503
    assert response.json() == {"detail": "Service temporarily unavailable"}
    assert client.get("/hospitals/").json() == []


def test_error_rate_half_mixes_outcomes(client: httpx.Client) -> None:
    _set_faults(client, error_rate=0.5)

    statuses = [client.post("/hospitals/", json=HOSPITAL).status_code for _ in range(40)]

    assert set(statuses) == {200, 503}
    assert len(client.get("/hospitals/").json()) == statuses.count(200)


def test_activation_fails_503_changes_nothing(client: httpx.Client) -> None:
    batch_id = str(uuid.uuid4())
    client.post("/hospitals/", json={**HOSPITAL, "creation_batch_id": batch_id})
    _set_faults(client, activation_fails=True)

    response = client.patch(f"/hospitals/batch/{batch_id}/activate")

    assert response.status_code == 503
    assert response.json() == {"detail": "Service temporarily unavailable"}
    members = client.get(f"/hospitals/batch/{batch_id}").json()
    assert [hospital["active"] for hospital in members] == [False]


def test_activation_fails_then_recovers(client: httpx.Client) -> None:
    """Turning the fault off lets the same batch activate, since nothing changed."""
    batch_id = str(uuid.uuid4())
    client.post("/hospitals/", json={**HOSPITAL, "creation_batch_id": batch_id})
    _set_faults(client, activation_fails=True)
    client.patch(f"/hospitals/batch/{batch_id}/activate")
    _set_faults(client, activation_fails=False)

    response = client.patch(f"/hospitals/batch/{batch_id}/activate")

    assert response.status_code == 200
    assert response.json()["activated_count"] == 1


def test_store_then_hang_client_timeout(client: httpx.Client) -> None:
    """The client times out, yet the hospital is already stored."""
    _set_faults(client, store_then_hang_rate=1.0, hang_seconds=1.0)
    batch_id = str(uuid.uuid4())

    with pytest.raises(httpx.ReadTimeout):
        client.post("/hospitals/", json={**HOSPITAL, "creation_batch_id": batch_id}, timeout=0.3)

    members = client.get(f"/hospitals/batch/{batch_id}").json()
    assert len(members) == 1
    assert members[0]["active"] is False


def test_store_then_hang_answers_200_late(client: httpx.Client) -> None:
    _set_faults(client, store_then_hang_rate=1.0, hang_seconds=0.3)

    started = time.monotonic()
    response = client.post("/hospitals/", json=HOSPITAL)
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert response.json()["id"] == 1
    assert elapsed >= 0.29  # 10 ms margin for timer and clock resolution


def test_create_rate_limit_429(client: httpx.Client) -> None:
    _set_faults(client, create_rate_per_minute=2)
    client.post("/hospitals/", json=HOSPITAL)
    client.post("/hospitals/", json=HOSPITAL)

    response = client.post("/hospitals/", json=HOSPITAL)

    assert response.status_code == 429
    assert response.json() == {"error": "Rate limit exceeded: 2 per 1 minute"}
    assert "retry-after" not in response.headers
    assert len(client.get("/hospitals/").json()) == 2


def test_rate_limit_skips_invalid_requests(client: httpx.Client) -> None:
    """A 422 does not count against the limit, as with upstream's slowapi decorators."""
    _set_faults(client, create_rate_per_minute=1)
    client.post("/hospitals/", json={"name": ""})

    response = client.post("/hospitals/", json=HOSPITAL)

    assert response.status_code == 200


def test_read_rate_limit_per_endpoint(client: httpx.Client) -> None:
    """Each read endpoint has its own counter under the shared read limit."""
    _set_faults(client, read_rate_per_minute=1)
    client.get("/hospitals/")

    limited = client.get("/hospitals/")
    other_endpoint = client.get("/hospitals/1")

    assert limited.status_code == 429
    assert limited.json() == {"error": "Rate limit exceeded: 1 per 1 minute"}
    assert other_endpoint.status_code == 404


@pytest.mark.parametrize(
    ("fault", "method", "path"),
    [
        pytest.param("health_rate_per_minute", "GET", "/", id="health"),
        pytest.param("update_rate_per_minute", "PUT", "/hospitals/1", id="update"),
        pytest.param("delete_rate_per_minute", "DELETE", "/hospitals/1", id="delete"),
        pytest.param(
            "delete_rate_per_minute",
            "DELETE",
            f"/hospitals/batch/{uuid.uuid4()}",
            id="delete-batch",
        ),
        pytest.param(
            "activate_rate_per_minute",
            "PATCH",
            f"/hospitals/batch/{uuid.uuid4()}/activate",
            id="activate",
        ),
    ],
)
def test_endpoint_rate_limit_429(client: httpx.Client, fault: str, method: str, path: str) -> None:
    _set_faults(client, **{fault: 1})
    body = {"name": "Renamed"} if method == "PUT" else None
    first = client.request(method, path, json=body)

    second = client.request(method, path, json=body)

    assert first.status_code != 429
    assert second.status_code == 429
    assert second.json() == {"error": "Rate limit exceeded: 1 per 1 minute"}
    assert "retry-after" not in second.headers


def test_control_routes_not_rate_limited(client: httpx.Client) -> None:
    _set_faults(client, health_rate_per_minute=1, read_rate_per_minute=1)

    statuses = [client.get("/_control/faults").status_code for _ in range(5)]

    assert statuses == [200] * 5


def test_max_hospitals_evicts_oldest(client: httpx.Client) -> None:
    _set_faults(client, max_hospitals=3)

    for index in range(5):
        client.post("/hospitals/", json={**HOSPITAL, "name": f"Hospital {index}"})

    hospitals = client.get("/hospitals/").json()
    assert [hospital["id"] for hospital in hospitals] == [3, 4, 5]
    assert client.get("/hospitals/1").status_code == 404


def test_wipe_restarts_ids(client: httpx.Client) -> None:
    client.post("/hospitals/", json=HOSPITAL)
    client.post("/hospitals/", json=HOSPITAL)

    response = client.post("/_control/wipe")

    assert response.status_code == 200
    assert response.json() == {"deleted_count": 2}
    assert client.get("/hospitals/").json() == []
    assert client.post("/hospitals/", json=HOSPITAL).json()["id"] == 1


def test_wipe_resets_rate_limits_keeps_faults(client: httpx.Client) -> None:
    _set_faults(client, create_rate_per_minute=1)
    client.post("/hospitals/", json=HOSPITAL)

    client.post("/_control/wipe")
    response = client.post("/hospitals/", json=HOSPITAL)

    assert response.status_code == 200
    assert client.get("/_control/faults").json()["create_rate_per_minute"] == 1
