"""In-process token-bucket rate limiting.

Every key (a client address, a credential, a username) gets a bucket holding at most `burst`
tokens, refilled continuously at `rate_per_second`; a request spends tokens or is refused with
the number of seconds to wait, ready for a `Retry-After` header.

Limits are per process: with N API processes behind a load balancer a client may get up to N
times the configured rate. That is acceptable here: the limiter is a defence against a runaway
client or credential stuffing on one process, not a quota, and N is small and known, so the
effective limit stays within a fixed factor of the configured one. A limiter shared between
processes would cost a database round trip on every request, more than the protection is worth.

Login throttling uses the same class twice, keyed by username and by client address, so that
guessing many passwords for one account and trying one password against many accounts are both
slowed down.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# Float refill arithmetic can leave a bucket a hair short of a whole token after waiting exactly
# the advertised Retry-After; without this tolerance an obedient client would be refused again.
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one request: allowed, or refused with whole seconds to wait (>= 1)."""

    allowed: bool
    retry_after_seconds: int


_ALLOWED = Decision(allowed=True, retry_after_seconds=0)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_at: float


def seconds_until(tokens: float, cost: float, rate_per_second: float) -> int:
    """Whole seconds until a bucket holding `tokens` can pay `cost`, at least 1.

    Rounded up, so that a client waiting the advertised time is not refused again.
    """
    return max(1, math.ceil((cost - tokens) / rate_per_second - _EPSILON))


class TokenBuckets:
    """Per-key token buckets (capacity `burst`, refilled at `rate_per_second`), bounded memory.

    At most `max_keys` buckets are kept; beyond that the least recently used one is dropped, and
    a dropped key starts again with a full bucket. That forgets a little history under a flood
    of distinct keys, which is the price of never growing without bound; refused requests count
    as use, so a client being throttled keeps its place.

    Not thread-safe: it is meant for one asyncio event loop, where `take` runs without yielding.
    """

    def __init__(
        self,
        *,
        rate_per_second: float,
        burst: int,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.rate_per_second = rate_per_second
        self.burst = burst
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        """How many keys are currently tracked (never more than `max_keys`)."""
        return len(self._buckets)

    def take(self, key: str, cost: float = 1.0) -> Decision:
        """Spend `cost` tokens from `key`'s bucket if it holds them; otherwise spend nothing.

        A cost above `burst` could never be paid, so it is a programming error, not a refusal.
        """
        if not 0 < cost <= self.burst:
            raise ValueError(f"cost must be in (0, {self.burst}], got {cost}")
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=float(self.burst), updated_at=now)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket.updated_at)
            bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate_per_second)
            bucket.updated_at = now
        if bucket.tokens + _EPSILON >= cost:
            bucket.tokens = max(0.0, bucket.tokens - cost)
            return _ALLOWED
        return Decision(
            allowed=False,
            retry_after_seconds=seconds_until(bucket.tokens, cost, self.rate_per_second),
        )
