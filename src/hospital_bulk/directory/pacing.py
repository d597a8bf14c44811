"""Pacing of creates: a client-side creates-per-minute cap and a shared pause after a 429.

The upstream counts creates per client address in a fixed one-minute window and returns
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


#: Smallest gap in seconds between two creates when there is no cap. Without it the first
#: creates of a job leave together, come back together and stay in lockstep, so every
#: response waits in a queue behind the others on both ends. The gap spreads them out; it
#: caps one process at 1,000 creates a second, above what one process can send.
MIN_SPACING = 0.001


class LocalPacer:
    """Pacer for one process.

    Args:
        creates_per_minute: cap on creates a minute; None for no cap.
    """

    def __init__(self, creates_per_minute: int | None = None) -> None:
        if creates_per_minute:
            self._spacing = max(60.0 * _SPACING_MARGIN / creates_per_minute, MIN_SPACING)
        else:
            self._spacing = MIN_SPACING
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
