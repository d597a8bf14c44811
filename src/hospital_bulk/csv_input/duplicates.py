"""Find rows that repeat an earlier row of the same file."""

from __future__ import annotations

__all__ = ["DuplicateTracker"]


class DuplicateTracker:
    """Remembers the first row of each (name, address, phone) seen in one file.

    Two rows are the same hospital when their name, address and phone are equal after
    case folding and collapsing runs of whitespace into one space.
    """

    __slots__ = ("_first_rows",)

    def __init__(self) -> None:
        # NOTE: this keeps one key per distinct row until the file is read, about 160 bytes
        # a row. That is 16 MB at 100,000 rows of 45 bytes (tracemalloc, CPython 3.11), so
        # an upload's peak memory still grows with its rows by that much.
        self._first_rows: dict[str, int] = {}

    def find_first(self, row: int, name: str, address: str, phone: str | None) -> int | None:
        """Record `row` and return the earlier row that it repeats, or None."""
        # NUL never occurs in decoded text and is not whitespace, so it keeps the three
        # values apart through one split and join.
        joined = f"{name}\x00{address}\x00{phone or ''}"
        key = " ".join(joined.split()).casefold()
        first = self._first_rows.setdefault(key, row)
        return None if first == row else first
