"""What a Directory call ended with, as values rather than exceptions.

A create has three outcomes, because the upstream's create is not idempotent: it was
stored (`Created`), it was certainly not stored (`Rejected`), or its outcome is unknown (`Unknown`:
a timeout or a dropped connection after the request was sent). An unknown create is
settled by listing the batch, never by sending it again blindly.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Created:
    hospital_id: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """The Directory did not store the row, and `message` gives the reason for the row's error."""

    message: str
    status_code: int | None = None


@dataclass(frozen=True, slots=True)
class Unknown:
    reason: str


CreateOutcome = Created | Rejected | Unknown


@dataclass(frozen=True, slots=True)
class Activated:
    activated_count: int


@dataclass(frozen=True, slots=True)
class AlreadyActive:
    """The upstream returned 400 because some hospital of the batch is active already."""


@dataclass(frozen=True, slots=True)
class BatchNotFound:
    """The upstream has no hospital in the batch (unknown batch, or wiped by a restart)."""


@dataclass(frozen=True, slots=True)
class NotActivated:
    """Activation failed or its outcome is unknown, as `reason` explains."""

    reason: str
    outcome_unknown: bool = False


ActivationOutcome = Activated | AlreadyActive | BatchNotFound | NotActivated


@dataclass(frozen=True, slots=True)
class ListedHospital:
    id: int
    name: str
    address: str
    phone: str | None
    active: bool
