"""Buffered writes of row outcomes.

Progress must move row by row, but a commit per row would cap a SQLite store at a few
hundred rows a second. Outcomes are written together at most `interval` seconds apart; a
crash loses at most that window, and reconciliation against the batch listing recovers it.
"""

from __future__ import annotations

import asyncio
import contextlib

from hospital_bulk.jobs.models import RowOutcome
from hospital_bulk.metrics import ROWS_FINISHED
from hospital_bulk.store.repository import JobRepository


class OutcomeWriter:
    """Collect row outcomes and write them in batches from a background task."""

    def __init__(self, repository: JobRepository, job_id: str, *, interval: float = 0.25) -> None:
        self._repository = repository
        self._job_id = job_id
        self._interval = interval
        self._buffer: list[RowOutcome] = []
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> OutcomeWriter:
        self._task = asyncio.create_task(self._flush_periodically())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    def add(self, outcome: RowOutcome) -> None:
        self._buffer.append(outcome)
        ROWS_FINISHED.labels(outcome.status.value).inc()

    async def flush(self) -> None:
        async with self._lock:
            outcomes, self._buffer = self._buffer, []
            if not outcomes:
                return
            write = asyncio.ensure_future(
                asyncio.to_thread(self._repository.record_outcomes, self._job_id, outcomes)
            )
            try:
                await asyncio.shield(write)
            except asyncio.CancelledError:
                # A thread cannot be cancelled, so the write goes on. Wait for it, so that
                # no caller finishes the chunk or the job before these rows are stored.
                await write
                raise

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()
