"""New rows read back exactly as they were stored, whatever their text holds."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson

from hospital_bulk.jobs.models import NewJob, NewRow, RowOutcome
from hospital_bulk.jobs.states import RowStatus
from hospital_bulk.store.engine import create_store_engine
from hospital_bulk.store.migrate import upgrade_database
from hospital_bulk.store.repository import JobRepository

#: Text that a bulk load must escape: tabs, newlines, backslashes, quotes and non-ASCII letters.
AWKWARD = 'St. Mary\'s "North"\tWing\\B\nFloor 2, Zürich \u2013 東京 \\N'

ROWS = [
    NewRow(
        row=1, name="General", address="1 Main St", phone="555-0100", source={"name": "General"}
    ),
    NewRow(row=2, name=AWKWARD, address=AWKWARD, phone=None, source={"name": AWKWARD, "note": ""}),
    NewRow(
        row=3,
        name="",
        address="2 Side St",
        phone=None,
        error_message='Row 3, column "name": the name is empty.',
        warnings=("first warning", AWKWARD),
        source=None,
    ),
    NewRow(row=5, name="\\N", address="NULL", phone="\\N", warnings=(), source={}),
]


def check_rows_round_trip(repository: JobRepository) -> None:
    job = NewJob(
        id=str(uuid.uuid4()), batch_id=str(uuid.uuid4()), filename="f.csv", fingerprint="x"
    )

    stored, replayed = repository.create_job(job, ROWS, chunk_size=2)
    rows = repository.list_rows(job.id)

    assert not replayed
    assert stored.total_rows == len(ROWS)
    assert [row.row for row in rows] == [1, 2, 3, 5]
    for new, read in zip(ROWS, rows, strict=True):
        assert (read.name, read.address, read.phone) == (new.name, new.address, new.phone)
        assert read.error_message == new.error_message
        assert read.warnings == (list(new.warnings) or None)
        assert read.source == new.source
    assert [row.status for row in rows] == [
        RowStatus.PENDING,
        RowStatus.PENDING,
        RowStatus.FAILED,
        RowStatus.PENDING,
    ]
    assert repository.row_progress(job.id) == {RowStatus.PENDING: 3, RowStatus.FAILED: 1}

    page = read_page(repository, job.id, offset=1, limit=2)
    assert [item["row"] for item in page] == [2, 3]
    assert page[0]["name"] == AWKWARD

    failed = read_page(repository, job.id, statuses=[RowStatus.FAILED])
    assert failed == [
        {
            "row": 3,
            "hospital_id": None,
            "name": "",
            "status": "failed",
            "error_message": ROWS[2].error_message,
            "warnings": ["first warning", AWKWARD],
        }
    ]

    assert list(repository.row_outcomes_json(job.id, offset=10)) == []


def read_page(repository: JobRepository, job_id: str, **options: Any) -> list[dict[str, Any]]:
    """Read a page of the status endpoint's rows and parse it as one JSON array."""
    return orjson.loads(b"[" + b",".join(repository.row_outcomes_json(job_id, **options)) + b"]")


def check_page_order(repository: JobRepository) -> None:
    job = NewJob(
        id=str(uuid.uuid4()), batch_id=str(uuid.uuid4()), filename="f.csv", fingerprint="x"
    )
    rows = [NewRow(row=row, name=f"H{row}", address="A", phone=None) for row in range(1, 3001)]
    repository.create_job(job, rows, chunk_size=7)
    repository.record_outcomes(
        job.id, [RowOutcome(row, RowStatus.CREATED, hospital_id=row) for row in range(3000, 0, -3)]
    )

    batches = list(repository.row_outcomes_json(job.id, offset=5, limit=2000, batch_rows=300))
    page = orjson.loads(b"[" + b",".join(batches) + b"]")

    assert len(batches) == 7
    assert [item["row"] for item in page] == list(range(6, 2006))


def test_sqlite_rows_round_trip(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade_database(url)

    check_rows_round_trip(JobRepository(create_store_engine(url)))


def test_sqlite_page_in_row_order(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade_database(url)

    check_page_order(JobRepository(create_store_engine(url)))
