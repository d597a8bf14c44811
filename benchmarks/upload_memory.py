"""Measure the memory of the embedded service process around one upload.

The bundled Directory gets a create latency of 60 s, so no create finishes during the
measurement. The probe starts `hospital-bulk serve` in the embedded shape, uploads a
generated file of ROWS rows, then reads the job's default status page (up to 10,000
rows) three times. After each step it prints the process's resident memory (VmRSS) and
its peak (VmHWM), in MB.

Usage:
    .venv/bin/python benchmarks/upload_memory.py ROWS [NAME=VALUE ...]

Each NAME=VALUE is set in the service's environment, e.g. MALLOC_ARENA_MAX=2.
Every process sends traffic only to servers it started on 127.0.0.1.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run

#: Create latency of the Directory, long enough that no create finishes during the probe.
SLOW_CREATE_MS = 60_000


def memory_mb(pid: int) -> dict[str, int]:
    """Return VmRSS and VmHWM of the process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) // 1024
    return fields


def main() -> None:
    rows = int(sys.argv[1])
    extra_env = dict(argument.split("=", 1) for argument in sys.argv[2:])
    with run.run_scratch("upload-memory") as scratch:
        stack = run.Stack(scratch)
        try:
            with run.directory(stack, latency_ms=SLOW_CREATE_MS) as directory_url:
                api = run.start_service(
                    stack,
                    directory_url,
                    concurrency=50,
                    workers=0,
                    database_url=None,
                    extra_env=extra_env,
                )
                time.sleep(1)
                pid = stack.children["serve"].pid
                print(f"started: {memory_mb(pid)}")
                response = httpx.post(
                    f"{api}/api/v1/hospitals/bulk",
                    files={"file": ("bench.csv", run.csv_bytes(rows), "text/csv")},
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                    timeout=600,
                )
                response.raise_for_status()
                print(f"after the 202 for {rows:,} rows: {memory_mb(pid)}")
                status_url = f"{api}/api/v1/hospitals/status/{response.json()['job_id']}"
                for _ in range(3):
                    httpx.get(status_url, timeout=60).raise_for_status()
                print(f"after three page reads: {memory_mb(pid)}")
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
