"""Directory limits shared through Redis by every worker and API process.

In the distributed shape many processes call one Directory, so its limits must be counted
in one place: `RedisCreateSlots` caps the creates in flight (`HOSPITAL_BULK_CONCURRENCY`),
and `RedisPacer` spaces creates (`HOSPITAL_DIRECTORY_CREATES_PER_MINUTE`) and shares the
pause after a 429. Both read the clock with Redis `TIME`, so machines with skewed clocks
still agree on expiries and slots. Keys are scoped by the Directory's URL: processes that
spell the same Directory's URL differently do not share limits.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable
from typing import Any

import redis.asyncio as aioredis

from hospital_bulk.config import Settings
from hospital_bulk.directory.pacing import _SPACING_MARGIN

logger = logging.getLogger(__name__)

#: Prefix of every Redis key this service writes.
KEY_PREFIX = "hospital_bulk"

#: Maximum seconds a slot holder lives without renewal, so a crashed process's slots come back.
MAX_HOLDER_TTL = 15.0

# Lua scripts run atomically in Redis. Times are integer milliseconds from Redis TIME.
_NOW_MS = """
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
"""

# KEYS[1]: sorted set of holder tokens scored by expiry; KEYS[2]: list of wake-up markers.
# ARGV: limit, ttl_ms, token.
# Returns 0 when every slot is taken, else the free slots counted before the token took one.
# A full set also drops the markers, because each marks a release whose slot has been taken
# again since, and a waiter woken by it would only fail its next try.
_ACQUIRE_SLOT = _NOW_MS + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local free = tonumber(ARGV[1]) - redis.call('ZCARD', KEYS[1])
if free <= 0 then
    redis.call('DEL', KEYS[2])
    return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return free
"""

# KEYS[1]: the holder set; KEYS[2]: the wake-up list. ARGV: token, limit, ttl_ms.
# Removes the token and, when it was there, pushes one marker for a waiter's BLPOP. The
# list keeps at most `limit` markers and expires with the holders. Returns 1 when the
# token was removed.
_RELEASE_SLOT = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
    return 0
end
redis.call('LPUSH', KEYS[2], '1')
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
"""

# KEYS[1]: the holder set. ARGV[1]: ttl_ms, ARGV[2..]: tokens this process holds.
# Pushes each token's expiry forward, adding back tokens that expired while their create
# was still in flight, so that the count stays truthful. Returns how many were re-added.
_RENEW_SLOTS = _NOW_MS + """
local ttl = tonumber(ARGV[1])
local readded = 0
for index = 2, #ARGV do
    local expiry = redis.call('ZSCORE', KEYS[1], ARGV[index])
    if not expiry or tonumber(expiry) <= now then
        readded = readded + 1
    end
    redis.call('ZADD', KEYS[1], now + ttl, ARGV[index])
end
redis.call('PEXPIRE', KEYS[1], ttl)
return readded
"""

# KEYS[1]: time of the next free create slot; KEYS[2]: end of the shared pause.
# ARGV[1]: spacing_ms between creates (0 for no cap).
# Reserves the next slot and returns how many ms the caller waits for it.
_RESERVE_CREATE = _NOW_MS + """
local spacing = tonumber(ARGV[1])
local slot = now
local next_slot = tonumber(redis.call('GET', KEYS[1]) or '0')
local paused_until = tonumber(redis.call('GET', KEYS[2]) or '0')
if next_slot > slot then slot = next_slot end
if paused_until > slot then slot = paused_until end
if spacing > 0 then
    redis.call('SET', KEYS[1], slot + spacing, 'PX', slot + spacing - now + 1000)
end
return slot - now
"""

# KEYS[1]: end of the shared pause. ARGV[1]: pause_ms. Extends the pause, never shortens it.
_PAUSE = _NOW_MS + """
local paused_until = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused_until > current then
    redis.call('SET', KEYS[1], paused_until, 'PX', tonumber(ARGV[1]))
