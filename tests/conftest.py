"""Fixtures: the bundled Directory and the service, each a real server on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hospital_bulk.api.app import create_app
from hospital_bulk.bundled_directory.app import create_directory_app
from hospital_bulk.config import Settings
from tests.support import ServerThread, set_faults

#: Faults of the local profile, restored before every test that uses the shared Directory.
NO_FAULTS = {
    "create_latency_ms": 0,
    "batch_cap": 0,
    "create_rate_per_minute": 0,
    "error_rate": 0.0,
    "activation_fails": False,
    "store_then_hang_rate": 0.0,
    "hang_seconds": 60.0,
    "rate_window_seconds": 60.0,
}


@pytest.fixture(scope="session")
def directory_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("directory") / "directory.sqlite3"
    server = ServerThread(create_directory_app(database_path=database, profile="local")).start()
    yield server.url
    server.stop()


@pytest.fixture
def directory(directory_server: str) -> str:
    """The shared bundled Directory, with every fault off."""
    set_faults(directory_server, **NO_FAULTS)
    return directory_server


def fast_settings(tmp_path: Path, directory_url: str, **overrides: Any) -> Settings:
    """Settings with short waits, so that retries and leases play out within a test."""
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "directory_url": directory_url,
        "directory_timeout": 5.0,
        "directory_rate_limit_wait": 1.0,
        "reconcile_grace": 0.5,
        "lease_seconds": 6.0,
        "concurrency": 10,
        "chunk_size": 50,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def start_service(tmp_path: Path, directory: str) -> Iterator[Callable[..., str]]:
    """Start the service with the given setting overrides; return its base URL."""
    servers: list[ServerThread] = []

    def start(**overrides: Any) -> str:
        settings = fast_settings(tmp_path, overrides.pop("directory_url", directory), **overrides)
        server = ServerThread(create_app(settings)).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def api(start_service: Callable[..., str]) -> str:
    """The service in its embedded shape, on a fresh SQLite store, using the shared Directory."""
    return start_service()
