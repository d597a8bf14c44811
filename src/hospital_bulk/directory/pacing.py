"""Pacing of creates: a client-side creates-per-minute cap and a shared pause after a 429.

The upstream counts creates per client address in a fixed one-minute window and answers
429 without `Retry-After`, so the only safe reaction to a 429 is to stop every create for
about a minute. Spacing creates evenly keeps a job under the cap in the first place.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

# Spacing creates 2% wider than 60 s / R keeps a fixed one-minute window from ever seeing
# R + 1 creates when network delays bunch two of them together.
_SPACING_MARGIN = 1.02


class CreatePacer(Protocol):
    """Decides when the next create may be sent."""

    async def acquire(self) -> None: ...

    async def pause(self, seconds: float) -> None: ...


class LocalPacer:
    """Pacer for one process.

    Args:
        creates_per_minute: cap on creates a minute; None for no cap.
    """

    def __init__(self, creates_per_minute: int | None = None) -> None:
        self._spacing = 60.0 * _SPACING_MARGIN / creates_per_minute if creates_per_minute else 0.0
        self._next_slot = 0.0
        self._paused_until = 0.0

    async def acquire(self) -> None:
        now = time.monotonic()
        slot = max(now, self._next_slot, self._paused_until)
        self._next_slot = slot + self._spacing
        if slot > now:
            await asyncio.sleep(slot - now)
        # A pause that began while this create waited applies to it too.
        while (delay := self._paused_until - time.monotonic()) > 0:
            await asyncio.sleep(delay)

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
