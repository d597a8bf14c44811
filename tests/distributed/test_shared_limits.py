"""Directory limits shared through a real Redis: the concurrency cap and the create pacing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from hospital_bulk.config import Settings
from hospital_bulk.directory.shared_limits import (
    MAX_REDIS_CONNECTIONS,
    RedisCreateSlots,
    RedisPacer,
    limits_namespace,
)
from hospital_bulk.workers.celery_app import create_celery_app
from hospital_bulk.workers.tasks import WorkerRuntime

pytestmark = pytest.mark.distributed

SLOTS_KEY = "hospital_bulk:test:create_slots"
PACER_NAMESPACE = "hospital_bulk:test"

# Acquires two slots with a one-second holder TTL, then sleeps until it is killed.
_HOLDER_SCRIPT = """
import asyncio, sys
import redis.asyncio as aioredis
from hospital_bulk.directory.shared_limits import RedisCreateSlots

async def hold():
    client = aioredis.Redis.from_url(sys.argv[1])
    slots = RedisCreateSlots(client, key=sys.argv[2], limit=2, holder_ttl=1.0)
    await slots.__aenter__()
    await slots.__aenter__()
    print("holding", flush=True)
    await asyncio.sleep(3600)

asyncio.run(hold())
"""


def _slots(
    redis_url: str, *, limit: int, holder_ttl: float = 5.0, max_poll: float = 0.1
) -> RedisCreateSlots:
    client = aioredis.Redis.from_url(redis_url)
    return RedisCreateSlots(
        client, key=SLOTS_KEY, limit=limit, holder_ttl=holder_ttl, max_poll=max_poll
    )


def _record_tries(slots: RedisCreateSlots) -> list[int]:
    """Wrap the slots' acquire script so that each try appends its result to the returned list."""
    results: list[int] = []
    acquire = slots._acquire

    async def recording(**kwargs: Any) -> int:
        result = await acquire(**kwargs)
        results.append(result)
        return result

    slots._acquire = recording  # type: ignore[method-assign]
    return results


async def _enter_and_leave(slots: RedisCreateSlots) -> None:
    async with slots:
        pass


async def _held_slots(redis_url: str) -> int:
    observer = aioredis.Redis.from_url(redis_url)
    held = int(await observer.zcard(SLOTS_KEY))
    await observer.aclose()
    return held


# Waiters in the tests below wait this long without a wake-up before they try again, so a
# waiter that gets its slot within WAKE_TIMEOUT was woken by a release.
NO_FALLBACK_POLL = 30.0
WAKE_TIMEOUT = 10.0


def _pacer(
    redis_url: str, *, creates_per_minute: int | None = None, pause_check: float = 0.1
) -> RedisPacer:
    client = aioredis.Redis.from_url(redis_url)
    return RedisPacer(
        client,
        namespace=PACER_NAMESPACE,
        creates_per_minute=creates_per_minute,
        pause_check=pause_check,
    )


def test_slots_cap_across_clients(redis_url: str) -> None:
    """Two clients (as two processes would) never hold more than the limit together."""

    async def scenario() -> tuple[int, int]:
        clients = [_slots(redis_url, limit=3), _slots(redis_url, limit=3)]
        in_flight = peak = 0

        async def create(slots: RedisCreateSlots) -> None:
            nonlocal in_flight, peak
            async with slots:
                in_flight += 1
                peak = max(peak, in_flight)
                await asyncio.sleep(0.05)
                in_flight -= 1

        await asyncio.gather(*(create(clients[i % 2]) for i in range(24)))
        for slots in clients:
            await slots.aclose()
        return peak, await _held_slots(redis_url)

    peak, left = asyncio.run(scenario())

    assert peak == 3
    assert left == 0


