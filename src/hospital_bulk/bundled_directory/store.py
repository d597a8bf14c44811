"""SQLite storage of the bundled Directory's hospitals."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

# AUTOINCREMENT stores the highest id ever used in sqlite_sequence, so ids are never
# reused after a delete and the counter survives a restart.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS hospitals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    phone TEXT,
    creation_batch_id TEXT,
    active INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS hospitals_creation_batch_id ON hospitals (creation_batch_id);
"""

_COLUMNS = "id, name, address, phone, creation_batch_id, active, created_at"

_Row = tuple[int, str, str, str | None, str | None, int, str]


@dataclass(frozen=True, slots=True)
class HospitalRecord:
    """One stored hospital."""

    id: int
    name: str
    address: str
    phone: str | None
    creation_batch_id: uuid.UUID | None
    active: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: _Row) -> HospitalRecord:
        """Build a record from a row selected as ``_COLUMNS``."""
        hospital_id, name, address, phone, batch_id, active, created_at = row
        return cls(
            id=hospital_id,
            name=name,
            address=address,
            phone=phone,
            creation_batch_id=uuid.UUID(batch_id) if batch_id is not None else None,
            active=bool(active),
            created_at=datetime.fromisoformat(created_at),
        )


def _batch_key(batch_id: uuid.UUID) -> str:
    return str(batch_id)


class HospitalStore:
    """Hospitals in one SQLite file.

    The connection belongs to the thread that opened it, which is the server's event
    loop thread. Each method runs to the end without yielding to the loop, so a
    check and the write that follows it in one request handler are atomic.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    @classmethod
    def open(cls, path: Path) -> HospitalStore:
        """Open the database at ``path``, creating the file and table when missing."""
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, isolation_level=None)
        # WAL with synchronous=NORMAL commits without an fsync, which keeps an insert
        # short enough to run on the event loop. SQLite documents (PRAGMA synchronous)
        # that the file then stays consistent and commits survive an application crash.
        # An OS crash or power loss can roll back the last commits, which a test double
        # can afford.
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(_SCHEMA)
        return cls(connection)

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()

    def insert(
        self,
        *,
        name: str,
        address: str,
        phone: str | None,
        creation_batch_id: uuid.UUID | None,
        active: bool,
        created_at: datetime,
        max_hospitals: int = 0,
    ) -> HospitalRecord:
        """Insert a hospital with the next id and return it.

        When ``max_hospitals`` is not 0, the oldest hospitals beyond that number are
        deleted in the same transaction.
        """
        batch_key = _batch_key(creation_batch_id) if creation_batch_id is not None else None
        values = (name, address, phone, batch_key, int(active), created_at.isoformat())
        with self._transaction():
            rows = self._connection.execute(
                "INSERT INTO hospitals (name, address, phone, creation_batch_id, active,"
                f" created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
                values,
            ).fetchall()
            if max_hospitals:
                self._evict_oldest(keep=max_hospitals)
        return HospitalRecord.from_row(rows[0])

    def get(self, hospital_id: int) -> HospitalRecord | None:
        """Return the hospital with ``hospital_id``, or None when there is none."""
        row = self._connection.execute(
            f"SELECT {_COLUMNS} FROM hospitals WHERE id = ?", (hospital_id,)
        ).fetchone()
        return HospitalRecord.from_row(row) if row is not None else None

    def list_all(self) -> list[HospitalRecord]:
        """Return every hospital in id order."""
        rows = self._connection.execute(f"SELECT {_COLUMNS} FROM hospitals ORDER BY id")
        return [HospitalRecord.from_row(row) for row in rows]

    def update(self, record: HospitalRecord) -> HospitalRecord | None:
        """Write the name, address and phone of ``record`` to the row with its id.

        Returns the stored record, or None when no hospital has that id.
        """
        rows = self._connection.execute(
            f"UPDATE hospitals SET name = ?, address = ?, phone = ? WHERE id = ?"
            f" RETURNING {_COLUMNS}",
            (record.name, record.address, record.phone, record.id),
        ).fetchall()
        return HospitalRecord.from_row(rows[0]) if rows else None

    def delete(self, hospital_id: int) -> bool:
        """Delete the hospital with ``hospital_id`` and return whether it existed."""
        cursor = self._connection.execute("DELETE FROM hospitals WHERE id = ?", (hospital_id,))
        return cursor.rowcount > 0

    def list_batch(self, batch_id: uuid.UUID) -> list[HospitalRecord]:
        """Return the hospitals created with ``batch_id``, in id order."""
        rows = self._connection.execute(
            f"SELECT {_COLUMNS} FROM hospitals WHERE creation_batch_id = ? ORDER BY id",
            (_batch_key(batch_id),),
        )
        return [HospitalRecord.from_row(row) for row in rows]

    def count_batch(self, batch_id: uuid.UUID) -> int:
        """Return the number of hospitals created with ``batch_id``."""
        row = self._connection.execute(
            "SELECT COUNT(*) FROM hospitals WHERE creation_batch_id = ?",
            (_batch_key(batch_id),),
        ).fetchone()
        count: int = row[0]
        return count

    def activate_batch(self, batch_id: uuid.UUID) -> int:
        """Set every hospital of ``batch_id`` active and return the number updated."""
        cursor = self._connection.execute(
            "UPDATE hospitals SET active = 1 WHERE creation_batch_id = ?",
            (_batch_key(batch_id),),
        )
        return cursor.rowcount

    def delete_batch(self, batch_id: uuid.UUID) -> int:
        """Delete every hospital of ``batch_id`` and return how many were deleted."""
        cursor = self._connection.execute(
            "DELETE FROM hospitals WHERE creation_batch_id = ?", (_batch_key(batch_id),)
        )
        return cursor.rowcount

    def wipe(self) -> int:
        """Delete every hospital, restart ids at 1 and return how many were deleted."""
        with self._transaction():
            deleted = self._connection.execute("DELETE FROM hospitals").rowcount
            self._connection.execute("DELETE FROM sqlite_sequence WHERE name = 'hospitals'")
        return deleted

    def _evict_oldest(self, *, keep: int) -> None:
        self._connection.execute(
            "DELETE FROM hospitals WHERE id IN"
            " (SELECT id FROM hospitals ORDER BY id DESC LIMIT -1 OFFSET ?)",
            (keep,),
        )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise
        self._connection.execute("COMMIT")
