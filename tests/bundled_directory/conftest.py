"""Fixtures that run the bundled Directory with real uvicorn on 127.0.0.1.

A test module sets ``DIRECTORY_PROFILE = "public"`` to get a public-profile
Directory from ``directory_url`` and ``client``. The default is ``local``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from hospital_bulk.bundled_directory import PROFILES, create_directory_app

STARTUP_TIMEOUT_SECONDS = 10.0

ServeDirectory = Callable[..., AbstractContextManager[str]]


@contextmanager
def _serve_directory(database_path: Path, profile: str = "local") -> Iterator[str]:
    """Run a Directory in a background thread and yield its base URL."""
    app = create_directory_app(database_path=database_path, profile=profile, seed=1)
    # Binding the socket here, not in uvicorn, gives a free port without a race.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_until_started(server, thread)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_SECONDS)
        sock.close()


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("The bundled Directory server exited during startup.")
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"The bundled Directory server did not start in {STARTUP_TIMEOUT_SECONDS} s."
            )
        time.sleep(0.01)


@pytest.fixture
def serve_directory() -> ServeDirectory:
    """Return a context manager that runs a Directory on a given database file."""
    return _serve_directory


def _module_profile(request: pytest.FixtureRequest) -> str:
    profile: str = getattr(request.module, "DIRECTORY_PROFILE", "local")
    return profile


@pytest.fixture(scope="module")
def directory_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Base URL of a Directory shared by the tests of one module."""
    database_path = tmp_path_factory.mktemp("directory") / "directory.sqlite3"
    with _serve_directory(database_path, profile=_module_profile(request)) as url:
        yield url


@pytest.fixture
def client(request: pytest.FixtureRequest, directory_url: str) -> Iterator[httpx.Client]:
    """Client of the shared Directory, wiped and reset to its profile's settings."""
    defaults = PROFILES[_module_profile(request)].model_dump()
    with httpx.Client(base_url=directory_url, timeout=10.0) as http:
        http.post("/_control/wipe").raise_for_status()
        http.put("/_control/faults", json=defaults).raise_for_status()
        yield http