def test_slots_cap_under_contention(redis_url: str) -> None:
    """120 coroutines in two clients hold at most the limit of 5 at once, and all finish."""

    async def scenario() -> tuple[int, int, int, int]:
        clients = [_slots(redis_url, limit=5), _slots(redis_url, limit=5)]
        in_flight = peak = finished = 0

        async def create(slots: RedisCreateSlots, index: int) -> None:
            nonlocal in_flight, peak, finished
            async with slots:
                in_flight += 1
                peak = max(peak, in_flight)
                await asyncio.sleep(0.01 * (index % 3))
                in_flight -= 1
            finished += 1

        await asyncio.gather(*(create(clients[i % 2], i) for i in range(120)))
        for slots in clients:
            await slots.aclose()
        observer = aioredis.Redis.from_url(redis_url)
        left = int(await observer.zcard(SLOTS_KEY))
        markers = int(await observer.llen(f"{SLOTS_KEY}:wakeups"))
        await observer.aclose()
        return peak, finished, left, markers

    peak, finished, left, markers = asyncio.run(scenario())

    assert peak == 5
    assert finished == 120
    assert left == 0
    assert markers <= 5


def test_busy_process_reuses_its_slots(redis_url: str) -> None:
    """Creates that follow each other reuse one token, which goes back once they stop."""

    async def scenario() -> tuple[list[int], int, int]:
        slots = _slots(redis_url, limit=2)
        tries = _record_tries(slots)
        for _ in range(50):
            await _enter_and_leave(slots)
        held_while_busy = await _held_slots(redis_url)
        deadline = time.monotonic() + WAKE_TIMEOUT
        while await _held_slots(redis_url) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        held_after = await _held_slots(redis_url)
        await slots.aclose()
        return tries, held_while_busy, held_after

    tries, held_while_busy, held_after = asyncio.run(scenario())

    assert tries == [2]
    assert held_while_busy == 1
    assert held_after == 0


def test_spare_slot_goes_to_another_process(redis_url: str) -> None:
    """A slot kept as a spare reaches a waiter in another process once it lingers unused."""

    async def scenario() -> int:
        busy = _slots(redis_url, limit=1)
        waiting = _slots(redis_url, limit=1, max_poll=NO_FALLBACK_POLL)
        await _enter_and_leave(busy)
        # Raises TimeoutError unless the spare's release wakes the waiter.
        await asyncio.wait_for(_enter_and_leave(waiting), WAKE_TIMEOUT)
        held = await _held_slots(redis_url)
        await busy.aclose()
        await waiting.aclose()
        return held

    # The waiter now keeps the slot as its own spare.
    assert asyncio.run(scenario()) == 1


def test_uncapped_pacer_caches_pause(redis_url: str) -> None:
    """Without a creates-per-minute cap, creates close together share one pause lookup."""

    async def scenario() -> int:
        pacer = _pacer(redis_url, pause_check=60.0)
        lookups = 0
        pause_left = pacer._pause_left

        async def counting(**kwargs: Any) -> int:
            nonlocal lookups
            lookups += 1
            return await pause_left(**kwargs)

        pacer._pause_left = counting  # type: ignore[method-assign]
        for _ in range(50):
            await pacer.acquire()
        await pacer.aclose()
        return lookups

    assert asyncio.run(scenario()) == 1


def test_own_pause_applies_at_once(redis_url: str) -> None:
    """A pause this client takes after a 429 delays its next create despite the lookup window."""

    async def scenario() -> float:
        pacer = _pacer(redis_url, pause_check=60.0)
        await pacer.acquire()
        await pacer.pause(0.5)
        started = time.monotonic()
        await pacer.acquire()
        waited = time.monotonic() - started
        await pacer.aclose()
        return waited

    assert asyncio.run(scenario()) >= 0.45


