"""OutcomeWriter: every outcome added is stored once the writer has closed."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from hospital_bulk.jobs.models import NewJob, NewRow, RowOutcome
from hospital_bulk.jobs.outcome_writer import OutcomeWriter
from hospital_bulk.jobs.states import RowStatus
from hospital_bulk.store.engine import create_store_engine
from hospital_bulk.store.migrate import upgrade_database
from hospital_bulk.store.repository import JobRepository


def test_close_waits_for_running_flush(tmp_path: Path) -> None:
    """Closing while a periodic flush is writing still leaves every row stored on return."""
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade_database(url)
    repository = JobRepository(create_store_engine(url))

    async def write_and_close(job_id: str, rows: int) -> dict[RowStatus, int]:
        # A zero interval keeps a flush in flight, so the close lands in the middle of one.
        async with OutcomeWriter(repository, job_id, interval=0) as writer:
            for row in range(1, rows + 1):
                writer.add(RowOutcome(row, RowStatus.CREATED, hospital_id=row))
            # Let the periodic flush take the buffer and start its write thread.
            for _ in range(3):
                await asyncio.sleep(0)
        # Read inside the loop: asyncio.run would wait for stray write threads on exit.
        return repository.count_rows(job_id)

    for _ in range(5):
        job = NewJob(id=str(uuid.uuid4()), batch_id=str(uuid.uuid4()), filename="f.csv", fingerprint="x")
        rows = [NewRow(row=row, name=f"H{row}", address="A", phone=None) for row in range(1, 5001)]
        repository.create_job(job, rows, chunk_size=1000)

        counts = asyncio.run(write_and_close(job.id, 5000))

        assert counts.get(RowStatus.PENDING, 0) == 0
        assert counts[RowStatus.CREATED] == 5000
