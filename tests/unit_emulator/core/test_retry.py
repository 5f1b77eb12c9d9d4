"""emulator.core.retry: when an asynchronous event is retried, and how it ends (clock passed in)."""

from __future__ import annotations

import pytest

from emulator.core.retry import (
    AsyncPolicy,
    Attempt,
    Condition,
    Ended,
    EventState,
    RetryAt,
    after,
    before,
)

POLICY = AsyncPolicy()
FRESH = EventState(received_at=1000.0)


def test_a_success_ends_the_event_with_its_invoke_count() -> None:
    assert after(POLICY, FRESH, Attempt.SUCCEEDED, 1001.0) == Ended(
        Condition.SUCCESS, EventState(1000.0, invocations=1)
    )


def test_function_errors_are_retried_after_one_then_two_minutes_then_exhausted() -> None:
    first = after(POLICY, FRESH, Attempt.FUNCTION_ERROR, 1001.0)
    assert first == RetryAt(1061.0, EventState(1000.0, 1, 1), Attempt.FUNCTION_ERROR)
    assert isinstance(first, RetryAt)
    second = after(POLICY, first.state, Attempt.FUNCTION_ERROR, 1062.0)
    assert second == RetryAt(1182.0, EventState(1000.0, 2, 2), Attempt.FUNCTION_ERROR)
    assert isinstance(second, RetryAt)
    third = after(POLICY, second.state, Attempt.FUNCTION_ERROR, 1183.0)
    assert third == Ended(Condition.RETRIES_EXHAUSTED, EventState(1000.0, 3, 2))


@pytest.mark.parametrize("retries", [0, 1])
def test_fewer_retries_when_configured(retries: int) -> None:
    policy = AsyncPolicy(max_retry_attempts=retries, retry_delays_s=(5.0, 7.0))
    state, outcome = FRESH, after(policy, FRESH, Attempt.FUNCTION_ERROR, 1000.0)
    while isinstance(outcome, RetryAt):
        state = outcome.state
        outcome = after(policy, state, Attempt.FUNCTION_ERROR, outcome.at)
    assert outcome.condition is Condition.RETRIES_EXHAUSTED
    assert outcome.state.invocations == retries + 1


def test_throttles_back_off_from_one_second_to_five_minutes_without_using_retries() -> None:
    state, delays = FRESH, []
    now = 1000.0
    for _ in range(12):
        outcome = after(POLICY, state, Attempt.THROTTLED, now)
        assert isinstance(outcome, RetryAt)
        delays.append(outcome.at - now)
        state, now = outcome.state, outcome.at
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    assert (state.retries, state.invocations) == (0, 0)


def test_a_run_after_throttles_starts_the_backoff_again() -> None:
    throttled = after(POLICY, FRESH, Attempt.SYSTEM_ERROR, 1000.0)
    assert isinstance(throttled, RetryAt) and throttled.state.backoffs == 1
    failed = after(POLICY, throttled.state, Attempt.FUNCTION_ERROR, 1001.0)
    assert isinstance(failed, RetryAt) and failed.state.backoffs == 0


def test_an_event_older_than_its_maximum_age_is_not_run() -> None:
    policy = AsyncPolicy(max_event_age_s=60)
    assert before(policy, FRESH, 1060.0) is None
    assert before(policy, FRESH, 1060.5) == Ended(Condition.EVENT_AGE_EXCEEDED, FRESH)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_retry_attempts": 3}, "MaximumRetryAttempts must be 0 to 2, not 3"),
        ({"max_event_age_s": 59}, "MaximumEventAgeInSeconds must be 60 to 21600, not 59"),
        ({"max_event_age_s": 21601}, "MaximumEventAgeInSeconds must be 60 to 21600"),
        ({"retry_delays_s": (1.0,)}, "a retry delay is needed for each retry"),
    ],
)
def test_settings_out_of_range_are_refused(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AsyncPolicy(**settings)  # type: ignore[arg-type]
