"""Engine factory for the job store (SQLite file or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

#: Page cache of one SQLite connection, in KiB.
SQLITE_CACHE_KIB = 512


def create_store_engine(url: str) -> Engine:
    """Create the engine for `url`, with SQLite tuned for one writer and many readers."""
    # JSON columns (file reports, row warnings and source cells) go through orjson,
    # which is faster than the json module.
    json_options = {"json_serializer": dump_json, "json_deserializer": orjson.loads}
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **json_options)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": 30, "check_same_thread": False}, **json_options
    )
    event.listen(engine, "connect", _configure_sqlite)
    return engine


def dump_json(value: Any) -> str:
    """Encode a JSON column's value as the text the store keeps."""
    return orjson.dumps(value).decode()


def _configure_sqlite(connection: Any, _record: Any) -> None:
    # WAL lets status reads run while a worker writes; NORMAL sync is durable across a process
    # crash (only an OS crash can lose the last commits, which reconciliation then recovers).
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Each pooled connection has its own page cache, 2 MB by default, and the pool keeps up
    # to 15 connections. With the default, a long upload or a few large status pages left
    # the embedded service 5 to 9 MB larger than a small one (benchmarks/upload_memory.py).
    # The OS caches the file's pages for all connections.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()
