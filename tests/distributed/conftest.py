"""Fixtures of the distributed shape: a fresh PostgreSQL database, a Redis db, worker processes.

Each test gets its own database, created and dropped here, and an emptied Redis db
(`HOSPITAL_BULK_TEST_REDIS_DB`, 14 by default), so the tests must not run in parallel with
each other. Without PostgreSQL or Redis the tests are skipped, except when `CI` is set:
then they fail, so that a CI run cannot pass without them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from hospital_bulk.api.app import create_app
from hospital_bulk.config import Settings
from hospital_bulk.store.migrate import upgrade_database
from tests.support import ServerThread

ADMIN_URL = os.environ.get(
    "HOSPITAL_BULK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('HOSPITAL_BULK_TEST_REDIS_DB', '14')}"
#: Short leases, so that a killed worker's chunk is taken over within seconds.
LEASE_SECONDS = 5
CHUNK_SIZE = 100
CONCURRENCY = 20


def _missing_services() -> list[str]:
    missing = []
    try:
        engine = create_engine(ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
    except SQLAlchemyError as error:
        where = make_url(ADMIN_URL).render_as_string()
        missing.append(f"PostgreSQL at {where} ({type(error).__name__})")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        missing.append(f"Redis at {REDIS_URL} ({type(error).__name__})")
    return missing


@pytest.fixture(scope="session", autouse=True)
def services_running() -> None:
    missing = _missing_services()
    if not missing:
        return
    message = (
        f"The distributed tests need {' and '.join(missing)}; start them with scripts/services."
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def database_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test."""
    name = f"hospital_bulk_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        # FORCE ends the sessions that killed workers left open.
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def migrated_database(database_url: str) -> str:
    upgrade_database(database_url)
    return database_url


@pytest.fixture
def redis_url() -> Iterator[str]:
    """URL of the tests' Redis db, emptied before and after the test."""
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@dataclass
class WorkerProcess:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its child processes, as a crash of its machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@dataclass
class Cluster:
    """The service's processes in the distributed shape, all on loopback.

    Workers are `hospital-bulk worker` subprocesses; API servers run in threads of the test
    process unless started with `start_serve`.
    """

    tmp_path: Path
    directory: str
    database_url: str
    broker_url: str
    workers: list[WorkerProcess] = field(default_factory=list)
    servers: list[ServerThread] = field(default_factory=list)
    serve_processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOSPITAL_BULK_DATABASE_URL": self.database_url,
            "HOSPITAL_BULK_BROKER_URL": self.broker_url,
            "HOSPITAL_DIRECTORY_URL": self.directory,
            "HOSPITAL_BULK_DATA_DIR": str(self.tmp_path / "data"),
            "HOSPITAL_BULK_LEASE_SECONDS": str(LEASE_SECONDS),
            "HOSPITAL_BULK_CHUNK_SIZE": str(CHUNK_SIZE),
            "HOSPITAL_BULK_CONCURRENCY": str(CONCURRENCY),
            "HOSPITAL_BULK_RECONCILE_GRACE": "0.5",
            "HOSPITAL_DIRECTORY_TIMEOUT": "5",
            "HOSPITAL_DIRECTORY_RATE_LIMIT_WAIT": "1",
        }

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": self.tmp_path / "data",
            "database_url": self.database_url,
            "broker_url": self.broker_url,
            "directory_url": self.directory,
            "lease_seconds": LEASE_SECONDS,
            "chunk_size": CHUNK_SIZE,
            "concurrency": CONCURRENCY,
            "reconcile_grace": 0.5,
            "directory_timeout": 5.0,
            "directory_rate_limit_wait": 1.0,
        }
        values.update(overrides)
        return Settings(**values)

    def start_api(self, **overrides: Any) -> str:
        """Start an API server in a thread of this process; return its base URL."""
        server = ServerThread(create_app(self.settings(**overrides))).start()
        self.servers.append(server)
        return server.url

    def start_worker(
        self, name: str, *, env: dict[str, str] | None = None, ready_timeout: float = 60.0
    ) -> WorkerProcess:
        """Start `hospital-bulk worker`, with `env` added, and wait until it is ready."""
        log = self.tmp_path / f"{name}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "hospital_bulk.cli", "worker"],
            env={**self.env, **(env or {})}, cwd=self.tmp_path,
            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        worker = WorkerProcess(name, process, log)
        self.workers.append(worker)
        deadline = time.monotonic() + ready_timeout
        while "ready; sweeping every" not in worker.output():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker {name} did not start:\n{worker.output()[-3000:]}")
            time.sleep(0.1)
        return worker

    def start_serve(self, port: int, *, name: str = "serve") -> subprocess.Popen[bytes]:
        """Start `hospital-bulk serve` as a process on `port` and wait for /health."""
        log = self.tmp_path / f"{name}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "hospital_bulk.cli", "serve", "--port", str(port)],
            env=self.env, cwd=self.tmp_path, stdout=log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.serve_processes.append(process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"serve did not start:\n{log.read_text(errors='replace')[-3000:]}")

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        processes = [worker.process for worker in self.workers] + self.serve_processes
        for process in processes:
            if process.poll() is None:
                # SIGTERM to the parent only: a Celery worker then stops its children itself.
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture
def cluster(
    tmp_path: Path, directory: str, migrated_database: str, redis_url: str
) -> Iterator[Cluster]:
    cluster = Cluster(
        tmp_path=tmp_path, directory=directory, database_url=migrated_database, broker_url=redis_url
    )
    yield cluster
    cluster.stop()
