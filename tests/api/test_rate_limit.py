"""The token bucket on its own, with a clock the test moves."""

from __future__ import annotations

from service.api.rate_limit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_a_burst_then_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock)  # one token a second
    assert [limiter.acquire("a") for _ in range(60)] == [0] * 60
    assert limiter.acquire("a") == 1
    clock.now += 0.5
    assert limiter.acquire("a") == 1  # half a token: still wait (rounded up to whole seconds)
    clock.now += 0.5
    assert limiter.acquire("a") == 0
    assert limiter.acquire("a") == 1


def test_slow_limits_give_long_waits() -> None:
    clock = Clock()
    limiter = RateLimiter(2, clock)  # a token every 30 s
    assert limiter.acquire("a") == limiter.acquire("a") == 0
    assert limiter.acquire("a") == 30
    clock.now += 29
    assert limiter.acquire("a") == 1
    clock.now += 1
    assert limiter.acquire("a") == 0


def test_clients_have_their_own_buckets() -> None:
    limiter = RateLimiter(1, Clock())
    assert limiter.acquire("a") == 0
    assert limiter.acquire("a") > 0
    assert limiter.acquire("b") == 0


def test_refill_stops_at_capacity() -> None:
    clock = Clock()
    limiter = RateLimiter(3, clock)
    clock.now += 3600
    assert [limiter.acquire("a") for _ in range(4)][-1] > 0


def test_idle_buckets_are_forgotten(monkeypatch) -> None:
    monkeypatch.setattr("service.api.rate_limit._PRUNE_AT", 3)
    clock = Clock()
    limiter = RateLimiter(60, clock)
    for client in ("a", "b", "c"):
        limiter.acquire(client)
    clock.now += 61  # every bucket is full again, so forgetting it changes nothing
    limiter.acquire("d")
    assert set(limiter._buckets) == {"d"}
