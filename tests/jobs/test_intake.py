"""accept_upload streams the rows of a file into a SQLite store while it reads them."""

from __future__ import annotations

import asyncio
import gc
import io
import tracemalloc
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from sqlalchemy import func, select

from hospital_bulk.config import Settings
from hospital_bulk.csv_input import CsvFileError
from hospital_bulk.errors import UploadRejected
from hospital_bulk.jobs.intake import Upload, accept_upload
from hospital_bulk.jobs.models import Job
from hospital_bulk.jobs.states import RowStatus
from hospital_bulk.store import repository as repository_module
from hospital_bulk.store.engine import create_store_engine
from hospital_bulk.store.migrate import upgrade_database
from hospital_bulk.store.repository import JobRepository
from hospital_bulk.store.tables import ChunkRecord, JobRecord, RowRecord

#: Files of these sizes, 0.2 and 2.4 MB, are accepted to compare the peaks of memory.
SMALL_FILE_ROWS = 5_000
LARGE_FILE_ROWS = 50_000
#: The maximum growth of the traced peak from the small file to the large one. Only the
#: duplicate check grows, by 24 to 48 bytes a row (1.6 MB here, CPython 3.11). A dict
#: key per row for that check grew it by 7 MB.
MAX_PEAK_GROWTH_BYTES = 3_000_000


class RecordingBackend:
    """A job backend that records the jobs it is given and runs none of them."""

    def __init__(self) -> None:
        self.enqueued: list[str] = []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def enqueue_job(self, job_id: str) -> None:
        self.enqueued.append(job_id)


@pytest.fixture
def repository(tmp_path: Path) -> JobRepository:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade_database(url)
    return JobRepository(create_store_engine(url))


def bench_rows(count: int, *, malformed_row: int | None = None) -> bytes:
    """A CSV of `count` distinct rows, with an unclosed quote at `malformed_row` if given."""
    lines = ["name,address,phone"]
    for row in range(1, count + 1):
        quote = '"' if row == malformed_row else ""
        lines.append(f"{quote}Bench Hospital {row},{row} Bench St,555-{row % 10000:04d}")
    return ("\n".join(lines) + "\n").encode()


def accept(
    data: bytes | BinaryIO, repository: JobRepository, tmp_path: Path, **overrides: Any
) -> Job:
    settings = Settings(data_dir=tmp_path, **overrides)
    backend = RecordingBackend()
    file = io.BytesIO(data) if isinstance(data, bytes) else data
    job, replayed = asyncio.run(
        accept_upload(
            Upload(filename="bench.csv", file=file),
            settings=settings,
            repository=repository,
            backend=backend,
        )
    )
    assert not replayed
    assert backend.enqueued == [job.id]
    return job


def count_records(repository: JobRepository, table: Any) -> int:
    with repository.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)


def accepted_peak(rows: int, repository: JobRepository, tmp_path: Path) -> int:
    """Accept a file of `rows` rows from disk and return the peak of traced memory."""
    path = tmp_path / f"{rows}.csv"
    path.write_bytes(bench_rows(rows))
    gc.collect()
    with path.open("rb") as file:
        tracemalloc.start()
        try:
            job = accept(file, repository, tmp_path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert job.total_rows == rows
    assert repository.count_rows(job.id) == {RowStatus.PENDING: rows}
    return peak


def test_accept_memory_flat_in_rows(repository: JobRepository, tmp_path: Path) -> None:
    """Ten times the rows raise the peak of memory by less than the larger file's size."""
    small = accepted_peak(SMALL_FILE_ROWS, repository, tmp_path)
    large = accepted_peak(LARGE_FILE_ROWS, repository, tmp_path)

    assert large - small < MAX_PEAK_GROWTH_BYTES


@pytest.mark.parametrize(
    ("data", "overrides", "error", "message"),
    [
        pytest.param(
            bench_rows(3000),
            {"directory_batch_cap": 2500},
            UploadRejected,
            "has 3000 valid rows, but the Directory accepts at most 2500",
            id="over-batch-cap",
        ),
        pytest.param(
            bench_rows(3000, malformed_row=2500),
            {},
            CsvFileError,
            "row 2500: Malformed CSV",
            id="malformed-row",
        ),
        pytest.param(
            bench_rows(3000),
            {"max_rows": 2500},
            CsvFileError,
            "row 2501: Too many rows",
            id="too-many-rows",
        ),
        pytest.param(
            bench_rows(3000, malformed_row=2500),
            {"directory_batch_cap": 10},
            CsvFileError,
            "row 2500: Malformed CSV",
            id="file-error-before-batch-cap",
        ),
    ],
)
def test_rejected_stream_stores_nothing(
    repository: JobRepository,
    tmp_path: Path,
    data: bytes,
    overrides: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    """A problem found after some row batches were inserted rolls back the whole job."""
    with pytest.raises(error, match=message):
        accept(data, repository, tmp_path, **overrides)

    assert count_records(repository, JobRecord) == 0
    assert count_records(repository, RowRecord) == 0
    assert count_records(repository, ChunkRecord) == 0


def test_chunks_planned_while_streaming(
    repository: JobRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks hold `chunk_size` valid rows each, and an invalid row joins the chunk above it."""
    monkeypatch.setattr(repository_module, "_INSERT_BATCH", 3)
    names = ["", "B", "C", "", "E", "F", "G", ""]
    data = "name,address\n" + "".join(f"{name},{row} St\n" for row, name in enumerate(names, 1))

    job = accept(data.encode(), repository, tmp_path, chunk_size=2)
    with repository.engine.connect() as connection:
        chunks = connection.execute(
            select(ChunkRecord.chunk, ChunkRecord.first_row, ChunkRecord.last_row)
            .where(ChunkRecord.job_id == job.id)
            .order_by(ChunkRecord.chunk)
        ).all()
        row_chunks = connection.execute(
            select(RowRecord.row, RowRecord.chunk)
            .where(RowRecord.job_id == job.id)
            .order_by(RowRecord.row)
        ).all()

    assert [tuple(chunk) for chunk in chunks] == [(0, 2, 3), (1, 5, 6), (2, 7, 7)]
    assert [chunk for _, chunk in row_chunks] == [0, 0, 0, 0, 1, 1, 2, 2]
    assert job.total_rows == 8
    assert any("no phone column" in warning for warning in job.file_report["warnings"])
