"""The token bucket on a clock the test moves: burst, refill, cap, and keys kept apart."""

from __future__ import annotations

import pytest

from api.ratelimit import TokenBuckets, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_served_then_refused_until_the_allowance_refills() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=2.0, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)  # one token comes back every 0.5 s
    clock.now += 0.25
    assert buckets.take("a") == pytest.approx(0.25)
    clock.now += 0.25
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0


def test_idle_time_refills_no_further_than_the_burst() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate_per_s=10.0, burst=2, clock=clock)
    buckets.take("a")
    clock.now += 3600
    assert [buckets.take("a") for _ in range(2)] == [0.0, 0.0]
    assert buckets.take("a") > 0


def test_one_key_spending_leaves_the_others_whole() -> None:
    buckets = TokenBuckets(rate_per_s=1.0, burst=1, clock=Clock())
    assert buckets.take("flood") == 0.0
    assert buckets.take("flood") > 0
    assert buckets.take("quiet") == 0.0


@pytest.mark.parametrize(("seconds", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (4.99, "5")])
def test_retry_after_is_whole_seconds_never_zero(seconds: float, header: str) -> None:
    assert retry_after(seconds) == header
