"""Async client of the Hospital Directory API.

Retries are limited to requests that cannot have been stored: connection failures before
the request went out, 503 (the upstream sends it before storing), and 429 (rate limit,
paused for a whole window). A create that may have been stored is reported `Unknown` and
never resent here: the job pipeline settles it against the batch listing.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import stamina

from hospital_bulk.directory.outcomes import (
    Activated,
    ActivationOutcome,
    AlreadyActive,
    BatchNotFound,
    Created,
    CreateOutcome,
    ListedHospital,
    NotActivated,
    Rejected,
    Unknown,
)
from hospital_bulk.directory.pacing import CreatePacer, LocalPacer
from hospital_bulk.metrics import DIRECTORY_REQUEST_SECONDS, DIRECTORY_RETRIES

logger = logging.getLogger(__name__)

# Errors raised before any byte of the request reached the server: always safe to resend.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Errors after the request was (maybe) sent: a create may have been stored.
_OUTCOME_UNKNOWN = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)


#: Connections per httpx pool; see DirectoryClient.__init__.
_CONNECTIONS_PER_POOL = 8


class _Transient(Exception):
    """A 503, which the Directory sends before it stores anything."""


class _RateLimited(Exception):
    """A 429: the request was not processed, and the whole window must pass."""


class DirectoryClient:
    """Client of one Hospital Directory.

    Args:
        base_url: the Directory's base URL, e.g. `http://127.0.0.1:8001`.
        timeout: seconds to wait for one response (connect timeout is at most 5 s).
        warmup_timeout: seconds a sleeping public instance may take to respond to `GET /`.
        retry_attempts: tries per request for failures that stored nothing.
        rate_limit_wait: seconds every create pauses after a 429 without `Retry-After`.
        rate_limit_budget: total seconds one request may spend waiting out 429s.
        pacer: spaces creates; a `LocalPacer` without a cap by default.
        max_connections: size of the connection pool.
        transport: an httpx transport, for tests of faults a real server cannot produce.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        warmup_timeout: float = 90.0,
        retry_attempts: int = 6,
        rate_limit_wait: float = 61.0,
        rate_limit_budget: float = 900.0,
        pacer: CreatePacer | None = None,
        max_connections: int = 100,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry_attempts = retry_attempts
        self.rate_limit_wait = rate_limit_wait
        self.rate_limit_budget = rate_limit_budget
        self.warmup_timeout = warmup_timeout
        self.pacer = pacer or LocalPacer()
        self._warm = False
        # httpcore scans every connection of a pool for each request it assigns, so one
        # pool of 50+ connections costs more CPU than the requests. Small pools, used in
        # turn, keep that scan short.
        shards = max(1, math.ceil(max_connections / _CONNECTIONS_PER_POOL))
        per_pool = math.ceil(max_connections / shards)
        self._pools = [
            httpx.AsyncClient(
                base_url=self.base_url,
                timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                limits=httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool),
                transport=transport,
            )
            for _ in range(shards)
        ]
        self._next_pool = itertools.cycle(self._pools)

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()

    async def ping(self, *, timeout: float = 5.0) -> int:
        """Send `GET /` once and return the status code; raises httpx errors."""
        response = await next(self._next_pool).get("/", timeout=timeout)
        return response.status_code

    async def warm_up(self) -> None:
        """Wake the Directory with `GET /` once per client; a public instance may sleep."""
        if self._warm:
            return
        deadline = time.monotonic() + self.warmup_timeout
        async for attempt in stamina.retry_context(
            on=(httpx.TransportError, _Transient, _RateLimited),
            attempts=None,
            timeout=self.warmup_timeout,
            wait_initial=0.5,
            wait_max=5.0,
        ):
            with attempt:
                remaining = max(deadline - time.monotonic(), 1.0)
                async with self._timed("warm_up"):
                    response = await next(self._next_pool).get("/", timeout=remaining)
                self._raise_transient(response)
        self._warm = True
        logger.info("Directory %s responded to the warm-up request", self.base_url)

    async def create_hospital(
        self, *, name: str, address: str, phone: str | None, batch_id: str
    ) -> CreateOutcome:
        """Create one inactive hospital in `batch_id`; see `outcomes` for what comes back."""
        body = {"name": name, "address": address, "phone": phone, "creation_batch_id": batch_id}
        try:
            response = await self._send_retrying(
                "create", "POST", "/hospitals/", json=body, pace=True
            )
        except _OUTCOME_UNKNOWN as exc:
            return Unknown(f"{type(exc).__name__} after the create was sent")
        except (*_NOT_SENT, _Transient) as exc:
            return Rejected(
                f"Directory unavailable after {self.retry_attempts} attempts: {_describe(exc)}"
            )
        except _RateLimited:
            return Rejected(
                f"Directory rate limit still hit after waiting {self.rate_limit_budget:.0f} s"
            )
        if response.status_code == 200:
            return Created(int(response.json()["id"]))
        if response.status_code >= 500:
            # A gateway error or a crash may come after the hospital was stored.
            return Unknown(f"Directory answered {response.status_code}")
        return Rejected(_rejection_message(response), response.status_code)

    async def list_batch(self, batch_id: str) -> list[ListedHospital]:
        """List the batch's hospitals; an unknown or empty batch gives `[]` (the upstream's 404)."""
        response = await self._send_retrying(
            "list_batch", "GET", f"/hospitals/batch/{batch_id}", safe_to_repeat=True
        )
        if response.status_code == 404:
            return []
        response.raise_for_status()
        return [
            ListedHospital(
                id=int(item["id"]),
                name=item["name"],
                address=item["address"],
                phone=item.get("phone"),
                active=bool(item.get("active")),
            )
            for item in response.json()
        ]

    async def activate_batch(self, batch_id: str) -> ActivationOutcome:
        """Ask the Directory to activate every hospital of the batch, once."""
        try:
            response = await self._send_retrying(
                "activate", "PATCH", f"/hospitals/batch/{batch_id}/activate"
            )
        except _OUTCOME_UNKNOWN as exc:
            return NotActivated(
                f"{type(exc).__name__} after the activation was sent", outcome_unknown=True
            )
        except (*_NOT_SENT, _Transient, _RateLimited) as exc:
            return NotActivated(f"Directory unavailable: {_describe(exc)}")
        if response.status_code == 200:
            return Activated(int(response.json().get("activated_count", 0)))
        if response.status_code == 400:
            return AlreadyActive()
        if response.status_code == 404:
            return BatchNotFound()
        return NotActivated(
            f"Directory answered {response.status_code}: {_rejection_message(response)}",
            outcome_unknown=response.status_code >= 500,
        )

    async def _send_retrying(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        pace: bool = False,
        safe_to_repeat: bool = False,
    ) -> httpx.Response:
        """Send with backoff on failures that stored nothing; wait out 429s without using attempts."""
        waited = 0.0
        while True:
            try:
                return await self._send_with_backoff(
                    operation, method, path, json=json, pace=pace, safe_to_repeat=safe_to_repeat
                )
            except _RateLimited:
                if waited >= self.rate_limit_budget:
                    raise
                waited += self.rate_limit_wait
                await self._pause_for_rate_limit(operation, pace=pace)

    async def _send_with_backoff(
        self, operation: str, method: str, path: str, *, json: Any, pace: bool, safe_to_repeat: bool
    ) -> httpx.Response:
        retry_on: tuple[type[Exception], ...] = (*_NOT_SENT, _Transient)
        if safe_to_repeat:
            retry_on = (*retry_on, *_OUTCOME_UNKNOWN)
        # The first try runs outside stamina: setting up a retry loop for every request
        # costs more CPU than the request itself when nearly all of them succeed.
        try:
            return await self._send_once(
                operation, method, path, json=json, pace=pace, safe_to_repeat=safe_to_repeat
            )
        except retry_on:
            if self.retry_attempts <= 1:
                raise
        attempt_number = 1
        async for attempt in stamina.retry_context(
            on=retry_on,
            attempts=self.retry_attempts - 1,
            timeout=None,
            wait_initial=0.2,
            wait_max=10.0,
            wait_jitter=0.5,
        ):
            with attempt:
                attempt_number += 1
                DIRECTORY_RETRIES.labels(operation, "transient").inc()
                logger.warning(
                    "Retrying Directory %s %s (attempt %d)", method, path, attempt_number
                )
                return await self._send_once(
                    operation, method, path, json=json, pace=pace, safe_to_repeat=safe_to_repeat
                )
        raise AssertionError("stamina ended without a result or an error")

    async def _send_once(
        self, operation: str, method: str, path: str, *, json: Any, pace: bool, safe_to_repeat: bool
    ) -> httpx.Response:
        if pace:
            await self.pacer.acquire()
        started = time.perf_counter()
        outcome = "error"
        try:
            response = await next(self._next_pool).request(method, path, json=json)
            outcome = "ok"
        finally:
            DIRECTORY_REQUEST_SECONDS.labels(operation, outcome).observe(time.perf_counter() - started)
        self._raise_transient(response, safe_to_repeat=safe_to_repeat)
        return response

    def _raise_transient(self, response: httpx.Response, *, safe_to_repeat: bool = True) -> None:
        status = response.status_code
        if status == 429:
            raise _RateLimited("HTTP 429")
        if status == 503 or (safe_to_repeat and status >= 500):
            raise _Transient(f"HTTP {status}")

    async def _pause_for_rate_limit(self, operation: str, *, pace: bool) -> None:
        DIRECTORY_RETRIES.labels(operation, "rate_limited").inc()
        logger.warning(
            "Directory rate limit hit on %s; pausing for %.0f s (no Retry-After sent)",
            operation,
            self.rate_limit_wait,
        )
        if pace:
            # Every create waits for the pause, not only the one that saw the 429.
            await self.pacer.pause(self.rate_limit_wait)
        else:
            await asyncio.sleep(self.rate_limit_wait)

    @asynccontextmanager
    async def _timed(self, operation: str) -> AsyncIterator[None]:
        started = time.perf_counter()
        outcome = "error"
        try:
            yield
            outcome = "ok"
        finally:
            DIRECTORY_REQUEST_SECONDS.labels(operation, outcome).observe(
                time.perf_counter() - started
            )


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _rejection_message(response: httpx.Response) -> str:
    """Turn an upstream error body into one readable sentence."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or f"HTTP {response.status_code}"
    detail = body.get("detail", body.get("error")) if isinstance(body, dict) else body
    if isinstance(detail, list):
        parts = []
        for item in detail:
            field = ".".join(str(part) for part in item.get("loc", [])[1:]) or "body"
            parts.append(f"{field}: {item.get('msg', 'invalid')}")
        return "Validation error: " + "; ".join(parts)
    return str(detail)
