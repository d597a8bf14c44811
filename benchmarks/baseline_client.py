"""The smallest Python client of the Directory: a bare asyncio + httpx loop.

It sends N creates with C in flight and prints rows per second and CPU seconds, as the
baseline that the service's overhead is measured against.

Usage: python benchmarks/baseline_client.py URL ROWS CONCURRENCY
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
import uuid

import httpx


async def main(url: str, rows: int, concurrency: int) -> None:
    batch_id = str(uuid.uuid4())
    pending = iter(range(rows))

    # One client with one connection per sender: httpcore scans every connection of a
    # pool for each request, so one pool of C connections costs O(C) per request. The
    # clients are built before the clock starts, as a service builds its own at startup.
    clients = [httpx.AsyncClient(base_url=url, timeout=60) for _ in range(concurrency)]

    async def send(client: httpx.AsyncClient) -> None:
        for i in pending:
            body = {"name": f"Baseline {i}", "address": f"{i} Base St", "phone": None,
                    "creation_batch_id": batch_id}
            response = await client.post("/hospitals/", json=body)
            response.raise_for_status()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(send(client) for client in clients))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    for client in clients:
        await client.aclose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"rows": rows, "concurrency": concurrency, "seconds": elapsed,
                      "rows_per_second": rows / elapsed, "cpu_seconds": cpu,
                      "cpu_ms_per_row": 1000 * cpu / rows, "peak_rss_mb": usage.ru_maxrss / 1024}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