end
return 0
"""

# KEYS[1]: end of the shared pause. Returns the ms left, or 0.
_PAUSE_LEFT = _NOW_MS + """
local paused_until = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused_until > now then return paused_until - now end
return 0
"""


def limits_redis_url(settings: Settings) -> str:
    """Return the URL of the Redis that stores the shared limits.

    That is `HOSPITAL_BULK_LIMITS_REDIS_URL` when set, else the broker's URL.

    Raises:
        ValueError: neither is a Redis URL (for example an amqp:// broker alone).
    """
    url = settings.limits_redis_url or settings.broker_url or ""
    if url.startswith(("redis://", "rediss://")):
        return url
    raise ValueError(
        f"HOSPITAL_BULK_BROKER_URL {_scheme(url)!r} is not a Redis URL, but the Directory limits "
        "shared by all workers are kept in Redis. Set HOSPITAL_BULK_LIMITS_REDIS_URL, e.g. "
        "redis://127.0.0.1:6379/0, or use a redis:// broker URL."
    )


def limits_namespace(settings: Settings) -> str:
    """Return the key prefix of the limits of the settings' Directory."""
    directory = (settings.directory_url or "").rstrip("/")
    return f"{KEY_PREFIX}:limits:{directory}"


def holder_ttl(settings: Settings) -> float:
    """Return the lifetime in seconds of an unrenewed slot holder: the lease, at most 15 s."""
    return min(settings.lease_seconds, MAX_HOLDER_TTL)


class RedisCreateSlots:
    """Semaphore over Redis bounding the Directory creates in flight across all processes.

    Each holder is a token in a sorted set, scored by its expiry. A background task renews
    this process's tokens every third of `holder_ttl`, so a crashed process's slots come
    back within `holder_ttl` seconds. The tokens of one process are interchangeable, so
    leaving the context releases any one of them.

    A process keeps the tokens it is using. Leaving the context hands the token to the
    next coroutine of this process that waits, or keeps it as a spare that the next create
    takes, so a busy process makes no Redis call per create. Spares left unused for
    `linger` seconds go back to Redis, so other processes get the slots once this
    process's work runs out. A process whose event loop stops between tasks calls
    `release_spares` first: a lingering release waits for the loop to run again.

    While a coroutine of this process waits, one task (the fetcher) asks Redis for slots
    on behalf of all of them, and they get slots in FIFO order. Each release to Redis
    pushes a wake-up marker onto a Redis list, and the fetcher blocks on that list with
    BLPOP. A marker is only a hint, because the acquire script decides who gets a slot.
    BLPOP runs on a connection of its own, so it never takes one from `redis`'s pool.

    Args:
        redis: an asyncio Redis client, used only from one event loop.
        key: the sorted set's key. The wake-up list is `key` + ":wakeups".
        limit: slots in all processes together.
        holder_ttl: seconds a token lives without renewal.
        max_poll: maximum seconds the fetcher blocks before it tries again without a
            wake-up. Slots that free by expiry push no marker, so this is how late they
            are noticed. Every release pushes a marker, so a longer wait delays only those
            slots, while each try costs two Redis calls in every waiting process.
        linger: seconds a spare token stays with this process before it goes back.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        key: str,
        limit: int,
        holder_ttl: float,
        max_poll: float = 1.0,
        linger: float = 0.02,
    ) -> None:
        self._redis = redis
        self._key = key
        self._wakeups_key = f"{key}:wakeups"
        self._limit = limit
        self._ttl_ms = max(int(holder_ttl * 1000), 1)
        # BLPOP reads a timeout of 0 as "block forever".
        self._max_poll = max(max_poll, 0.01)
        self._acquire = redis.register_script(_ACQUIRE_SLOT)
        self._release = redis.register_script(_RELEASE_SLOT)
        self._renew = redis.register_script(_RENEW_SLOTS)
        self._wakeups = _blocking_client(redis, read_timeout=self._max_poll + 1.0)
        self._token_prefix = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._counter = itertools.count()
        self._held: list[str] = []
        self._renewer: asyncio.Task[None] | None = None
        # This process's coroutines waiting for a slot, first come first served, and the
        # task that takes slots from Redis for them.
        self._waiters: collections.deque[asyncio.Future[str]] = collections.deque()
        self._fetcher: asyncio.Task[None] | None = None
        # Whether the last try left another slot free, so the fetcher tries again at once.
        self._more_free = False
        # Tokens this process keeps in Redis that no create uses. They go back after `linger`.
        self._spare: list[str] = []
        self._linger = linger
        self._spare_release: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisCreateSlots:
        """Build the slots for the settings' Directory, sized by `HOSPITAL_BULK_CONCURRENCY`."""
        return cls(
            _bounded_client(limits_redis_url(settings)),
            key=f"{limits_namespace(settings)}:create_slots",
            limit=settings.concurrency,
            holder_ttl=holder_ttl(settings),
        )

    async def __aenter__(self) -> RedisCreateSlots:
        if self._spare and not self._waiters:
            token = self._spare.pop()
        else:
            token = await self._acquire_token()
        self._held.append(token)
        self._ensure_renewer()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._pass_on(self._held.pop())

    async def release_spares(self) -> None:
        """Give back every spare token now, without waiting for `linger` to pass.

        Call it before the event loop stops, for example at the end of each task in a
        worker whose loop runs only while a task runs. A spare left behind stays taken in
        Redis, and unused, until its holder TTL runs out.
        """
        while self._spare:
            token = self._spare.pop()
            try:
                await self._release_token(token)
            except aioredis.RedisError as error:
                # This process no longer renews the token, so it expires within the TTL.
                logger.warning(
                    "Releasing Directory slot %s failed: %s; it expires on its own", token, error
                )

    async def aclose(self) -> None:
        """Give back spare tokens, stop renewing and close the Redis connections."""
        for task in (self._fetcher, self._spare_release, self._renewer):
            if task is not None:
                task.cancel()
        await self.release_spares()
        await self._wakeups.aclose()
        await self._redis.aclose()

    async def _acquire_token(self) -> str:
        # With no coroutine of this process waiting, a free slot costs one script call.
        if not self._waiters:
            token = f"{self._token_prefix}:{next(self._counter)}"
            try:
                if await self._try_acquire(token):
                    return token
            except BaseException:
                # The script may have run before a cancellation arrived.
                with contextlib.suppress(aioredis.RedisError):
                    await self._release_token(token)
                raise
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._ensure_fetcher()
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                # A token arrived together with the cancellation: the next waiter gets it.
                self._pass_on(waiter.result())
            raise

    def _pass_on(self, token: str) -> None:
        """Give a token to the first waiter of this process, or keep it as a spare."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(token)
                return
        # The next create usually follows at once and takes the spare without a Redis
        # call. A spare that stays unused goes back to Redis for other processes.
        self._spare.append(token)
        if self._spare_release is None or self._spare_release.done():
            self._spare_release = asyncio.get_running_loop().create_task(self._release_spares())

    async def _release_spares(self) -> None:
        await asyncio.sleep(self._linger)
        await self.release_spares()

    def _ensure_fetcher(self) -> None:
        if self._fetcher is None or self._fetcher.done():
            self._fetcher = asyncio.get_running_loop().create_task(self._fetch_for_waiters())

    async def _fetch_for_waiters(self) -> None:
        """Take slots from Redis for this process's waiters, one at a time, while any wait."""
        while self._has_waiters():
            try:
                if not self._more_free:
                    await self._wakeups.blpop([self._wakeups_key], timeout=self._max_poll)
                if not self._has_waiters():
                    return
                token = f"{self._token_prefix}:{next(self._counter)}"
                try:
                    acquired = await self._try_acquire(token)
                except asyncio.CancelledError:
                    with contextlib.suppress(aioredis.RedisError):
                        await self._release_token(token)
                    raise
            except aioredis.RedisError as error:
                logger.warning("Waiting for a Directory slot failed: %s; retrying", error)
                await asyncio.sleep(self._max_poll)
                continue
            if acquired:
                self._pass_on(token)

    def _has_waiters(self) -> bool:
        while self._waiters and self._waiters[0].done():
            self._waiters.popleft()
        return bool(self._waiters)

    async def _try_acquire(self, token: str) -> bool:
        free = await self._acquire(
            keys=[self._key, self._wakeups_key], args=[self._limit, self._ttl_ms, token]
        )
        self._more_free = free > 1
        return bool(free)

    def _release_token(self, token: str) -> Awaitable[Any]:
        return self._release(
            keys=[self._key, self._wakeups_key], args=[token, self._limit, self._ttl_ms]
        )

    def _ensure_renewer(self) -> None:
        loop = asyncio.get_running_loop()
        if self._renewer is None or self._renewer.done() or self._renewer.get_loop() is not loop:
            self._renewer = loop.create_task(self._renew_while_held())

    async def _renew_while_held(self) -> None:
        while self._held or self._spare:
            await asyncio.sleep(self._ttl_ms / 3000)
            tokens = [*self._held, *self._spare]
            if not tokens:
                return
            try:
                readded = await self._renew(keys=[self._key], args=[self._ttl_ms, *tokens])
            except aioredis.RedisError as error:
                logger.warning(
                    "Renewing %d Directory slots failed: %s; retrying", len(tokens), error
                )
                continue
            if readded:
                logger.warning(
                    "%d Directory slots of this process expired before renewal; the concurrency "
                    "cap may have been exceeded briefly (was the event loop blocked?)", readded,
                )


#: Maximum Redis connections of one process's slots or pacer. A few serve every create,
#: where an unbounded pool opens one per coroutine that starts at once (50 per chunk).
MAX_REDIS_CONNECTIONS = 4


def _bounded_client(url: str) -> aioredis.Redis:
    """Build an asyncio Redis client whose calls wait for one of a few connections."""
    pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=MAX_REDIS_CONNECTIONS)
    return aioredis.Redis.from_pool(pool)


