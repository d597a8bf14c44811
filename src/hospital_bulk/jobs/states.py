"""Status values of jobs, chunks and rows, as stored and as the API shows them."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    #: Accepted and stored; no worker has started it yet.
    PENDING = "pending"
    #: A worker is creating its rows or activating its batch.
    PROCESSING = "processing"
    #: Every row has an outcome (created, activated or failed).
    COMPLETED = "completed"
    #: The job could not run to the end, and `error` gives the reason.
    FAILED = "failed"


class RowStatus(StrEnum):
    #: Not created yet (or its create's outcome is still being settled).
    PENDING = "pending"
    #: Created in the Directory, inactive.
    CREATED = "created"
    #: Created and its batch activated.
    CREATED_AND_ACTIVATED = "created_and_activated"
    #: Not created, because it is invalid or the Directory rejected it (see `error_message`).
    FAILED = "failed"


class ChunkStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"


FINAL_ROW_STATUSES = frozenset(
    {RowStatus.CREATED, RowStatus.CREATED_AND_ACTIVATED, RowStatus.FAILED}
)