def test_waiters_queue_behind_one_head(redis_url: str) -> None:
    """While every slot is taken, 20 waiters of one client make a single try in a second."""

    async def scenario() -> tuple[int, int]:
        holder = _slots(redis_url, limit=2)
        waiter = _slots(redis_url, limit=2, max_poll=NO_FALLBACK_POLL)
        tries = _record_tries(waiter)
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(holder)
            await stack.enter_async_context(holder)
            first = asyncio.create_task(_enter_and_leave(waiter))
            while not tries:
                await asyncio.sleep(0.01)
            others = [asyncio.create_task(_enter_and_leave(waiter)) for _ in range(19)]
            await asyncio.sleep(1.0)
            tries_while_full = len(tries)
        await asyncio.wait_for(asyncio.gather(first, *others), timeout=WAKE_TIMEOUT)
        for slots in (holder, waiter):
            await slots.aclose()
        return tries_while_full, await _held_slots(redis_url)

    tries_while_full, left = asyncio.run(scenario())

    assert tries_while_full == 1
    assert left == 0


def test_release_wakes_waiter(redis_url: str) -> None:
    """A waiter blocks instead of polling, and a release by another client wakes it."""

    async def scenario() -> tuple[int, int]:
        holder = _slots(redis_url, limit=1)
        waiter = _slots(redis_url, limit=1, max_poll=NO_FALLBACK_POLL)
        tries = _record_tries(waiter)
        async with holder:
            waiting = asyncio.create_task(_enter_and_leave(waiter))
            await asyncio.sleep(1.0)
            tries_while_waiting = len(tries)
        await asyncio.wait_for(waiting, timeout=WAKE_TIMEOUT)
        for slots in (holder, waiter):
            await slots.aclose()
        return tries_while_waiting, len(tries)

    tries_while_waiting, tries_in_all = asyncio.run(scenario())

    assert tries_while_waiting <= 3
    assert tries_in_all <= 3


def test_cancelled_acquire_leaks_no_token(redis_url: str) -> None:
    """An acquire cancelled after Redis gave it a slot gives the slot back."""

    async def scenario() -> tuple[int, int]:
        slots = _slots(redis_url, limit=1)
        took_slot = asyncio.Event()
        acquire = slots._acquire

        async def acquire_then_hang(**kwargs: Any) -> int:
            result = await acquire(**kwargs)
            took_slot.set()
            await asyncio.Event().wait()
            return result

        slots._acquire = acquire_then_hang  # type: ignore[method-assign]
        entering = asyncio.create_task(slots.__aenter__())
        await took_slot.wait()
        held_before_cancel = await _held_slots(redis_url)
        entering.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await entering
        await slots.aclose()
        return held_before_cancel, await _held_slots(redis_url)

    held_before_cancel, left = asyncio.run(scenario())

    assert held_before_cancel == 1
    assert left == 0


def test_next_waiter_woken_after_head_cancelled(redis_url: str) -> None:
    """After the waiter blocked in BLPOP is cancelled, a release still wakes the next waiter."""

    async def scenario() -> int:
        holder = _slots(redis_url, limit=1)
        waiter = _slots(redis_url, limit=1, max_poll=NO_FALLBACK_POLL)
        tries = _record_tries(waiter)
        async with holder:
            head = asyncio.create_task(_enter_and_leave(waiter))
            while not tries:
                await asyncio.sleep(0.01)
            second = asyncio.create_task(_enter_and_leave(waiter))
            await asyncio.sleep(0.2)
            head.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await head
        await asyncio.wait_for(second, timeout=WAKE_TIMEOUT)
        for slots in (holder, waiter):
            await slots.aclose()
        return await _held_slots(redis_url)

    left = asyncio.run(scenario())

    assert left == 0


