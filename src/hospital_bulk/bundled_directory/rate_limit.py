"""Fixed-window rate limits per client address and endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0

# Expired windows are dropped when the table grows past this size, so a stream of
# new client addresses cannot grow it without bound.
_SWEEP_THRESHOLD = 10_000


class RateLimitExceeded(Exception):
    """Raised when a client sends more requests to an endpoint than its limit allows.

    The message is the upstream 429 body text, e.g. "Rate limit exceeded: 30 per 1 minute".
    """

    def __init__(self, limit: int) -> None:
        super().__init__(f"Rate limit exceeded: {limit} per 1 minute")
        self.limit = limit


@dataclass(slots=True)
class _Window:
    started_at: float
    hits: int
    length: float = WINDOW_SECONDS


class FixedWindowRateLimiter:
    """Request counts in one-minute windows, one window per client address and endpoint.

    A window opens at a client's first request to an endpoint and closes 60 seconds
    later. Requests over the limit are rejected until the window closes. Counters live
    in memory, so a restart resets them.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}

    def hit(self, *, endpoint: str, client: str, limit: int, window_seconds: float = WINDOW_SECONDS) -> None:
        """Count one request, and raise RateLimitExceeded when it is over ``limit``.

        A ``limit`` of 0 turns the limit off, and nothing is counted. ``window_seconds``
        is 60 upstream; tests shorten it so that a wait for the next window stays short.
        """
        if limit == 0:
            return

        now = self._clock()
        window = self._current_window((endpoint, client), now, window_seconds)
        window.hits += 1
        if window.hits > limit:
            raise RateLimitExceeded(limit)

    def reset(self) -> None:
        """Forget every counter, as a server restart does."""
        self._windows.clear()

    def _current_window(self, key: tuple[str, str], now: float, length: float) -> _Window:
        window = self._windows.get(key)
        if window is not None and now - window.started_at < window.length:
            return window

        if len(self._windows) >= _SWEEP_THRESHOLD:
            self._drop_expired(now)
        window = _Window(started_at=now, hits=0, length=length)
        self._windows[key] = window
        return window

    def _drop_expired(self, now: float) -> None:
        expired = [
            key
            for key, window in self._windows.items()
            if now - window.started_at >= window.length
        ]
        for key in expired:
            del self._windows[key]
