"""Per-client rate limit: an in-process token bucket per API key (or client IP).

Each process keeps its own buckets, so N instances behind a load balancer allow up to N times
the configured rate in total. Litestar's RateLimitConfig was not used: it keeps a fixed window
as a JSON list of timestamps per client behind one global lock, and its 429 carries
RateLimit-Reset but no Retry-After.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

# Buckets idle long enough to be full again are forgotten once there are this many.
_PRUNE_AT = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`per_minute` requests a minute, in bursts of up to `per_minute`."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, client: str) -> int:
        """Take one token for `client`: 0 when allowed, else the seconds to wait (>= 1)."""
        now = self._clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= _PRUNE_AT:
                self._prune(now)
            bucket = self._buckets[client] = _Bucket(self.capacity, now)
        # No await between the read and the write, so concurrent requests cannot both spend
        # the last token.
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0
        return max(1, math.ceil((1 - bucket.tokens) / self.rate))

    def _prune(self, now: float) -> None:
        full_after = self.capacity / self.rate
        self._buckets = {
            client: bucket
            for client, bucket in self._buckets.items()
            if now - bucket.updated < full_after
        }
