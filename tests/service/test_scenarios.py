"""The four activation scenarios end to end, over HTTP against the bundled Directory."""

from __future__ import annotations

from tests.support import TEST3, activate, batch_listing, csv_rows, run_job, set_faults


def test_all_rows_created_auto_activates(api: str, directory: str) -> None:
    """Every row created: the job activates the batch itself."""
    final = run_job(api, csv_rows(12))
    result = final["result"]

    assert final["status"] == "completed"
    assert final["progress_percentage"] == 100
    assert result["batch_activated"] is True
    assert result["processed_hospitals"] == 12
    assert result["failed_hospitals"] == 0
    assert {row["status"] for row in result["hospitals"]} == {"created_and_activated"}
    listing = batch_listing(directory, result["batch_id"])
    assert len(listing) == 12
    assert all(hospital["active"] for hospital in listing)
    assert sorted(h["id"] for h in listing) == sorted(r["hospital_id"] for r in result["hospitals"])


def test_activation_fails_leaves_rows_created(api: str, directory: str) -> None:
    """Activation fails: rows stay created, nothing is rolled back, PATCH activates later."""
    set_faults(directory, activation_fails=True)
    result = run_job(api, csv_rows(5))["result"]

    assert result["batch_activated"] is False
    assert {row["status"] for row in result["hospitals"]} == {"created"}
    assert result["activation_error"]
    assert len(batch_listing(directory, result["batch_id"])) == 5

    set_faults(directory, activation_fails=False)
    response = activate(api, result["batch_id"])

    assert response.status_code == 200
    assert response.json()["activated"] is True
    assert all(h["active"] for h in batch_listing(directory, result["batch_id"]))


def test_some_rows_fail_skips_activation(api: str, directory: str) -> None:
    """The design's partial-failure file: two created, one failed, batch left inactive."""
    final = run_job(api, TEST3)
    result = final["result"]
    by_row = {row["row"]: row for row in result["hospitals"]}

    assert result["processed_hospitals"] == 2
    assert result["failed_hospitals"] == 1
    assert result["batch_activated"] is False
    assert by_row[2]["status"] == "failed"
    assert "Row 2" in by_row[2]["error_message"]
    assert "name" in by_row[2]["error_message"]
    assert by_row[1]["status"] == "created"
    assert by_row[3]["status"] == "created"

    response = activate(api, result["batch_id"])
    after = run_job_status(api, final["job_id"])

    assert response.status_code == 200
    assert response.json()["activated_count"] == 2
    assert sum(h["active"] for h in batch_listing(directory, result["batch_id"])) == 2
    assert after["result"]["batch_activated"] is True
    assert {r["status"] for r in after["result"]["hospitals"]} == {
        "created_and_activated",
        "failed",
    }


def test_all_rows_fail_nothing_to_activate(api: str, directory: str) -> None:
    final = run_job(api, b"name,address,phone\n,1 Main St,1\nNo Address,  ,2\n")
    result = final["result"]

    assert final["status"] == "completed"
    assert result["processed_hospitals"] == 0
    assert result["failed_hospitals"] == 2
    assert result["batch_activated"] is False
    assert batch_listing(directory, result["batch_id"]) == []

    response = activate(api, result["batch_id"])

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")


def test_repeated_activation_succeeds(api: str, directory: str) -> None:
    """Activation is idempotent although the upstream returns 400 to a second activate."""
    result = run_job(api, csv_rows(3))["result"]

    first = activate(api, result["batch_id"])
    second = activate(api, result["batch_id"])

    assert result["batch_activated"] is True
    assert first.status_code == 200
    assert second.status_code == 200
    assert second.json()["activated"] is True


def test_activate_unknown_batch_is_404(api: str) -> None:
    response = activate(api, "00000000-0000-4000-8000-000000000000")

    assert response.status_code == 404


def test_status_of_unknown_job_is_404(api: str) -> None:
    import httpx

    response = httpx.get(f"{api}/api/v1/hospitals/status/no-such-job")

    assert response.status_code == 404
    assert response.json()["status"] == 404


def run_job_status(api: str, job_id: str) -> dict:
    import httpx

    return httpx.get(f"{api}/api/v1/hospitals/status/{job_id}").json()


def test_status_pages_filtered_rows(api: str) -> None:
    """With a status filter, the page's total and next offset count matching rows only."""
    import httpx

    final = run_job(api, TEST3)
    url = f"{api}/api/v1/hospitals/status/{final['job_id']}"

    created = httpx.get(url, params={"status": "created", "limit": 1}).json()["result"]
    failed = httpx.get(url, params={"status": "failed", "limit": 1}).json()["result"]

    assert created["hospitals_page"]["total"] == 2
    assert created["hospitals_page"]["next_offset"] == 1
    assert failed["hospitals_page"]["total"] == 1
    assert failed["hospitals_page"]["next_offset"] is None
    assert [row["row"] for row in failed["hospitals"]] == [2]


def test_status_page_streams_across_batches(api: str) -> None:
    """A page longer than one read of the store contains each row once, in order."""
    import httpx
    import orjson

    from hospital_bulk.api.routes.status import PAGE_BATCH

    rows = 3 * PAGE_BATCH + 17
    lines = ["name,address"] + [
        f"{'' if row % 3 == 0 else f'Stream {row}'},{row} Page St" for row in range(1, rows + 1)
    ]
    final = run_job(api, ("\n".join(lines) + "\n").encode())
    url = f"{api}/api/v1/hospitals/status/{final['job_id']}"

    page = httpx.get(url, params={"offset": 7, "limit": 2 * PAGE_BATCH + 3})
    failed = httpx.get(url, params={"status": "failed", "offset": 2, "limit": rows})

    assert page.status_code == failed.status_code == 200
    result = orjson.loads(page.content)["result"]
    assert [row["row"] for row in result["hospitals"]] == list(range(8, 2 * PAGE_BATCH + 11))
    assert result["hospitals_page"]["next_offset"] == 2 * PAGE_BATCH + 10
    failed_result = orjson.loads(failed.content)["result"]
    expected_failed = list(range(3, rows + 1, 3))[2:]
    assert [row["row"] for row in failed_result["hospitals"]] == expected_failed
    assert failed_result["hospitals_page"]["total"] == rows // 3
    assert failed_result["hospitals_page"]["next_offset"] is None
    assert {row["status"] for row in failed_result["hospitals"]} == {"failed"}
