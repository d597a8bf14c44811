"""Row counts kept per chunk agree with the rows after every write that changes a status."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hospital_bulk.jobs.models import NewJob, NewRow, RowOutcome
from hospital_bulk.jobs.states import RowStatus
from hospital_bulk.store.engine import create_store_engine
from hospital_bulk.store.migrate import upgrade_database
from hospital_bulk.store.repository import JobRepository


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> JobRepository:
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'jobs.sqlite3'}"
    upgrade_database(url)
    return JobRepository(create_store_engine(url))


def _new_job(repository: JobRepository, rows: int, *, invalid: frozenset[int] = frozenset()) -> str:
    job = NewJob(
        id=str(uuid.uuid4()), batch_id=str(uuid.uuid4()), filename="f.csv", fingerprint="x"
    )
    repository.create_job(
        job,
        [
            NewRow(
                row=row,
                name=f"H{row}",
                address="A",
                phone=None,
                error_message="The name is empty." if row in invalid else None,
            )
            for row in range(1, rows + 1)
        ],
        chunk_size=4,
    )
    return job.id


def _assert_counts_agree(repository: JobRepository, job_id: str) -> dict[RowStatus, int]:
    kept = repository.row_progress(job_id)
    assert kept == repository.count_rows(job_id)
    return kept


def test_counts_follow_a_job_from_upload_to_activation(repository: JobRepository) -> None:
    job_id = _new_job(repository, 10, invalid=frozenset({1, 6}))
    assert _assert_counts_agree(repository, job_id) == {RowStatus.PENDING: 8, RowStatus.FAILED: 2}

    repository.record_outcomes(
        job_id, [RowOutcome(row, RowStatus.CREATED, hospital_id=row) for row in (2, 3, 7)]
    )
    repository.record_outcomes(job_id, [RowOutcome(4, RowStatus.FAILED, error_message="Rejected.")])
    assert _assert_counts_agree(repository, job_id) == {
        RowStatus.PENDING: 4,
        RowStatus.CREATED: 3,
        RowStatus.FAILED: 3,
    }

    chunk = next(c for c in repository.open_chunks(job_id))
    repository.fail_chunk(job_id, chunk, message="The worker stopped too often.")
    _assert_counts_agree(repository, job_id)

    repository.finish_job(job_id, batch_activated=True)
    counts = _assert_counts_agree(repository, job_id)
    assert RowStatus.CREATED not in counts
    # Activating twice, as two PATCH requests at once may, moves nothing twice.
    repository.record_activation(job_id, activated=True, error=None)
    assert _assert_counts_agree(repository, job_id) == counts


def test_counts_follow_resubmitted_rows_into_new_chunks(repository: JobRepository) -> None:
    job_id = _new_job(repository, 9, invalid=frozenset({5}))
    repository.record_outcomes(
        job_id, [RowOutcome(row, RowStatus.FAILED, error_message="Rejected.") for row in (1, 2)]
    )
    repository.finish_job(job_id, batch_activated=False)

    fixed = [NewRow(row=row, name=f"Fixed {row}", address="A", phone=None) for row in (1, 2, 5)]
    repository.reopen_rows(job_id, fixed, chunk_size=4)

    assert _assert_counts_agree(repository, job_id)[RowStatus.PENDING] == 3 + 6


def test_counts_all_rows_invalid(repository: JobRepository) -> None:
    job_id = _new_job(repository, 3, invalid=frozenset({1, 2, 3}))

    assert _assert_counts_agree(repository, job_id) == {RowStatus.FAILED: 3}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.integers(min_value=1, max_value=30),
    writes=st.lists(
        st.lists(
            st.tuples(
                st.integers(min_value=1, max_value=30),
                st.sampled_from([RowStatus.CREATED, RowStatus.FAILED]),
            ),
            max_size=8,
        ),
        max_size=6,
    ),
)
def test_counts_agree_after_any_outcome_writes(
    repository: JobRepository, rows: int, writes: list[list[tuple[int, RowStatus]]]
) -> None:
    """Outcomes may arrive in any order, for rows of any chunk, and overwrite earlier ones."""
    job_id = _new_job(repository, rows)
    for write in writes:
        outcomes = [
            RowOutcome(row, status, hospital_id=row if status is RowStatus.CREATED else None)
            for row, status in write
            if row <= rows
        ]
        repository.record_outcomes(job_id, outcomes)
        _assert_counts_agree(repository, job_id)
