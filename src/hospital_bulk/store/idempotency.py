"""Idempotency-Key reservations, after the IETF draft "The Idempotency-Key HTTP Header Field".

The first request with a key reserves it before its file is read. A request with the same
key and fingerprint then replays the first one's job, or gets 409 while the first is still
being accepted; a request with another fingerprint gets 422. A reservation whose request
died before storing a job is taken over after `STALE_AFTER`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hospital_bulk.errors import IdempotencyKeyInProgress, IdempotencyKeyReused
from hospital_bulk.store.tables import IdempotencyKeyRecord, JobRecord

#: Age after which an unfinished reservation is taken to be left by a crashed request.
STALE_AFTER = timedelta(minutes=10)

_FIX_REUSED = "Send a new Idempotency-Key for a new upload, or resend the same file to get the first job back."


@dataclass(frozen=True, slots=True)
class Reservation:
    """A key reserved for this request (`job_id` None), or the job a replay returns."""

    job_id: str | None


class IdempotencyKeys:
    """Reserve, link and release Idempotency-Keys in the job store."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def reserve(self, *, owner: str, key: str, fingerprint: str, now: datetime) -> Reservation:
        """Reserve `key` for a new upload, or return the job an earlier upload made with it.

        Raises:
            IdempotencyKeyReused: the key came with another fingerprint.
            IdempotencyKeyInProgress: the first request with the key is still being accepted.
        """
        try:
            with self._sessions.begin() as session:
                session.add(
                    IdempotencyKeyRecord(
                        owner=owner, key=key, fingerprint=fingerprint, created_at=now
                    )
                )
            return Reservation(job_id=None)
        except IntegrityError:
            pass
        with self._sessions.begin() as session:
            record = session.get(IdempotencyKeyRecord, (owner, key))
            if record is None:  # released between the insert and this read
                raise IdempotencyKeyInProgress(_in_progress(key), fix="Send the request again.")
            if record.fingerprint != fingerprint:
                first = f" for job {record.job_id}" if record.job_id else ""
                raise IdempotencyKeyReused(
                    f"Idempotency-Key {key!r} was first used{first} with another file or other options.",
                    fix=_FIX_REUSED,
                )
            if record.job_id is not None:
                return Reservation(job_id=record.job_id)
            if _aware(record.created_at) > now - STALE_AFTER or not self._take_over(
                session, record, now
            ):
                raise IdempotencyKeyInProgress(
                    _in_progress(key), fix="Wait a moment, then send the same request again."
                )
            return Reservation(job_id=None)

    def link(self, session: Session, *, owner: str, key: str, job_id: str) -> None:
        """Tie the reservation to its stored job, inside the transaction that stores it."""
        session.execute(
            update(IdempotencyKeyRecord)
            .where(IdempotencyKeyRecord.owner == owner, IdempotencyKeyRecord.key == key)
            .values(job_id=job_id)
        )

    def release(self, *, owner: str, key: str) -> None:
        """Drop an unfinished reservation, so that the key can be used for a corrected file."""
        with self._sessions.begin() as session:
            session.execute(
                delete(IdempotencyKeyRecord).where(
                    IdempotencyKeyRecord.owner == owner,
                    IdempotencyKeyRecord.key == key,
                    IdempotencyKeyRecord.job_id.is_(None),
                )
            )

    def forget(self, *, older_than: datetime) -> int:
        """Drop keys older than `older_than`, so that they can be used again."""
        with self._sessions.begin() as session:
            result = session.execute(
                delete(IdempotencyKeyRecord).where(IdempotencyKeyRecord.created_at < older_than)
            )
            session.execute(
                update(JobRecord)
                .where(JobRecord.idempotency_key.is_not(None), JobRecord.created_at < older_than)
                .values(idempotency_key=None)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    @staticmethod
    def _take_over(session: Session, record: IdempotencyKeyRecord, now: datetime) -> bool:
        result = session.execute(
            update(IdempotencyKeyRecord)
            .where(
                IdempotencyKeyRecord.owner == record.owner,
                IdempotencyKeyRecord.key == record.key,
                IdempotencyKeyRecord.job_id.is_(None),
                IdempotencyKeyRecord.created_at == record.created_at,
            )
            .values(created_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _in_progress(key: str) -> str:
    return f"A request with Idempotency-Key {key!r} is still being accepted."


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
