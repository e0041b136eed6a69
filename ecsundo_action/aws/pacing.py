"""Client-side pacing to ECS's API quotas, so a cluster-wide restore never hammers and retries.

ECS throttles each API with a token bucket per account and Region: a burst, then a
sustained rate. The engine keeps a matching bucket per API and waits for a token before
each call; botocore's retries remain the safety net for tokens someone else spent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

# (burst, sustained calls per second), from ECS's documented request throttling.
ECS_QUOTAS: dict[str, tuple[float, float]] = {
    "DescribeServices": (100, 20),
    "DescribeTaskDefinition": (50, 20),
    "UpdateService": (50, 5),
    "RegisterTaskDefinition": (20, 1),
}


class TokenBucket:
    """Up to `burst` calls at once, then `rate` a second. Thread-safe; callers queue fairly:
    each takes the next free slot (tokens may go negative) and sleeps outside the lock."""

    def __init__(
        self,
        burst: float,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.burst, self.rate = burst, rate
        self._clock, self._sleep = clock, sleep
        self._tokens = burst
        self._stamp = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting for it if need be; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


# Our clock and ECS's differ by the network's jitter: calls paced to arrive exactly on
# ECS's refill may land bunched, just before it. Keeping one token of the burst and 5% of
# the sustained rate in hand costs about that much time and spares the retries.
RATE_MARGIN = 0.95
BURST_MARGIN = 1


class Pacer:
    """One bucket per API; hooks into a botocore client so every call takes a token."""

    def __init__(self, quotas: Mapping[str, tuple[float, float]] | None = None) -> None:
        self.buckets = {
            op: TokenBucket(max(1, burst - BURST_MARGIN), rate * RATE_MARGIN)
            for op, (burst, rate) in (quotas or {}).items()
        }

    def before_call(self, model: Any, **_: Any) -> None:
        # "*": one budget the client's APIs share (EventBridge's), unless one has its own.
        bucket = self.buckets.get(model.name) or self.buckets.get("*")
        if bucket is not None:
            bucket.acquire()

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.register(f"before-call.{service}", self.before_call)
