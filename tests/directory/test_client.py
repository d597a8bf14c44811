"""How the Directory client sorts failures: not sent, maybe stored, or a plain response.

A create that may have been stored must come back `Unknown` and is never resent. A create
that certainly did not reach the Directory is retried, then `Rejected`. The servers here
are real sockets on 127.0.0.1 that fail the way a crashed or cut-off Directory does.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import pytest

from hospital_bulk.directory import Created, DirectoryClient, Rejected, Unknown
from hospital_bulk.errors import DirectoryUnavailable

BATCH = "5f0c6d1e-0000-4000-8000-000000000001"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head + await reader.readexactly(length)


async def _with_server(handler: Handler, body: Callable[[str], Awaitable[object]]) -> object:
    received: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await _read_request(reader))
        await handler(reader, writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await body(f"http://127.0.0.1:{port}")
    return result, len(received)


async def _create(url: str, **options: float) -> object:
    client = DirectoryClient(url, retry_attempts=3, **options)
    try:
        return await client.create_hospital(
            name="General", address="1 Main St", phone=None, batch_id=BATCH
        )
    finally:
        await client.aclose()


def test_closed_connection_create_unknown() -> None:
    async def close_without_answer(
        _reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.close()

    outcome, requests = asyncio.run(_with_server(close_without_answer, _create))

    assert isinstance(outcome, Unknown)
    assert requests == 1


def test_read_timeout_create_unknown() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # returns once the client times out and closes
        writer.close()

    outcome, requests = asyncio.run(
        _with_server(never_answer, lambda url: _create(url, timeout=0.5))
    )

    assert isinstance(outcome, Unknown)
    assert "Timeout" in outcome.reason
    assert requests == 1


def test_truncated_response_create_unknown() -> None:
    async def cut_off(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"id"'
        )
        await writer.drain()
        writer.close()

    outcome, requests = asyncio.run(_with_server(cut_off, _create))

    assert isinstance(outcome, Unknown)
    assert requests == 1


def test_complete_response_create_created() -> None:
    async def answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        body = b'{"id": 41, "name": "General"}'
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    outcome, requests = asyncio.run(_with_server(answer, _create))

    assert outcome == Created(41)
    assert requests == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_refused_connection_create_rejected() -> None:
    outcome = asyncio.run(_create(f"http://127.0.0.1:{_closed_port()}"))

    assert isinstance(outcome, Rejected)
    assert "Directory unavailable after 3 attempts" in outcome.message


def test_refused_connection_listing_raises() -> None:
    async def list_batch() -> None:
        client = DirectoryClient(f"http://127.0.0.1:{_closed_port()}", retry_attempts=2)
        try:
            await client.list_batch(BATCH)
        finally:
            await client.aclose()

    with pytest.raises(DirectoryUnavailable, match=f"did not list batch {BATCH}"):
        asyncio.run(list_batch())