def _blocking_client(redis: aioredis.Redis, *, read_timeout: float) -> aioredis.Redis:
    """Build a one-connection client on `redis`'s server and database, for blocking commands.

    A socket timeout shorter than `read_timeout` is raised to it, so that a BLPOP that
    gets no marker ends by its own timeout, not by a socket timeout.
    """
    pool = redis.connection_pool
    connection_kwargs = dict(pool.connection_kwargs)
    socket_timeout = connection_kwargs.get("socket_timeout")
    if socket_timeout is not None:
        connection_kwargs["socket_timeout"] = max(socket_timeout, read_timeout)
    blocking_pool = aioredis.BlockingConnectionPool(
        connection_class=pool.connection_class, max_connections=1, **connection_kwargs
    )
    return aioredis.Redis.from_pool(blocking_pool)


class RedisPacer:
    """`CreatePacer` over Redis: one creates-per-minute cap and one 429 pause for all processes.

    Each create reserves the next free time slot in one atomic script, so the cap applies
    however many processes send creates.

    Args:
        redis: an asyncio Redis client, used only from one event loop.
        namespace: prefix of the two keys.
        creates_per_minute: cap on creates a minute in all processes together; None for none.
        pause_check: without a cap, the most seconds a create trusts the last look at the
            shared pause.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        namespace: str,
        creates_per_minute: int | None = None,
        pause_check: float = 0.5,
    ) -> None:
        self._redis = redis
        self._next_slot_key = f"{namespace}:next_create"
        self._paused_key = f"{namespace}:paused_until"
        spacing = 60.0 * _SPACING_MARGIN / creates_per_minute if creates_per_minute else 0.0
        self._spacing_ms = int(spacing * 1000)
        self._reserve = redis.register_script(_RESERVE_CREATE)
        self._pause = redis.register_script(_PAUSE)
        self._pause_left = redis.register_script(_PAUSE_LEFT)
        # Without a creates-per-minute cap, a create looks up the shared pause only when
        # the last look is older than `pause_check` seconds. A pause that another process
        # begins thus applies here up to that much later. A pause begun here applies at once.
        self._pause_check = pause_check
        self._unpaused_until = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisPacer:
        """Build the pacer for the settings' Directory and creates-per-minute cap."""
        return cls(
            _bounded_client(limits_redis_url(settings)),
            namespace=limits_namespace(settings),
            creates_per_minute=settings.directory_creates_per_minute,
        )

    async def acquire(self) -> None:
        if self._spacing_ms:
            # The reserved slot already lies after any pause that had begun.
            wait_ms = await self._reserve(
                keys=[self._next_slot_key, self._paused_key], args=[self._spacing_ms]
            )
            if wait_ms <= 0:
                return
            await asyncio.sleep(wait_ms / 1000)
        elif time.monotonic() < self._unpaused_until:
            return
        # A pause that began while this create waited applies to it too.
        while (left_ms := await self._pause_left(keys=[self._paused_key])) > 0:
            await asyncio.sleep(left_ms / 1000)
        self._unpaused_until = time.monotonic() + self._pause_check

    async def pause(self, seconds: float) -> None:
        await self._pause(keys=[self._paused_key], args=[max(int(seconds * 1000), 1)])
        self._unpaused_until = 0.0

    async def aclose(self) -> None:
        """Close the Redis connections."""
        await self._redis.aclose()


def _scheme(url: str) -> str:
    scheme, separator, _ = url.partition("://")
    return f"{scheme}://..." if separator else url


async def close_shared_limits(*resources: Any) -> None:
    """Close the Redis connections of whichever of `resources` are shared limits."""
    for resource in resources:
        if isinstance(resource, RedisCreateSlots | RedisPacer):
            await resource.aclose()
