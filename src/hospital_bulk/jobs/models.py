"""Values the job pipeline passes around, apart from their stored and public shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hospital_bulk.jobs.states import JobStatus, RowStatus

#: The fields the Directory stores of a row, used to recognise a hospital in a batch listing.
HospitalKey = tuple[str, str, str | None]


@dataclass(frozen=True, slots=True)
class NewJob:
    id: str
    batch_id: str
    filename: str
    fingerprint: str
    owner: str = ""
    idempotency_key: str | None = None
    file_report: dict[str, Any] = field(default_factory=dict)


# Not frozen, for the same reason as `HospitalRow`: an upload builds one per record.
@dataclass(slots=True)
class NewRow:
    row: int
    name: str
    address: str
    phone: str | None
    error_message: str | None = None
    warnings: tuple[str, ...] = ()
    source: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    owner: str
    status: JobStatus
    batch_id: str
    filename: str
    total_rows: int
    batch_activated: bool
    activation_error: str | None
    error: str | None
    file_report: dict[str, Any]
    idempotency_key: str | None
    fingerprint: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class RowTodo:
    """A row still to be created."""

    row: int
    name: str
    address: str
    phone: str | None

    @property
    def key(self) -> HospitalKey:
        return (self.name, self.address, self.phone)


@dataclass(frozen=True, slots=True)
class RowOutcome:
    row: int
    status: RowStatus
    hospital_id: int | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class RowResult:
    """One row as the status endpoint and the export show it."""

    row: int
    name: str
    address: str
    phone: str | None
    status: RowStatus
    hospital_id: int | None
    error_message: str | None
    warnings: list[str] | None
    source: dict[str, str] | None


@dataclass(frozen=True, slots=True)
class ChunkClaim:
    job_id: str
    chunk: int
    worker: str
    deliveries: int
    reconcile_first: bool = False

    @property
    def needs_reconcile(self) -> bool:
        """Whether some rows may be stored already: a claim after a lost worker, or a resubmission."""
        return self.deliveries > 1 or self.reconcile_first


@dataclass(frozen=True, slots=True)
class ChunkRef:
    job_id: str
    chunk: int
