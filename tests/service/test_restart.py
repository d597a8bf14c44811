"""A service killed in the middle of a job resumes it after a restart, with no duplicate."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.support import batch_listing, csv_rows, free_port, set_faults, upload, wait_for_job


def _start_serve(data_dir: Path, directory: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HOSPITAL_BULK_DATA_DIR": str(data_dir),
        "HOSPITAL_DIRECTORY_URL": directory,
        "HOSPITAL_BULK_LEASE_SECONDS": "3",
        "HOSPITAL_BULK_CONCURRENCY": "5",
        "HOSPITAL_BULK_CHUNK_SIZE": "100",
    }
    command = [sys.executable, "-m", "hospital_bulk.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(
        command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"serve did not start: {log.read_text()[-2000:]}")


def test_killed_service_resumes_job(tmp_path: Path, directory: str) -> None:
    """SIGKILL mid-job, start again: same batch, every row exactly once, then activated."""
    set_faults(directory, create_latency_ms=40)
    port, log = free_port(), tmp_path / "serve.log"
    api = f"http://127.0.0.1:{port}"
    first = _start_serve(tmp_path, directory, port, log)
    try:
        job = upload(api, csv_rows(600)).json()
        deadline = time.monotonic() + 60
        while (
            httpx.get(f"{api}/api/v1/hospitals/status/{job['job_id']}").json()[
                "progress_percentage"
            ]
            < 20
        ):
            assert time.monotonic() < deadline, "the job made no progress"
            time.sleep(0.05)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()

    second = _start_serve(tmp_path, directory, port, log)
    try:
        final = wait_for_job(api, job["job_id"], timeout=180)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
    result = final["result"]
    names = Counter(h["name"] for h in batch_listing(directory, job["batch_id"]))

    assert result["batch_id"] == job["batch_id"]
    assert final["status"] == "completed"
    assert result["failed_hospitals"] == 0
    assert len(names) == 600
    assert max(names.values()) == 1
    assert result["batch_activated"] is True
    assert "Resuming chunk" in log.read_text()
