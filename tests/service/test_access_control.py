"""API keys: every endpoint but /health needs one, and a job is visible only to its own key."""

from __future__ import annotations

import httpx

from tests.support import activate, csv_rows, upload, wait_for_job

ALICE = {"Authorization": "Bearer alice-key"}
BOB = {"Authorization": "Bearer bob-key"}


def test_keys_required_except_health(start_service) -> None:  # type: ignore[no-untyped-def]
    api = start_service(api_keys=["alice-key", "bob-key"])

    anonymous = upload(api, csv_rows(1))
    wrong = upload(api, csv_rows(1), headers={"Authorization": "Bearer nope"})
    health = httpx.get(f"{api}/health")

    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert wrong.status_code == 401
    assert health.status_code == 200


def test_job_invisible_to_other_key(start_service) -> None:  # type: ignore[no-untyped-def]
    """Another key gets 404 for the job and its batch, as if neither existed."""
    api = start_service(api_keys=["alice-key", "bob-key"])
    job = upload(api, csv_rows(2), headers=ALICE).json()
    wait_for_job(api, job["job_id"], headers=ALICE)

    own = httpx.get(f"{api}/api/v1/hospitals/status/{job['job_id']}", headers=ALICE)
    other = httpx.get(f"{api}/api/v1/hospitals/status/{job['job_id']}", headers=BOB)
    other_activate = activate(api, job["batch_id"], headers=BOB)
    other_jobs = httpx.get(f"{api}/api/v1/hospitals/jobs", headers=BOB).json()

    assert own.status_code == 200
    assert other.status_code == 404
    assert other_activate.status_code == 404
    assert other_jobs == []


def test_idempotency_keys_scoped_per_api_key(start_service) -> None:  # type: ignore[no-untyped-def]
    """The same Idempotency-Key from two API keys makes two jobs."""
    api = start_service(api_keys=["alice-key", "bob-key"])

    first = upload(api, csv_rows(1), key="shared-key", headers=ALICE)
    second = upload(api, csv_rows(1), key="shared-key", headers=BOB)

    assert first.status_code == 202
    assert second.status_code == 202
    assert first.json()["job_id"] != second.json()["job_id"]


def test_resubmit_invisible_to_other_key(start_service) -> None:  # type: ignore[no-untyped-def]
    api = start_service(api_keys=["alice-key", "bob-key"])
    job = upload(api, b"name,address\n,1 St\nA Hospital,2 St\n", headers=ALICE).json()
    wait_for_job(api, job["job_id"], headers=ALICE)
    url = f"{api}/api/v1/hospitals/bulk/{job['job_id']}/resubmit"

    other = httpx.post(url, headers=BOB)
    own = httpx.post(url, headers=ALICE)

    assert other.status_code == 404
    assert own.status_code == 202


def test_default_host_is_loopback() -> None:
    """Without --host the service listens on 127.0.0.1 only."""
    import inspect

    from hospital_bulk.cli.servers import serve

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
