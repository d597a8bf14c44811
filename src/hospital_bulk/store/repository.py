"""The job repository: every read and write of jobs, chunks and rows."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hospital_bulk.errors import IdempotencyKeyReused, JobNotFound
from hospital_bulk.jobs.models import (
    ChunkClaim,
    ChunkRef,
    Job,
    NewJob,
    NewRow,
    RowOutcome,
    RowResult,
    RowTodo,
)
from hospital_bulk.jobs.states import ChunkStatus, JobStatus, RowStatus
from hospital_bulk.store import row_counts
from hospital_bulk.store.engine import dump_json
from hospital_bulk.store.idempotency import IdempotencyKeys
from hospital_bulk.store.tables import ChunkRecord, JobRecord, RowRecord

_INSERT_BATCH = 1000
_PENDING = RowStatus.PENDING.value
_FAILED = RowStatus.FAILED.value

_rows_table = RowRecord.__table__
# Built once: building this statement and the recount on every call doubled the CPU time
# of a write of 8 outcomes to PostgreSQL (2.1 ms against 1.1 ms, 1,000 writes in a loop).
_RECORD_OUTCOME = (
    update(_rows_table)
    .where(_rows_table.c.job_id == bindparam("b_job_id"), _rows_table.c.row == bindparam("b_row"))
    .values(
        status=bindparam("b_status"),
        hospital_id=bindparam("b_hospital_id"),
        error_message=bindparam("b_error_message"),
    )
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every stored time is UTC.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class JobRepository:
    """Store and read jobs, their chunks and their rows.

    Args:
        engine: the job store's engine (SQLite or PostgreSQL).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.idempotency = IdempotencyKeys(self._sessions)

    # Jobs ---------------------------------------------------------------------------------

    def create_job(
        self, job: NewJob, rows: Iterable[NewRow], *, chunk_size: int
    ) -> tuple[Job, bool]:
        """Store a job with its rows and chunks in one transaction.

        `rows` may be a generator, in file order (ascending row numbers): it is read once,
        one insert batch at a time. An exception that it raises rolls the transaction
        back, so the job and the rows read so far are not stored.

        Returns:
            The job and whether it already existed under the same Idempotency-Key.

        Raises:
            IdempotencyKeyReused: the key was used before with a different fingerprint.
        """
        if job.idempotency_key is not None and (existing := self._replay(job)) is not None:
            return existing, True
        try:
            with self._sessions.begin() as session:
                self._insert_job(session, job, rows, chunk_size=chunk_size)
                if job.idempotency_key is not None:
                    self.idempotency.link(
                        session, owner=job.owner, key=job.idempotency_key, job_id=job.id
                    )
        except IntegrityError:
            # Another request with the same key committed first: replay it.
            if job.idempotency_key is None or (existing := self._replay(job)) is None:
                raise
            return existing, True
        return self.get_job(job.id), False

    def _replay(self, job: NewJob) -> Job | None:
        with self._sessions() as session:
            record = session.scalars(
                select(JobRecord).where(
                    JobRecord.owner == job.owner, JobRecord.idempotency_key == job.idempotency_key
                )
            ).first()
            if record is None:
                return None
            if record.fingerprint != job.fingerprint:
                raise IdempotencyKeyReused(
                    f"Idempotency-Key {job.idempotency_key!r} was first used for job {record.id} "
                    f"with another file or other options.",
                    fix="Send a new Idempotency-Key for a new upload, or resend the same file "
                    "to get the first job back.",
                )
            return _job_from_record(record)

    def _insert_job(
        self, session: Session, job: NewJob, rows: Iterable[NewRow], *, chunk_size: int
    ) -> None:
        record = JobRecord(
            id=job.id,
            owner=job.owner,
            idempotency_key=job.idempotency_key,
            fingerprint=job.fingerprint,
            filename=job.filename,
            status=JobStatus.PENDING,
            batch_id=job.batch_id,
            total_rows=0,
            batch_activated=False,
            file_report=job.file_report,
            created_at=utcnow(),
        )
        session.add(record)
        session.flush()

        connection = session.connection()
        planner = _ChunkPlanner(chunk_size)
        values = (
            (
                job.id,
                row.row,
                planner.assign(row),
                row.name,
                row.address,
                row.phone,
                _FAILED if row.error_message else _PENDING,
                row.error_message,
                _json_text(list(row.warnings) or None),
                _json_text(row.source),
            )
            for row in rows
        )
        if connection.dialect.name == "postgresql":
            total_rows = _copy_rows(connection, values)
        else:
            total_rows = _insert_rows(connection, values)

        if planner.ranges:
            session.execute(
                insert(ChunkRecord),
                [
                    {
                        "job_id": job.id,
                        "chunk": index,
                        "first_row": first,
                        "last_row": last,
                        "status": ChunkStatus.PENDING,
                        "deliveries": 0,
                    }
                    for index, (first, last) in enumerate(planner.ranges)
                ],
            )
        record.total_rows = total_rows
        session.flush()
        row_counts.start_counts(session, job.id)

    def reopen_rows(self, job_id: str, rows: Sequence[NewRow], *, chunk_size: int) -> None:
        """Give failed rows of a finished job new values and queue them again in its batch.

        The rows go into new chunks that reconcile against the batch listing first, and
        the job goes back to `pending` so that it finishes (and auto-activates) again.
        """
        with self._sessions.begin() as session:
            first_chunk = 1 + (
                session.scalar(
                    select(func.max(ChunkRecord.chunk)).where(ChunkRecord.job_id == job_id)
                )
                or 0
            )
            ranges = _plan_chunks(rows, chunk_size)
            if ranges:
                session.execute(
                    insert(ChunkRecord),
                    [
                        {
                            "job_id": job_id,
                            "chunk": first_chunk + index,
                            "first_row": first,
                            "last_row": last,
                            "status": ChunkStatus.PENDING,
                            "deliveries": 0,
                            "reconcile_first": True,
                        }
                        for index, (first, last) in enumerate(ranges)
                    ],
                )
            row_counts.add_chunks(
                session, job_id, [first_chunk + index for index in range(len(ranges))]
            )
            chunk_of = _chunk_lookup(ranges)
            for row in rows:
                session.execute(
                    update(RowRecord)
                    .where(
                        RowRecord.job_id == job_id,
                        RowRecord.row == row.row,
                        RowRecord.status == RowStatus.FAILED,
                    )
                    .values(
                        name=row.name,
                        address=row.address,
                        phone=row.phone,
                        status=RowStatus.FAILED if row.error_message else RowStatus.PENDING,
                        error_message=row.error_message,
                        hospital_id=None,
                        chunk=first_chunk + chunk_of(row.row),
                    )
                )
            row_counts.recount(session, job_id)
            session.execute(
                update(JobRecord)
                .where(JobRecord.id == job_id)
                .values(
                    status=JobStatus.PENDING,
                    finished_at=None,
                    lease_owner=None,
                    lease_expires_at=None,
                    batch_activated=False,
                    activation_error=None,
                    error=None,
                )
            )

    def get_job(self, job_id: str, *, owner: str | None = None) -> Job:
        """Return the job, or raise `JobNotFound` (also when `owner` is given and differs)."""
        with self._sessions() as session:
            record = session.get(JobRecord, job_id)
        if record is None or (owner is not None and record.owner != owner):
            raise JobNotFound(
                f"No job {job_id!r} was found.",
                fix="Check the job_id returned by the upload, and the API key you use.",
            )
        return _job_from_record(record)

    def find_job_by_batch(self, batch_id: str, *, owner: str | None = None) -> Job:
        with self._sessions() as session:
            query = select(JobRecord).where(JobRecord.batch_id == batch_id)
            if owner is not None:
                query = query.where(JobRecord.owner == owner)
            record = session.scalars(query.order_by(JobRecord.created_at)).first()
        if record is None:
            raise JobNotFound(
                f"No job created batch {batch_id!r}.",
                fix="Use the batch_id from a job's status, and the API key that created it.",
            )
        return _job_from_record(record)

    def list_jobs(self, *, owner: str | None = None, limit: int = 50) -> list[Job]:
        with self._sessions() as session:
            query = select(JobRecord).order_by(JobRecord.created_at.desc()).limit(limit)
            if owner is not None:
                query = query.where(JobRecord.owner == owner)
            return [_job_from_record(record) for record in session.scalars(query)]

    def count_jobs(self) -> dict[JobStatus, int]:
        with self._sessions() as session:
            counts = session.execute(
                select(JobRecord.status, func.count()).group_by(JobRecord.status)
            ).all()
        return {JobStatus(status): count for status, count in counts}

    def mark_started(self, job_id: str) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(JobRecord)
                .where(JobRecord.id == job_id, JobRecord.status == JobStatus.PENDING)
                .values(status=JobStatus.PROCESSING, started_at=utcnow())
            )

    def finish_job(
        self,
        job_id: str,
        *,
        batch_activated: bool,
        activation_error: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record the job's end, and mark its created rows activated when the batch is live."""
        with self._sessions.begin() as session:
            # A write that raced another may have left a chunk's counts behind its rows.
            row_counts.recount(session, job_id)
            if batch_activated:
                _activate_rows(session, job_id)
            session.execute(
                update(JobRecord)
                .where(JobRecord.id == job_id)
                .values(
                    status=JobStatus.FAILED if error else JobStatus.COMPLETED,
                    batch_activated=batch_activated,
                    activation_error=activation_error,
                    error=error,
                    finished_at=func.coalesce(JobRecord.finished_at, utcnow()),
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )

    def record_activation(self, job_id: str, *, activated: bool, error: str | None) -> None:
        """Record the outcome of a manual activation."""
        with self._sessions.begin() as session:
            if activated:
                _activate_rows(session, job_id)
            session.execute(
                update(JobRecord)
                .where(JobRecord.id == job_id)
                .values(batch_activated=activated, activation_error=error)
            )

    def forget_idempotency_keys(self, *, older_than: datetime) -> int:
        """Release keys used before `older_than`, so that they can be used again."""
        return self.idempotency.forget(older_than=older_than)

    # Rows ---------------------------------------------------------------------------------

    def row_progress(self, job_id: str) -> dict[RowStatus, int]:
        """Return how many rows are in each status, from the counts kept per chunk.

        This reads one record per chunk, so progress polls cost the same at any job size.
        Decisions such as activation use `count_rows`, which counts the rows themselves.
        """
        with self.engine.connect() as connection:
            return row_counts.read_counts(connection, job_id)

    def count_rows(self, job_id: str) -> dict[RowStatus, int]:
        with self._sessions() as session:
            counts = session.execute(
                select(RowRecord.status, func.count())
                .where(RowRecord.job_id == job_id)
                .group_by(RowRecord.status)
            ).all()
        return {RowStatus(status): count for status, count in counts}

    def list_rows(
        self,
        job_id: str,
        *,
        offset: int = 0,
        limit: int | None = None,
        statuses: Iterable[RowStatus] | None = None,
    ) -> list[RowResult]:
        with self._sessions() as session:
            query = select(RowRecord).where(RowRecord.job_id == job_id)
            if statuses is not None:
                query = query.where(RowRecord.status.in_(list(statuses)))
            query = query.order_by(RowRecord.row).offset(offset).limit(limit)
            return [_row_from_record(record) for record in session.scalars(query)]

    def row_outcomes_json(
        self,
        job_id: str,
        *,
        offset: int = 0,
        limit: int | None = None,
        statuses: Iterable[RowStatus] | None = None,
        batch_rows: int = 500,
    ) -> Iterator[bytes]:
        """Yield a page of rows as the status endpoint shows them, `batch_rows` rows at a time.

        Each batch is the JSON objects of its rows joined by commas, so the batches joined
        by commas and put in brackets make the page's JSON array. The page is one query,
        read through a cursor, so it costs one scan of the job's rows however it is split.
        The database builds each row's JSON, because the status endpoint is polled while
        a job runs: built in Python, a page of 6,000 rows took about 40 ms of CPU in the
        process that also sends the creates.

        The connection stays open until the iterator is exhausted or closed.
        """
        rows = RowRecord.__table__
        with self.engine.connect() as connection:
            query = select(_row_json(connection.dialect.name, rows)).where(rows.c.job_id == job_id)
            if statuses is not None:
                query = query.where(rows.c.status.in_([status.value for status in statuses]))
            query = query.order_by(rows.c.row).offset(offset).limit(limit)
            result = connection.execution_options(yield_per=batch_rows).execute(query)
            for batch in result.scalars().partitions():
                yield ",".join(batch).encode()

    def pending_rows(self, job_id: str, chunk: int) -> list[RowTodo]:
        with self._sessions() as session:
            records = session.execute(
                select(RowRecord.row, RowRecord.name, RowRecord.address, RowRecord.phone)
                .where(
                    RowRecord.job_id == job_id,
                    RowRecord.chunk == chunk,
                    RowRecord.status == RowStatus.PENDING,
                )
                .order_by(RowRecord.row)
            ).all()
        return [RowTodo(row=r.row, name=r.name, address=r.address, phone=r.phone) for r in records]

    def record_outcomes(self, job_id: str, outcomes: Sequence[RowOutcome]) -> None:
        """Write many rows' outcomes in one transaction."""
        if not outcomes:
            return
        values = [
            {
                "b_job_id": job_id,
                "b_row": outcome.row,
                "b_status": outcome.status.value,
                "b_hospital_id": outcome.hospital_id,
                "b_error_message": outcome.error_message,
            }
            for outcome in outcomes
        ]
        with self.engine.begin() as connection:
            connection.execute(_RECORD_OUTCOME, values)
            row_counts.recount_rows(connection, job_id, [outcome.row for outcome in outcomes])

    def recorded_hospital_ids(self, job_id: str) -> set[int]:
        with self._sessions() as session:
            ids = session.scalars(
                select(RowRecord.hospital_id).where(
                    RowRecord.job_id == job_id, RowRecord.hospital_id.is_not(None)
                )
            ).all()
        return {int(hospital_id) for hospital_id in ids}

    # Chunks and leases -------------------------------------------------------------------

    def claim_chunk(
        self, job_id: str, chunk: int, *, worker: str, lease_seconds: float
    ) -> ChunkClaim | None:
        """Take the chunk for `worker` when it is pending or its lease ran out; else None."""
        now = utcnow()
        with self._sessions.begin() as session:
            claimable = or_(
                ChunkRecord.status == ChunkStatus.PENDING,
                and_(
                    ChunkRecord.status == ChunkStatus.PROCESSING, ChunkRecord.lease_expires_at < now
                ),
            )
            result = session.execute(
                update(ChunkRecord)
                .where(ChunkRecord.job_id == job_id, ChunkRecord.chunk == chunk, claimable)
                .values(
                    status=ChunkStatus.PROCESSING,
                    lease_owner=worker,
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                    deliveries=ChunkRecord.deliveries + 1,
                )
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return None
            claimed = session.execute(
                select(ChunkRecord.deliveries, ChunkRecord.reconcile_first).where(
                    ChunkRecord.job_id == job_id, ChunkRecord.chunk == chunk
                )
            ).one()
        return ChunkClaim(
            job_id=job_id,
            chunk=chunk,
            worker=worker,
            deliveries=int(claimed.deliveries),
            reconcile_first=bool(claimed.reconcile_first),
        )

    def renew_chunk_lease(self, claim: ChunkClaim, *, lease_seconds: float) -> bool:
        """Extend the lease; False when another worker took the chunk meanwhile."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(ChunkRecord)
                .where(
                    ChunkRecord.job_id == claim.job_id,
                    ChunkRecord.chunk == claim.chunk,
                    ChunkRecord.lease_owner == claim.worker,
                    ChunkRecord.status == ChunkStatus.PROCESSING,
                )
                .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def complete_chunk(self, claim: ChunkClaim) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(ChunkRecord)
                .where(
                    ChunkRecord.job_id == claim.job_id,
                    ChunkRecord.chunk == claim.chunk,
                    ChunkRecord.lease_owner == claim.worker,
                )
                .values(status=ChunkStatus.DONE, lease_owner=None, lease_expires_at=None)
            )

    def fail_chunk(self, job_id: str, chunk: int, *, message: str) -> None:
        """End a chunk whose rows cannot be processed: its pending rows become failed."""
        with self._sessions.begin() as session:
            session.execute(
                update(RowRecord)
                .where(
                    RowRecord.job_id == job_id,
                    RowRecord.chunk == chunk,
                    RowRecord.status == RowStatus.PENDING,
                )
                .values(status=RowStatus.FAILED, error_message=message)
            )
            row_counts.recount(session, job_id, chunks=[chunk])
            session.execute(
                update(ChunkRecord)
                .where(ChunkRecord.job_id == job_id, ChunkRecord.chunk == chunk)
                .values(status=ChunkStatus.DONE, lease_owner=None, lease_expires_at=None)
            )

    def chunk_deliveries(self, job_id: str, chunk: int) -> int:
        with self._sessions() as session:
            return int(
                session.scalar(
                    select(ChunkRecord.deliveries).where(
                        ChunkRecord.job_id == job_id, ChunkRecord.chunk == chunk
                    )
                )
                or 0
            )

    def open_chunks(self, job_id: str) -> list[int]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(ChunkRecord.chunk)
                    .where(ChunkRecord.job_id == job_id, ChunkRecord.status != ChunkStatus.DONE)
                    .order_by(ChunkRecord.chunk)
                )
            )

    def claim_finalization(self, job_id: str, *, worker: str, lease_seconds: float) -> bool:
        """Claim the job's last step when every chunk is done and no other worker has claimed it."""
        now = utcnow()
        open_chunk = exists().where(
            ChunkRecord.job_id == JobRecord.id, ChunkRecord.status != ChunkStatus.DONE
        )
        with self._sessions.begin() as session:
            result = session.execute(
                update(JobRecord)
                .where(
                    JobRecord.id == job_id,
                    JobRecord.status.in_([JobStatus.PENDING, JobStatus.PROCESSING]),
                    ~open_chunk,
                    or_(JobRecord.lease_owner.is_(None), JobRecord.lease_expires_at < now),
                )
                .values(
                    status=JobStatus.PROCESSING,
                    started_at=func.coalesce(JobRecord.started_at, now),
                    lease_owner=worker,
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                )
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def stalled_work(self, *, pending_for: float = 0.0) -> tuple[list[ChunkRef], list[str]]:
        """Find work that no live worker holds.

        Returns:
            Chunks that are pending (for at least `pending_for` seconds since their job was
            created) or whose lease ran out, and unfinished jobs with every chunk done and no
            live lease on their last step.
        """
        now = utcnow()
        created_before = now - timedelta(seconds=pending_for)
        with self._sessions() as session:
            chunks = session.execute(
                select(ChunkRecord.job_id, ChunkRecord.chunk)
                .join(JobRecord, JobRecord.id == ChunkRecord.job_id)
                .where(
                    or_(
                        and_(
                            ChunkRecord.status == ChunkStatus.PENDING,
                            JobRecord.created_at <= created_before,
                        ),
                        and_(
                            ChunkRecord.status == ChunkStatus.PROCESSING,
                            ChunkRecord.lease_expires_at < now,
                        ),
                    )
                )
                .order_by(JobRecord.created_at, ChunkRecord.chunk)
            ).all()
            open_chunk = exists().where(
                ChunkRecord.job_id == JobRecord.id, ChunkRecord.status != ChunkStatus.DONE
            )
            jobs = session.scalars(
                select(JobRecord.id).where(
                    JobRecord.status.in_([JobStatus.PENDING, JobStatus.PROCESSING]),
                    JobRecord.created_at <= created_before,
                    ~open_chunk,
                    or_(JobRecord.lease_owner.is_(None), JobRecord.lease_expires_at < now),
                )
            ).all()
        return [ChunkRef(job_id=c.job_id, chunk=c.chunk) for c in chunks], list(jobs)


#: The columns of job_rows that a new row fills, in the order of the values written.
_NEW_ROW_COLUMNS = (
    "job_id",
    "row",
    "chunk",
    "name",
    "address",
    "phone",
    "status",
    "error_message",
    "warnings",
    "source",
)


def _insert_rows(connection: Connection, rows: Iterator[tuple[Any, ...]]) -> int:
    """Insert new rows with the driver's executemany, one batch at a time; return the count.

    SQLAlchemy's per-row parameter processing took about a third of the insert's time,
    so the rows go to the driver as tuples, with their JSON columns already encoded.
    """
    statement = (
        f"INSERT INTO job_rows ({', '.join(_NEW_ROW_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(_NEW_ROW_COLUMNS))})"
    )
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    count = 0
    try:
        # Only one batch is held, so memory stays flat in the number of rows.
        while batch := list(islice(rows, _INSERT_BATCH)):
            cursor.executemany(statement, batch)
            count += len(batch)
    finally:
        cursor.close()
    return count


def _copy_rows(connection: Connection, rows: Iterator[tuple[Any, ...]]) -> int:
    """Insert new rows with one PostgreSQL COPY; return the count.

    The server stores the rows while the caller reads the next ones from the file, so
    parsing and storing overlap for the whole file.
    """
    statement = f"COPY job_rows ({', '.join(_NEW_ROW_COLUMNS)}) FROM STDIN"
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None
    count = 0
    with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for values in rows:
            copy.write_row(values)
            count += 1
    return count


def _json_text(value: Any) -> str | None:
    # The JSON columns store SQL NULL for None, as `JSON(none_as_null=True)` does.
    return None if value is None else dump_json(value)


class _ChunkPlanner:
    """Assign rows, read in ascending row order, to chunks of `chunk_size` rows without errors.

    A chunk is the range of row numbers from its first to its last row without errors.
    A row with errors belongs to the chunk of the nearest row without errors before it,
    as `_chunk_lookup` finds it, or to chunk 0 when there is none.
    """

    __slots__ = ("_chunk_size", "_filled", "ranges")

    def __init__(self, chunk_size: int) -> None:
        self._chunk_size = chunk_size
        # The number of rows in the last chunk. It starts full, so the first row opens one.
        self._filled = chunk_size
        self.ranges: list[tuple[int, int]] = []

    def assign(self, row: NewRow) -> int:
        """Return the index of the chunk of `row`, opening or extending a chunk if needed."""
        if not row.error_message:
            if self._filled == self._chunk_size:
                self.ranges.append((row.row, row.row))
                self._filled = 0
            else:
                self.ranges[-1] = (self.ranges[-1][0], row.row)
            self._filled += 1
        return max(len(self.ranges) - 1, 0)


def _plan_chunks(rows: Iterable[NewRow], chunk_size: int) -> list[tuple[int, int]]:
    """Split the rows to create (not those already failed) into ranges of row numbers."""
    planner = _ChunkPlanner(chunk_size)
    for row in rows:
        planner.assign(row)
    return planner.ranges


def _chunk_lookup(chunks: list[tuple[int, int]]) -> Any:
    firsts = [first for first, _ in chunks]

    def chunk_of(row: int) -> int:
        # Rows that failed validation sit between chunks; they belong to the nearest one below.
        return max(bisect_right(firsts, row) - 1, 0)

    return chunk_of


def _row_json(dialect: str, rows: Any) -> Any:
    """Build the SQL expression of one row's JSON object, as text, as the status page shows it."""
    # SQLite stores JSON as text, so json() embeds the warnings as an array, not a string.
    warnings = rows.c.warnings if dialect == "postgresql" else func.json(rows.c.warnings)
    fields = (
        ("row", rows.c.row),
        ("hospital_id", rows.c.hospital_id),
        ("name", rows.c.name),
        ("status", rows.c.status),
        ("error_message", rows.c.error_message),
        ("warnings", warnings),
    )
    arguments = [part for field in fields for part in field]
    if dialect == "postgresql":
        # As text, so that the driver does not parse the JSON into Python objects.
        return cast(func.json_build_object(*arguments), Text)
    return func.json_object(*arguments)


def _activate_rows(session: Session, job_id: str) -> None:
    session.execute(
        update(RowRecord)
        .where(RowRecord.job_id == job_id, RowRecord.status == RowStatus.CREATED)
        .values(status=RowStatus.CREATED_AND_ACTIVATED)
    )
    row_counts.mark_activated(session, job_id)


def _job_from_record(record: JobRecord) -> Job:
    return Job(
        id=record.id,
        owner=record.owner,
        status=JobStatus(record.status),
        batch_id=record.batch_id,
        filename=record.filename,
        total_rows=record.total_rows,
        batch_activated=record.batch_activated,
        activation_error=record.activation_error,
        error=record.error,
        file_report=record.file_report or {},
        idempotency_key=record.idempotency_key,
        fingerprint=record.fingerprint,
        created_at=_aware(record.created_at) or utcnow(),
        started_at=_aware(record.started_at),
        finished_at=_aware(record.finished_at),
    )


def _row_from_record(record: RowRecord) -> RowResult:
    return RowResult(
        row=record.row,
        name=record.name,
        address=record.address,
        phone=record.phone,
        status=RowStatus(record.status),
        hospital_id=record.hospital_id,
        error_message=record.error_message,
        warnings=record.warnings,
        source=record.source,
    )
