"""The smallest Python client of the Directory: a bare asyncio loop over httpx or aiohttp.

It sends N creates with C in flight and prints rows per second and CPU seconds. The httpx
loop is the baseline that the service's overhead is measured against. The aiohttp loop
shows what the HTTP client alone costs, since the service sends its creates with aiohttp.

Usage: python benchmarks/baseline_client.py URL ROWS CONCURRENCY [httpx|aiohttp]
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import httpx

Post = Callable[[dict[str, Any]], Awaitable[None]]


async def main(url: str, rows: int, concurrency: int, client: str) -> None:
    batch_id = str(uuid.uuid4())
    pending = iter(range(rows))
    if client == "httpx":
        posts, close = _httpx_posts(url, concurrency)
    else:
        posts, close = _aiohttp_posts(url, concurrency)

    async def send(post: Post) -> None:
        for i in pending:
            body = {"name": f"Baseline {i}", "address": f"{i} Base St", "phone": None,
                    "creation_batch_id": batch_id}
            await post(body)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(send(post) for post in posts))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    await close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"client": client, "rows": rows, "concurrency": concurrency,
                      "seconds": elapsed, "rows_per_second": rows / elapsed,
                      "cpu_seconds": cpu, "cpu_ms_per_row": 1000 * cpu / rows,
                      "peak_rss_mb": usage.ru_maxrss / 1024}))


def _httpx_posts(url: str, concurrency: int) -> tuple[Iterator[Post], Callable[[], Awaitable[None]]]:
    # One client with one connection per sender: httpcore scans every connection of a
    # pool for each request, so one pool of C connections costs O(C) per request. The
    # clients are built before the clock starts, as a service builds its own at startup.
    clients = [httpx.AsyncClient(base_url=url, timeout=60) for _ in range(concurrency)]

    def poster(client: httpx.AsyncClient) -> Post:
        async def post(body: dict[str, Any]) -> None:
            response = await client.post("/hospitals/", json=body)
            response.raise_for_status()

        return post

    async def close() -> None:
        for client in clients:
            await client.aclose()

    return (poster(client) for client in clients), close


def _aiohttp_posts(url: str, concurrency: int) -> tuple[Iterator[Post], Callable[[], Awaitable[None]]]:
    # One session serves every sender, as in the service. It is built inside the running
    # loop, as aiohttp requires.
    session = aiohttp.ClientSession(
        base_url=url, connector=aiohttp.TCPConnector(limit=concurrency)
    )

    async def post(body: dict[str, Any]) -> None:
        async with session.post("/hospitals/", json=body) as response:
            response.raise_for_status()
            await response.read()

    return (post for _ in range(concurrency)), session.close


if __name__ == "__main__":
    client = sys.argv[4] if len(sys.argv) > 4 else "httpx"
    if client not in ("httpx", "aiohttp"):
        sys.exit(f"Unknown client {client!r}: use httpx or aiohttp.")
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), client))
