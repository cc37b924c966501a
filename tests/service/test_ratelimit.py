"""Token buckets: burst, refusal with Retry-After, refill, independent keys, bounded memory."""

from __future__ import annotations

import pytest

from service.ratelimit import Decision, TokenBuckets, seconds_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def buckets(rate: float, burst: int, max_keys: int = 100) -> tuple[TokenBuckets, FakeClock]:
    clock = FakeClock()
    limiter = TokenBuckets(rate_per_second=rate, burst=burst, max_keys=max_keys, clock=clock)
    return limiter, clock


# Each step: (seconds to advance the clock first, key, cost, expected decision).
ALLOW = Decision(allowed=True, retry_after_seconds=0)


def refuse(seconds: int) -> Decision:
    return Decision(allowed=False, retry_after_seconds=seconds)


SCENARIOS = {
    "burst then refused": (
        1.0,
        3,
        [(0, "a", 1, ALLOW), (0, "a", 1, ALLOW), (0, "a", 1, ALLOW), (0, "a", 1, refuse(1))],
    ),
    "slow rate gives a long wait": (
        0.1,
        1,
        [(0, "a", 1, ALLOW), (0, "a", 1, refuse(10)), (4, "a", 1, refuse(6))],
    ),
    "wait is rounded up": (
        0.4,
        1,
        [(0, "a", 1, ALLOW), (0, "a", 1, refuse(3)), (2, "a", 1, refuse(1))],
    ),
    "waiting the advertised time is enough": (
        0.1,
        2,
        [(0, "a", 2, ALLOW), (0, "a", 1, refuse(10)), (10, "a", 1, ALLOW)],
    ),
    "refill is continuous and capped at burst": (
        2.0,
        2,
        [
            (0, "a", 2, ALLOW),
            (0.5, "a", 1, ALLOW),
            (0, "a", 1, refuse(1)),
            (3600, "a", 2, ALLOW),
            (0, "a", 1, refuse(1)),
        ],
    ),
    "a refusal spends nothing": (
        1.0,
        2,
        [(0, "a", 2, ALLOW), (0, "a", 1, refuse(1)), (0, "a", 1, refuse(1)), (1, "a", 1, ALLOW)],
    ),
    "keys are independent": (
        1.0,
        1,
        [(0, "a", 1, ALLOW), (0, "a", 1, refuse(1)), (0, "b", 1, ALLOW), (0, "b", 1, refuse(1))],
    ),
    "cost above one": (
        1.0,
        5,
        [
            (0, "a", 3, ALLOW),
            (0, "a", 3, refuse(1)),
            (0, "a", 2, ALLOW),
            (0, "a", 5, refuse(5)),
            (2, "a", 5, refuse(3)),
            (3, "a", 5, ALLOW),
        ],
    ),
    "fractional cost": (
        1.0,
        1,
        [(0, "a", 0.5, ALLOW), (0, "a", 0.5, ALLOW), (0, "a", 0.25, refuse(1))],
    ),
}


@pytest.mark.parametrize(("rate", "burst", "steps"), SCENARIOS.values(), ids=SCENARIOS.keys())
def test_token_buckets(rate, burst, steps):
    limiter, clock = buckets(rate, burst)
    for number, (advance, key, cost, expected) in enumerate(steps):
        clock.now += advance
        assert limiter.take(key, cost) == expected, f"step {number}"


def test_memory_stays_bounded_and_evicted_keys_start_full():
    limiter, _ = buckets(rate=0.001, burst=1, max_keys=3)
    for key in ("a", "b", "c"):
        assert limiter.take(key).allowed
    assert not limiter.take("a").allowed
    for number in range(1000):
        limiter.take(f"flood-{number}")
        assert len(limiter) <= 3
    assert limiter.take("a") == ALLOW
    assert limiter.take("flood-999") == refuse(1000)


def test_least_recently_used_key_is_the_one_evicted():
    limiter, _ = buckets(rate=0.001, burst=1, max_keys=2)
    limiter.take("old")
    limiter.take("recent")
    assert not limiter.take("old").allowed  # refused, but still counts as use
    limiter.take("new")
    assert len(limiter) == 2
    assert not limiter.take("old").allowed
    assert limiter.take("recent") == ALLOW


def test_a_clock_going_backwards_does_not_drain_the_bucket():
    limiter, clock = buckets(rate=1.0, burst=1)
    assert limiter.take("a").allowed
    clock.now -= 50
    assert limiter.take("a") == refuse(1)
    clock.now += 1
    assert limiter.take("a") == ALLOW


@pytest.mark.parametrize("cost", [0, -1, 3.5])
def test_impossible_costs_are_programming_errors(cost):
    limiter, _ = buckets(rate=1.0, burst=3)
    with pytest.raises(ValueError, match="cost"):
        limiter.take("a", cost)


@pytest.mark.parametrize(
    "settings",
    [
        {"rate_per_second": 0, "burst": 1},
        {"rate_per_second": -1, "burst": 1},
        {"rate_per_second": 1, "burst": 0},
        {"rate_per_second": 1, "burst": 1, "max_keys": 0},
    ],
)
def test_nonsense_settings_are_refused(settings):
    with pytest.raises(ValueError):
        TokenBuckets(**settings)


@pytest.mark.parametrize(
    ("tokens", "cost", "rate", "seconds"),
    [
        (0.0, 1.0, 1.0, 1),
        (0.9, 1.0, 1.0, 1),
        (0.0, 1.0, 0.1, 10),
        (0.7, 1.0, 0.1, 3),
        (0.0, 1.0, 1 / 3, 3),
        (0.0, 1.0, 100.0, 1),
        (1.0, 4.0, 0.5, 6),
    ],
)
def test_seconds_until(tokens, cost, rate, seconds):
    assert seconds_until(tokens, cost, rate) == seconds
