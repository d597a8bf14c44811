"""Row counts per chunk, so that a progress poll reads a few records instead of every row.

Every write that changes a row's status calls one of these helpers in its own
transaction, so the counts commit with the rows. Counts are recomputed from the rows of
the chunks a write touched, never added up from deltas, so a write that raced another
leaves counts that the next write to the chunk corrects. The job's final step recounts
the whole job before it records the end.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, bindparam, case, func, insert, literal, select, update
from sqlalchemy.orm import Session

from hospital_bulk.jobs.states import RowStatus
from hospital_bulk.store.tables import RowCountRecord, RowRecord

_counts = RowCountRecord.__table__
_rows = RowRecord.__table__

#: The count column of each row status.
_COLUMNS = {
    RowStatus.PENDING: _counts.c.pending,
    RowStatus.CREATED: _counts.c.created,
    RowStatus.CREATED_AND_ACTIVATED: _counts.c.created_and_activated,
    RowStatus.FAILED: _counts.c.failed,
}
_COUNT_NAMES = [column.name for column in _COLUMNS.values()]


def start_counts(session: Session | Connection, job_id: str) -> None:
    """Count a job's rows per chunk for the first time, after they are inserted."""
    totals = [func.sum(case((_rows.c.status == status.value, 1), else_=0)) for status in _COLUMNS]
    session.execute(
        insert(_counts).from_select(
            ["job_id", "chunk", *_COUNT_NAMES],
            select(literal(job_id), _rows.c.chunk, *totals)
            .where(_rows.c.job_id == job_id)
            .group_by(_rows.c.chunk),
        )
    )


def add_chunks(session: Session | Connection, job_id: str, chunks: Collection[int]) -> None:
    """Create empty counts for new chunks; `recount` fills them."""
    if chunks:
        session.execute(
            insert(_counts),
            [{"job_id": job_id, "chunk": chunk, **dict.fromkeys(_COUNT_NAMES, 0)} for chunk in chunks],
        )


def recount(
    session: Session | Connection, job_id: str, *, chunks: Collection[int] | None = None
) -> None:
    """Recount the chunks given, or (without `chunks`) the whole job."""
    statement = update(_counts).where(_counts.c.job_id == job_id)
    if chunks is not None:
        statement = statement.where(_counts.c.chunk.in_(list(chunks)))
    session.execute(
        statement.values({column: _count_of(status) for status, column in _COLUMNS.items()})
    )


def recount_rows(session: Session | Connection, job_id: str, rows: Collection[int]) -> None:
    """Recount the chunks that contain `rows`, the rows an outcome write changed."""
    session.execute(_RECOUNT_ROWS, {"b_job_id": job_id, "b_rows": list(rows)})


def mark_activated(session: Session | Connection, job_id: str) -> None:
    """Move the created count to activated, as activation does with the rows themselves.

    Repeating it changes nothing, so two activations at once leave the counts right.
    """
    session.execute(
        update(_counts)
        .where(_counts.c.job_id == job_id)
        .values(
            created_and_activated=_counts.c.created_and_activated + _counts.c.created,
            created=0,
        )
    )


def read_counts(session: Session | Connection, job_id: str) -> dict[RowStatus, int]:
    """Return how many rows of the job are in each status (statuses with none left out)."""
    totals = session.execute(
        select(*(func.coalesce(func.sum(column), 0) for column in _COLUMNS.values())).where(
            _counts.c.job_id == job_id
        )
    ).one()
    return {status: int(total) for status, total in zip(_COLUMNS, totals, strict=True) if total}


def _count_of(status: RowStatus) -> object:
    return (
        select(func.count())
        .select_from(_rows)
        .where(
            _rows.c.job_id == _counts.c.job_id,
            _rows.c.chunk == _counts.c.chunk,
            _rows.c.status == status.value,
        )
        .scalar_subquery()
    )


# Built once, like the outcome write in the repository, because it runs with every one.
_RECOUNT_ROWS = (
    update(_counts)
    .where(
        _counts.c.job_id == bindparam("b_job_id"),
        _counts.c.chunk.in_(
            select(_rows.c.chunk).where(
                _rows.c.job_id == bindparam("b_job_id"),
                _rows.c.row.in_(bindparam("b_rows", expanding=True)),
            )
        ),
    )
    .values({column: _count_of(status) for status, column in _COLUMNS.items()})
)
