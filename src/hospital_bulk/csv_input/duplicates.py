"""Find rows that repeat an earlier row of the same file."""

from __future__ import annotations

from array import array

__all__ = ["DuplicateTracker"]

# Slots of a new table; a power of two, so that a hash masks to a slot.
_INITIAL_SLOTS = 1024
# A hash of 0 marks an empty slot, so a key whose hash is 0 is stored with this one.
_ZERO_HASH = 1
_HASH_MASK = 2**64 - 1


class DuplicateTracker:
    """Remembers the first row of each (name, address, phone) seen in one file.

    Two rows are the same hospital when their name, address and phone are equal after
    case folding and collapsing runs of whitespace into one space.

    Each distinct row costs 24 to 48 bytes: a 64-bit hash of its values and a 32-bit row
    number, in an open-addressing table of flat arrays that is a quarter to half full. A dict of the values would cost
    about 160 bytes a row (16 MB for 100,000 rows), and an upload's memory would grow
    with its rows. Two different rows share a 64-bit hash with a chance of about
    n² / 2^65 in a file of n rows (3 in 10^10 for 100,000 rows); such a row would be
    reported as a repeat.
    """

    __slots__ = ("_hashes", "_mask", "_rows", "_used")

    def __init__(self) -> None:
        self._hashes = array("Q", bytes(8 * _INITIAL_SLOTS))
        self._rows = array("I", bytes(4 * _INITIAL_SLOTS))
        self._mask = _INITIAL_SLOTS - 1
        self._used = 0

    def find_first(self, row: int, name: str, address: str, phone: str | None) -> int | None:
        """Record `row` and return the earlier row that it repeats, or None."""
        # NUL never occurs in decoded text and is not whitespace, so it keeps the three
        # values apart through one split and join.
        joined = f"{name}\x00{address}\x00{phone or ''}"
        key_hash = hash(" ".join(joined.split()).casefold()) & _HASH_MASK or _ZERO_HASH
        slot = self._find_slot(key_hash)
        if self._hashes[slot] == key_hash:
            return self._rows[slot]
        self._hashes[slot] = key_hash
        self._rows[slot] = row
        self._used += 1
        # At most half full, so that a probe ends after about two slots.
        if 2 * self._used > self._mask:
            self._grow()
        return None

    def _find_slot(self, key_hash: int) -> int:
        """Return the slot that contains `key_hash`, or the empty slot where it goes."""
        hashes = self._hashes
        slot = key_hash & self._mask
        while hashes[slot] != 0 and hashes[slot] != key_hash:
            slot = (slot + 1) & self._mask
        return slot

    def _grow(self) -> None:
        old_hashes, old_rows = self._hashes, self._rows
        slots = 2 * len(old_hashes)
        self._hashes = array("Q", bytes(8 * slots))
        self._rows = array("I", bytes(4 * slots))
        self._mask = slots - 1
        for key_hash, row in zip(old_hashes, old_rows, strict=True):
            if key_hash:
                slot = self._find_slot(key_hash)
                self._hashes[slot] = key_hash
                self._rows[slot] = row
