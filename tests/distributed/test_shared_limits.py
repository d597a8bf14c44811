"""Directory limits shared through a real Redis: the concurrency cap and the create pacing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest
import redis.asyncio as aioredis

from hospital_bulk.directory.shared_limits import RedisCreateSlots, RedisPacer

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


def _slots(redis_url: str, *, limit: int, holder_ttl: float = 5.0) -> RedisCreateSlots:
    client = aioredis.Redis.from_url(redis_url)
    return RedisCreateSlots(client, key=SLOTS_KEY, limit=limit, holder_ttl=holder_ttl)


def _pacer(redis_url: str, *, creates_per_minute: int | None = None) -> RedisPacer:
    client = aioredis.Redis.from_url(redis_url)
    return RedisPacer(client, namespace=PACER_NAMESPACE, creates_per_minute=creates_per_minute)


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
        observer = aioredis.Redis.from_url(redis_url)
        left = int(await observer.zcard(SLOTS_KEY))
        await observer.aclose()
        for slots in clients:
            await slots.aclose()
        return peak, left

    peak, left = asyncio.run(scenario())

    assert peak == 3
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
