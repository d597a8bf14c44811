"""Tables of the job store.

A job is one upload being processed; its rows are the CSV's data rows; its chunks are the
units of work a worker claims. The store, not the broker, is the source of truth: a chunk
is claimed with a lease, and a chunk whose lease ran out is claimed again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false


class Base(DeclarativeBase):
    pass


class JobRecord(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("owner", "idempotency_key", name="uq_jobs_owner_idempotency_key"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    #: Scope of the job: a digest of the API key that created it, or "" without keys.
    owner: Mapped[str] = mapped_column(String(64), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    #: SHA-256 of the file bytes and the upload options, to tell a replay from a reuse.
    fingerprint: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), index=True)
    batch_id: Mapped[str] = mapped_column(String(36), index=True)
    total_rows: Mapped[int] = mapped_column(Integer)
    batch_activated: Mapped[bool] = mapped_column(Boolean, default=False)
    activation_error: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    #: Encoding, delimiter, column mapping and warnings found while reading the file.
    file_report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Lease on the job's final step (activation), held by one worker at a time.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChunkRecord(Base):
    __tablename__ = "job_chunks"
    __table_args__ = (Index("ix_job_chunks_status_lease", "status", "lease_expires_at"),)

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_row: Mapped[int] = mapped_column(Integer)
    last_row: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: How many times a worker claimed this chunk; past the limit its rows end failed.
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    #: Whether the rows were sent before (a resubmission), so the batch is listed first.
    reconcile_first: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class RowRecord(Base):
    __tablename__ = "job_rows"
    __table_args__ = (
        Index("ix_job_rows_job_status", "job_id", "status"),
        Index("ix_job_rows_job_chunk_status", "job_id", "chunk", "status"),
    )

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    #: 1-based number of the data record after the header line.
    row: Mapped[int] = mapped_column(Integer, primary_key=True)
    chunk: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24))
    hospital_id: Mapped[int | None] = mapped_column(BigInteger)
    error_message: Mapped[str | None] = mapped_column(Text)
    # none_as_null stores SQL NULL, which reads back without a JSON decode per row.
    warnings: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    #: The row's original cells by header, echoed by the results export.
    source: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))


class RowCountRecord(Base):
    """How many rows of one chunk are in each status, kept beside the rows.

    Progress polls sum these few records instead of counting every row of the job. Rows
    that failed validation count under the chunk they belong to (chunk 0 when there is
    no chunk to create).
    """

    __tablename__ = "job_row_counts"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    created_and_activated: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyKeyRecord(Base):
    """An Idempotency-Key in use: reserved while its upload is accepted, then linked to its job."""

    __tablename__ = "idempotency_keys"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    #: None while the first request with the key is still being accepted.
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
