"""Celery workers on PostgreSQL and Redis: shared jobs, killed workers, a restarted API, lost tasks.

Every "no row lost, none duplicated" check reads the Directory's own batch listing and
compares it with the job's result.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import Counter
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import create_engine, select

from hospital_bulk.store.tables import ChunkRecord
from tests.distributed.conftest import Cluster, WorkerProcess
from tests.support import (
    batch_listing,
    csv_rows,
    free_port,
    run_job,
    set_faults,
    upload,
    wait_for_job,
)

pytestmark = pytest.mark.distributed

ROWS = 2000
#: Slow enough that a 2,000-row job runs for about ten seconds, so it can be interrupted.
CREATE_LATENCY_MS = 100


def _wait_for_progress(api: str, job_id: str, percent: int, *, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = httpx.get(f"{api}/api/v1/hospitals/status/{job_id}", timeout=10).json()
        progress = int(status["progress_percentage"])
        if progress >= percent:
            return progress
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not reach {percent}% in {timeout} s")


def _max_deliveries(database_url: str, job_id: str) -> int:
    return max(_deliveries(database_url, job_id).values())


def _deliveries(database_url: str, job_id: str) -> dict[int, int]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(ChunkRecord.chunk, ChunkRecord.deliveries).where(ChunkRecord.job_id == job_id)
        ).all()
    engine.dispose()
    return {row.chunk: row.deliveries for row in rows}


def _leased_chunks(database_url: str, job_id: str, worker: WorkerProcess) -> list[int]:
    """Chunks whose lease is held by one of the worker's processes (its process group)."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        leases = connection.execute(
            select(ChunkRecord.chunk, ChunkRecord.lease_owner).where(
                ChunkRecord.job_id == job_id, ChunkRecord.status == "processing"
            )
        ).all()
    engine.dispose()
    leased = []
    for chunk, owner in leases:
        # A lease owner reads "host:pid:random"; the pid is one of the worker's processes.
        with contextlib.suppress(ProcessLookupError, ValueError):
            if os.getpgid(int(owner.split(":")[-2])) == worker.process.pid:
                leased.append(chunk)
    return leased


def _freeze_while_leasing(worker: WorkerProcess, database_url: str, job_id: str) -> list[int]:
    """SIGSTOP the worker while it has a chunk leased, so that a kill lands mid-chunk."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        os.killpg(worker.process.pid, signal.SIGSTOP)
        if leased := _leased_chunks(database_url, job_id, worker):
            return leased
        os.killpg(worker.process.pid, signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError(f"{worker.name} leased no chunk of job {job_id} for 30 s")


def _check_exactly_once(directory: str, final: dict[str, Any], rows: int) -> None:
    """Compare the Directory's batch listing with the job's result: each row once, all active."""
    result = final["result"]
    listing = batch_listing(directory, result["batch_id"])
    names = Counter(hospital["name"] for hospital in listing)
    listed_ids = sorted(hospital["id"] for hospital in listing)
    result_ids = sorted(row["hospital_id"] for row in result["hospitals"] if row["hospital_id"])
    not_created = [row for row in result["hospitals"] if row["status"] != "created_and_activated"]

    assert final["status"] == "completed"
    assert not not_created, not_created[:3]
    assert result["processed_hospitals"] == rows
    assert len(listing) == rows
    assert len(names) == rows
    assert max(names.values()) == 1
    assert listed_ids == result_ids
    assert result["batch_activated"] is True
    assert all(hospital["active"] for hospital in listing)


def test_two_workers_share_job(cluster: Cluster) -> None:
    """Two workers take the chunks of one job; the batch is activated once, by one of them."""
    set_faults(cluster.directory, create_latency_ms=CREATE_LATENCY_MS)
    workers = [cluster.start_worker("worker-a"), cluster.start_worker("worker-b")]
    api = cluster.start_api()

    final = run_job(api, csv_rows(ROWS), timeout=180)
    logs = [worker.output() for worker in workers]

    _check_exactly_once(cluster.directory, final, ROWS)
    assert all("hospital_bulk.process_chunk" in log and "succeeded" in log for log in logs)
    assert sum(log.count("Attempting to auto-activate batch") for log in logs) == 1
    assert _max_deliveries(cluster.database_url, final["job_id"]) == 1


def test_killed_worker_job_completes(cluster: Cluster) -> None:
    """SIGKILL a worker at 25% or more, start another: completed, activated, each row once."""
    set_faults(cluster.directory, create_latency_ms=CREATE_LATENCY_MS)
    doomed = cluster.start_worker("worker-a")
    cluster.start_worker("worker-b")
    api = cluster.start_api()

    job = upload(api, csv_rows(ROWS)).json()
    progress = _wait_for_progress(api, job["job_id"], 25)
    leased = _freeze_while_leasing(doomed, cluster.database_url, job["job_id"])
    doomed.kill()
    cluster.start_worker("worker-c")
    final = wait_for_job(api, job["job_id"], timeout=180)
    deliveries = _deliveries(cluster.database_url, job["job_id"])

    assert progress < 100, "the job ended before the worker was killed"
    assert final["result"]["batch_id"] == job["batch_id"]
    _check_exactly_once(cluster.directory, final, ROWS)
    # The killed worker's chunks were claimed again once their leases ran out.
    assert all(deliveries[chunk] >= 2 for chunk in leased)


def test_restarted_api_job_completes(cluster: Cluster) -> None:
    """SIGKILL the API process mid-job and start it again: the workers finish the job."""
    set_faults(cluster.directory, create_latency_ms=CREATE_LATENCY_MS)
    cluster.start_worker("worker-a")
    cluster.start_worker("worker-b")
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    first = cluster.start_serve(port, name="serve-1")

    job = upload(api, csv_rows(ROWS)).json()
    progress = _wait_for_progress(api, job["job_id"], 25)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    cluster.start_serve(port, name="serve-2")
    final = wait_for_job(api, job["job_id"], timeout=180)

    assert progress < 100, "the job ended before the API was killed"
    assert final["result"]["batch_id"] == job["batch_id"]
    _check_exactly_once(cluster.directory, final, ROWS)


def test_lost_tasks_are_sent_again(cluster: Cluster) -> None:
    """Tasks lost from the broker are sent again by a sweeper, because the store has the job."""
    api = cluster.start_api()
    job = upload(api, csv_rows(300)).json()
    broker = redis.Redis.from_url(cluster.broker_url)
    broker.flushdb()  # drops the queued tasks and their marks, as a broker restart would
    queued_after_flush = broker.llen("hospital_bulk")
    broker.close()

    cluster.start_worker("worker-a")
    final = wait_for_job(api, job["job_id"], timeout=120)

    assert queued_after_flush == 0
    _check_exactly_once(cluster.directory, final, 300)