def test_slots_of_killed_process_expire(redis_url: str) -> None:
    """A SIGKILLed holder's slots come back once its holder TTL passes."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER_SCRIPT, redis_url, SLOTS_KEY],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)

    async def acquire_after_kill() -> float:
        slots = _slots(redis_url, limit=2)
        started = time.monotonic()
        async with slots:
            waited = time.monotonic() - started
        await slots.aclose()
        return waited

    waited = asyncio.run(asyncio.wait_for(acquire_after_kill(), timeout=10))

    # The holder renewed its tokens at most a third of the TTL before it died.
    assert waited >= 0.3
    assert waited <= 3.0


def test_pacer_spaces_creates_across_clients(redis_url: str) -> None:
    """600 creates a minute shared by two clients: ten creates span at least nine spacings."""

    async def scenario() -> list[float]:
        pacers = [_pacer(redis_url, creates_per_minute=600) for _ in range(2)]
        sent: list[float] = []

        async def create(pacer: RedisPacer) -> None:
            await pacer.acquire()
            sent.append(time.monotonic())

        await asyncio.gather(*(create(pacers[i % 2]) for i in range(10)))
        for pacer in pacers:
            await pacer.aclose()
        return sorted(sent)

    sent = asyncio.run(scenario())
    spacing = 60 / 600

    assert len(sent) == 10
    assert sent[-1] - sent[0] >= 9 * spacing - 0.05


def test_pause_applies_to_other_clients(redis_url: str) -> None:
    """A 429 pause taken by one client delays the next create of another."""

    async def scenario() -> float:
        first, second = _pacer(redis_url), _pacer(redis_url)
        await first.pause(0.5)
        started = time.monotonic()
        await second.acquire()
        waited = time.monotonic() - started
        await first.aclose()
        await second.aclose()
        return waited

    waited = asyncio.run(scenario())

    assert waited >= 0.45


def test_limits_redis_url_beside_rabbitmq() -> None:
    """An amqp:// broker keeps its shared limits in the Redis named by its own setting."""
    from hospital_bulk.config import Settings
    from hospital_bulk.directory.shared_limits import limits_redis_url

    amqp = "amqp://guest:guest@127.0.0.1:5672//"
    with_redis = Settings(broker_url=amqp, limits_redis_url="redis://127.0.0.1:6379/3")
    without = Settings(broker_url=amqp)

    assert limits_redis_url(with_redis) == "redis://127.0.0.1:6379/3"
    with pytest.raises(ValueError, match="HOSPITAL_BULK_LIMITS_REDIS_URL"):
        limits_redis_url(without)


def test_worker_task_returns_spare_slots(migrated_database: str, redis_url: str) -> None:
    """A slot a task kept as a spare is free in Redis as soon as the task ends.

    The worker's event loop stops between tasks, so a spare left for the delayed release
    would stay taken until its holder TTL ran out.
    """
    settings = Settings(
        database_url=migrated_database,
        broker_url=redis_url,
        directory_url="http://127.0.0.1:9",
        concurrency=5,
    )
    runtime = WorkerRuntime(settings, create_celery_app(settings))
    key = f"{limits_namespace(settings)}:create_slots"
    observer = redis.Redis.from_url(redis_url)

    async def one_create() -> None:
        async with runtime.context.slots:
            pass

    try:
        runtime.run(one_create())
        held_after_task = observer.zcard(key)
    finally:
        runtime.close()
        observer.close()

    assert held_after_task == 0


def test_slots_bound_redis_connections(redis_url: str) -> None:
    """Fifty coroutines that take slots at once share a few Redis connections."""
    settings = Settings(broker_url=redis_url, directory_url="http://127.0.0.1:9", concurrency=50)

    async def scenario() -> int:
        observer = aioredis.Redis.from_url(redis_url)
        before = (await observer.info("clients"))["connected_clients"]
        slots = RedisCreateSlots.from_settings(settings)
        entered = asyncio.Event()
        count = 0

        async def create() -> None:
            nonlocal count
            async with slots:
                count += 1
                if count == 50:
                    entered.set()
                await entered.wait()

        creates = asyncio.gather(*(create() for _ in range(50)))
        await asyncio.wait_for(entered.wait(), WAKE_TIMEOUT)
        opened = (await observer.info("clients"))["connected_clients"] - before
        await creates
        await slots.aclose()
        await observer.aclose()
        return opened

    assert asyncio.run(scenario()) <= MAX_REDIS_CONNECTIONS
