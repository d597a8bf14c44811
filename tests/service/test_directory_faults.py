"""Upstream faults: lost responses, rate limits and 503s never lose or duplicate a row."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from tests.support import batch_listing, csv_rows, free_port, run_job, set_faults, upload


def _names(listing: list[dict]) -> Counter[str]:
    return Counter(hospital["name"] for hospital in listing)


def test_stored_but_unanswered_creates_not_duplicated(
    start_service: Callable[..., str], directory: str
) -> None:
    """A create stored by the Directory but never returned is adopted, not sent again."""
    api = start_service(directory_timeout=1.0, concurrency=10)
    set_faults(directory, store_then_hang_rate=0.3, hang_seconds=3)

    final = run_job(api, csv_rows(40), timeout=180)
    result = final["result"]
    names = _names(batch_listing(directory, result["batch_id"]))

    assert final["status"] == "completed"
    assert result["failed_hospitals"] == 0
    assert len(names) == 40
    assert max(names.values()) == 1
    assert result["batch_activated"] is True
    assert len({row["hospital_id"] for row in result["hospitals"]}) == 40


def test_identical_rows_adopted_as_multiset(
    start_service: Callable[..., str], directory: str
) -> None:
    """Two identical rows whose creates both hang map to two distinct hospitals."""
    api = start_service(directory_timeout=1.0)
    set_faults(directory, store_then_hang_rate=1.0, hang_seconds=2)
    data = b"name,address,phone\nTwin Hospital,1 Same St,555\nTwin Hospital,1 Same St,555\n"

    result = run_job(api, data, timeout=120)["result"]
    listing = batch_listing(directory, result["batch_id"])

    assert len(listing) == 2
    assert result["failed_hospitals"] == 0
    assert {row["hospital_id"] for row in result["hospitals"]} == {h["id"] for h in listing}


def test_rate_limited_creates_wait_then_succeed(
    start_service: Callable[..., str], directory: str
) -> None:
    """429 without Retry-After pauses creates, then every row goes through."""
    api = start_service(directory_rate_limit_wait=1.5, concurrency=4)
    set_faults(directory, create_rate_per_minute=5, rate_window_seconds=1.0)

    final = run_job(api, csv_rows(8), timeout=240)
    result = final["result"]

    assert result["failed_hospitals"] == 0
    assert result["batch_activated"] is True
    assert len(batch_listing(directory, result["batch_id"])) == 8


def test_unavailable_directory_retried(start_service: Callable[..., str], directory: str) -> None:
    """A 503 sent before storing is retried, with no duplicate."""
    api = start_service()
    set_faults(directory, error_rate=0.3)

    result = run_job(api, csv_rows(30), timeout=180)["result"]
    names = _names(batch_listing(directory, result["batch_id"]))

    assert result["failed_hospitals"] == 0
    assert len(names) == 30
    assert max(names.values()) == 1


def test_directory_rejection_fails_row(start_service: Callable[..., str], directory: str) -> None:
    """A 400 from the Directory (batch cap) fails the row with the upstream's reason."""
    api = start_service(concurrency=1)
    set_faults(directory, batch_cap=2)

    result = run_job(api, csv_rows(3))["result"]
    failed = [row for row in result["hospitals"] if row["status"] == "failed"]

    assert result["processed_hospitals"] == 2
    assert len(failed) == 1
    assert "Batch cannot exceed 2 hospitals" in failed[0]["error_message"]
    assert result["batch_activated"] is False


def test_batch_cap_setting_rejects_large_file(start_service: Callable[..., str]) -> None:
    """With HOSPITAL_DIRECTORY_BATCH_CAP set, a larger file is rejected before any job exists."""
    from tests.support import upload

    api = start_service(directory_batch_cap=20)
    response = upload(api, csv_rows(21))
    body = response.json()

    assert response.status_code == 422
    assert "at most 20" in body["detail"]
    assert "Split the file" in body["fix"]
    assert body["file"] == "hospitals.csv"


def test_wiped_directory_named_on_activation(
    start_service: Callable[..., str], directory: str
) -> None:
    """After the Directory lost a batch, activation names the rows it no longer has."""
    import httpx

    from tests.support import activate

    api = start_service()
    set_faults(directory, activation_fails=True)
    result = run_job(api, csv_rows(3))["result"]
    set_faults(directory, activation_fails=False)
    httpx.post(f"{directory}/_control/wipe").raise_for_status()

    response = activate(api, result["batch_id"])
    body = response.json()

    assert response.status_code == 409
    assert body["missing_rows"] == [1, 2, 3]
    assert "no longer has" in body["detail"]


def test_wiped_directory_named_by_status(start_service: Callable[..., str], directory: str) -> None:
    """Status with verify=true compares the job with the Directory's own listing."""
    import httpx

    api = start_service()
    final = run_job(api, csv_rows(2))
    url = f"{api}/api/v1/hospitals/status/{final['job_id']}"

    before = httpx.get(url, params={"verify": "true"}).json()["result"]["directory_check"]
    httpx.post(f"{directory}/_control/wipe").raise_for_status()
    after = httpx.get(url, params={"verify": "true"}).json()["result"]["directory_check"]

    assert before["missing_rows"] == []
    assert before["message"] is None
    assert after["missing_rows"] == [1, 2]
    assert "no longer has 2 of the 2" in after["message"]


def test_verify_unreachable_directory_502(start_service: Callable[..., str]) -> None:
    """A status check against an unreachable Directory returns a 502 problem, not a 500."""
    import httpx

    api = start_service(directory_url=f"http://127.0.0.1:{free_port()}", directory_retry_attempts=1)
    accepted = upload(api, csv_rows(2))
    assert accepted.status_code == 202, accepted.text

    response = httpx.get(
        f"{api}/api/v1/hospitals/status/{accepted.json()['job_id']}", params={"verify": "true"}
    )

    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert f"did not list batch {accepted.json()['batch_id']}" in response.json()["detail"]
