"""Profiles of the bundled Directory: the public profile's limits and unknown names."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from hospital_bulk.bundled_directory import create_directory_app

DIRECTORY_PROFILE = "public"

PUBLIC_DEFAULTS = {
    "create_latency_ms": 5000,
    "batch_cap": 20,
    "max_hospitals": 10_000,
    "error_rate": 0.0,
    "activation_fails": False,
    "store_then_hang_rate": 0.0,
    "hang_seconds": 60.0,
    "health_rate_per_minute": 100,
    "create_rate_per_minute": 30,
    "read_rate_per_minute": 50,
    "update_rate_per_minute": 50,
    "delete_rate_per_minute": 50,
    "activate_rate_per_minute": 50,
    "rate_window_seconds": 60.0,
}


def test_public_profile_defaults(client: httpx.Client) -> None:
    response = client.get("/_control/faults")

    assert response.json() == PUBLIC_DEFAULTS


def test_public_health_limit_100(client: httpx.Client) -> None:
    statuses = [client.get("/").status_code for _ in range(100)]

    response = client.get("/")

    assert statuses == [200] * 100
    assert response.status_code == 429
    assert response.json() == {"error": "Rate limit exceeded: 100 per 1 minute"}


def test_public_create_limits(client: httpx.Client) -> None:
    """With the delay turned off, the 21st create of a batch gets 400 and the 31st create 429."""
    client.put("/_control/faults", json={"create_latency_ms": 0})
    batch_id = str(uuid.uuid4())
    body = {"name": "General Hospital", "address": "1 Main St", "creation_batch_id": batch_id}
    in_batch = [client.post("/hospitals/", json=body).status_code for _ in range(21)]
    other_batch = {**body, "creation_batch_id": str(uuid.uuid4())}
    more = [client.post("/hospitals/", json=other_batch).status_code for _ in range(9)]

    limited = client.post("/hospitals/", json=other_batch)

    assert in_batch == [200] * 20 + [400]
    assert more == [200] * 9
    assert limited.status_code == 429
    assert limited.json() == {"error": "Rate limit exceeded: 30 per 1 minute"}
    assert "retry-after" not in limited.headers


def test_public_batch_cap_message(client: httpx.Client) -> None:
    client.put("/_control/faults", json={"create_latency_ms": 0})
    batch_id = str(uuid.uuid4())
    body = {"name": "General Hospital", "address": "1 Main St", "creation_batch_id": batch_id}
    for _ in range(20):
        client.post("/hospitals/", json=body)

    response = client.post("/hospitals/", json=body)

    assert response.status_code == 400
    assert response.json() == {"detail": "Batch cannot exceed 20 hospitals"}


def test_unknown_profile_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Unknown Directory profile 'staging'"):
        create_directory_app(database_path=tmp_path / "directory.sqlite3", profile="staging")
