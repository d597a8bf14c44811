"""Data kept by the bundled Directory across a restart on the same database file."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import httpx

ServeDirectory = Callable[..., AbstractContextManager[str]]


def test_restart_keeps_hospitals(tmp_path: Path, serve_directory: ServeDirectory) -> None:
    database_path = tmp_path / "directory.sqlite3"
    batch_id = str(uuid.uuid4())
    with serve_directory(database_path) as url, httpx.Client(base_url=url) as client:
        created = client.post(
            "/hospitals/",
            json={"name": "Kept", "address": "1 Main St", "creation_batch_id": batch_id},
        ).json()

    with serve_directory(database_path) as url, httpx.Client(base_url=url) as client:
        hospitals = client.get("/hospitals/").json()
        batch = client.get(f"/hospitals/batch/{batch_id}").json()

    assert hospitals == [created]
    assert batch == [created]


def test_restart_keeps_id_counter(tmp_path: Path, serve_directory: ServeDirectory) -> None:
    """Ids continue after a restart, even past a deleted highest id."""
    database_path = tmp_path / "directory.sqlite3"
    hospital = {"name": "General Hospital", "address": "1 Main St"}
    with serve_directory(database_path) as url, httpx.Client(base_url=url) as client:
        client.post("/hospitals/", json=hospital)
        client.post("/hospitals/", json=hospital)
        client.delete("/hospitals/2")

    with serve_directory(database_path) as url, httpx.Client(base_url=url) as client:
        new_id = client.post("/hospitals/", json=hospital).json()["id"]

    assert new_id == 3


def test_restart_resets_faults(tmp_path: Path, serve_directory: ServeDirectory) -> None:
    database_path = tmp_path / "directory.sqlite3"
    with serve_directory(database_path) as url, httpx.Client(base_url=url) as client:
        client.put("/_control/faults", json={"batch_cap": 3})

    with serve_directory(database_path) as url, httpx.Client(base_url=url) as client:
        faults = client.get("/_control/faults").json()

    assert faults["batch_cap"] == 0


def test_database_wal_and_batch_index(tmp_path: Path, serve_directory: ServeDirectory) -> None:
    database_path = tmp_path / "nested" / "directory.sqlite3"
    with serve_directory(database_path):
        pass

    with sqlite3.connect(database_path) as connection:
        journal_mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
        indexed_columns = [
            row[2] for row in connection.execute("PRAGMA index_info(hospitals_creation_batch_id)")
        ]
    connection.close()

    assert journal_mode == "wal"
    assert indexed_columns == ["creation_batch_id"]
