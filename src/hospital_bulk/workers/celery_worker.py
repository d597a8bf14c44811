"""`hospital-bulk worker`: a Celery worker that runs chunks and final steps of jobs.

The worker uses Celery's prefork pool. Each child process runs one task at a time on its
own event loop, with its own store engine and Directory client, so `--concurrency N` runs
N chunks at once. A child that dies (SIGKILL, out of memory) takes only its own task down:
the parent notices, and `task_reject_on_worker_lost` puts the task back on the queue. The
solo pool would lose that isolation and make `task_reject_on_worker_lost` useless.

Each child also runs a sweeper thread that sends stalled work again, so recovery does not
depend on an API process being up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown

from hospital_bulk.config import Settings
from hospital_bulk.directory.shared_limits import limits_redis_url
from hospital_bulk.store.engine import create_store_engine
from hospital_bulk.store.migrate import StoreNotMigrated, prepare_store
from hospital_bulk.workers.celery_app import create_celery_app
from hospital_bulk.workers.celery_backend import sweep_interval
from hospital_bulk.workers.sweeper import StalledWorkSweeper, WorkItem
from hospital_bulk.workers.tasks import register_tasks, start_runtime, stop_runtime

logger = logging.getLogger(__name__)


def run_worker(settings: Settings, *, concurrency: int = 2) -> None:
    """Run a Celery worker with `concurrency` child processes until it is stopped.

    The default of 2 lets the next chunk start filling Directory create slots while the
    previous chunk waits on its last creates. The children share the
    `HOSPITAL_BULK_CONCURRENCY` cap with every other worker process through Redis, so
    more children do not raise it.

    SIGTERM stops it after the running tasks end; SIGKILL loses nothing either, because
    the chunks' leases run out and a sweeper sends them again.

    Raises:
        SystemExit: the Directory URL is missing, the broker is not Redis, or the job
            store's schema is not current.
    """
    if not settings.directory_url:
        raise SystemExit(
            "HOSPITAL_DIRECTORY_URL is not set; a worker needs the Hospital Directory's URL."
        )
    try:
        limits_redis_url(settings)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    _prepare_store(settings)
    app = create_celery_app(settings)
    register_tasks(app)
    processes = _WorkerProcesses(settings, app)
    # weak=False: the handlers are bound methods that nothing else keeps alive.
    worker_process_init.connect(processes.start, weak=False)
    worker_process_shutdown.connect(processes.stop, weak=False)
    app.worker_main([
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        f"--loglevel={settings.log_level.upper()}",
        f"--hostname=hospital-bulk-{os.getpid()}@%h",
        # Workers coordinate through the job store, so Celery's worker-to-worker traffic is unused.
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ])


def _prepare_store(settings: Settings) -> None:
    engine = create_store_engine(settings.job_store_url)
    try:
        prepare_store(engine)
    except StoreNotMigrated as exc:
        raise SystemExit(str(exc)) from None
    finally:
        engine.dispose()


class _WorkerProcesses:
    """Signal handlers that build and close each child process's runtime and sweeper."""

    def __init__(self, settings: Settings, app: Celery) -> None:
        self._settings = settings
        self._app = app
        self._sweeper: _SweeperThread | None = None

    def start(self, **_signal: Any) -> None:
        runtime = start_runtime(self._settings, self._app)
        dispatcher = runtime.dispatcher

        async def enqueue(item: WorkItem) -> bool:
            # The sweeper's loop runs nothing else, so a blocking send is fine here.
            return dispatcher.send_unless_queued(item)

        sweeper = StalledWorkSweeper(
            runtime.context.repository, self._settings, enqueue=enqueue,
            interval=sweep_interval(self._settings), pending_for=self._settings.lease_seconds,
        )
        self._sweeper = _SweeperThread(sweeper)
        self._sweeper.start()
        logger.info("Worker process %d ready; sweeping every %.1f s", os.getpid(), sweeper.interval)

    def stop(self, **_signal: Any) -> None:
        if self._sweeper is not None:
            self._sweeper.stop()
        stop_runtime()


class _SweeperThread:
    """Run a sweeper on its own event loop in a daemon thread, beside the tasks' loop."""

    def __init__(self, sweeper: StalledWorkSweeper) -> None:
        self._loop = asyncio.new_event_loop()
        # Created before the thread starts, so that stop() always has a task to cancel.
        self._task = self._loop.create_task(sweeper.run())
        self._thread = threading.Thread(target=self._run, name="hospital-bulk-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._task.cancel)
            self._thread.join(timeout)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        with contextlib.suppress(asyncio.CancelledError):
            self._loop.run_until_complete(self._task)
        self._loop.run_until_complete(self._loop.shutdown_default_executor())
        self._loop.close()
