"""Fix and resubmit: failed rows run again, into the same batch or, once active, a new one."""

from __future__ import annotations

import httpx

from tests.support import TEST3, activate, batch_listing, run_job, set_faults, wait_for_job


def _resubmit(api: str, job_id: str, corrections: bytes | None = None) -> httpx.Response:
    files = {"file": ("fixes.csv", corrections, "text/csv")} if corrections is not None else None
    return httpx.post(f"{api}/api/v1/hospitals/bulk/{job_id}/resubmit", files=files, timeout=60)


def test_corrected_row_joins_same_batch(api: str, directory: str) -> None:
    """The fixed row is created in the same batch, and the batch then auto-activates."""
    first = run_job(api, TEST3)
    fixes = b"row,name,address,phone\n2,Fixed Hospital,456 Oak Ave,555-0002\n"

    response = _resubmit(api, first["job_id"], fixes)
    final = wait_for_job(api, first["job_id"])
    listing = batch_listing(directory, first["result"]["batch_id"])

    assert response.status_code == 202
    assert response.json()["same_batch"] is True
    assert response.json()["resubmitted_rows"] == [2]
    assert final["result"]["failed_hospitals"] == 0
    assert final["result"]["batch_activated"] is True
    assert sorted(h["name"] for h in listing) == [
        "Another Valid",
        "Fixed Hospital",
        "Valid Hospital",
    ]
    assert all(h["active"] for h in listing)


def test_active_batch_resubmits_to_new_batch(api: str, directory: str) -> None:
    first = run_job(api, TEST3)
    assert activate(api, first["result"]["batch_id"]).status_code == 200
    fixes = b"row,name,address,phone\n2,Late Hospital,1 Late St,555\n"

    response = _resubmit(api, first["job_id"], fixes)
    body = response.json()
    final = wait_for_job(api, body["job_id"])

    assert response.status_code == 202
    assert body["same_batch"] is False
    assert body["batch_id"] != first["result"]["batch_id"]
    assert final["result"]["batch_activated"] is True
    assert [h["name"] for h in batch_listing(directory, body["batch_id"])] == ["Late Hospital"]
    assert len(batch_listing(directory, first["result"]["batch_id"])) == 2


def test_transient_failures_resubmitted_without_file(start_service, directory: str) -> None:  # type: ignore[no-untyped-def]
    """Rows that failed on the Directory run again with their own values."""
    api = start_service(concurrency=1)
    set_faults(directory, batch_cap=1)
    first = run_job(api, b"name,address\nA Hospital,1 A St\nB Hospital,2 B St\n")
    set_faults(directory, batch_cap=0)

    response = _resubmit(api, first["job_id"])
    final = wait_for_job(api, first["job_id"])

    assert first["result"]["failed_hospitals"] == 1
    assert response.status_code == 202
    assert final["result"]["failed_hospitals"] == 0
    assert final["result"]["batch_activated"] is True
    assert len(batch_listing(directory, first["result"]["batch_id"])) == 2


def test_correction_of_created_row_rejected(api: str) -> None:
    first = run_job(api, TEST3)

    response = _resubmit(api, first["job_id"], b"row,name,address\n1,Other,1 St\n")

    assert response.status_code == 422
    assert "Row 1" in response.json()["detail"]


def test_resubmit_without_failures_is_409(api: str) -> None:
    first = run_job(api, b"name,address\nOnly Hospital,1 St\n")

    response = _resubmit(api, first["job_id"])

    assert response.status_code == 409
