"""Asynchronous invocation's decisions, without I/O: retry when, or end how.

"Asynchronous invocation" and "Error handling and automatic retries"
(invocation-async.html, invocation-async-error-handling.html): a function
error (the handler raised, the runtime exited, the invocation timed out) is
retried ``MaximumRetryAttempts`` times (0 to 2, default 2), one minute and
then two minutes later; a throttle, or a failure of Lambda's own, sends the
event back to the queue and is retried with a backoff that grows from one
second to five minutes, for as long as the event is younger than
``MaximumEventAgeInSeconds`` (60 to 21600, default 21600). An event that
runs out of retries ends ``RetriesExhausted``, one too old
``EventAgeExceeded``, one that succeeded ``Success``: the conditions of the
record a destination receives. Times are seconds of the clock the caller
passes in.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

__all__ = [
    "DEFAULT_MAX_AGE_S",
    "DEFAULT_RETRIES",
    "AsyncPolicy",
    "Attempt",
    "Condition",
    "Ended",
    "EventState",
    "RetryAt",
    "after",
    "before",
]

DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE_S = 21600
MIN_MAX_AGE_S = 60


class Condition(str, enum.Enum):
    """How an event ended: ``requestContext.condition`` of its invocation record."""

    SUCCESS = "Success"
    RETRIES_EXHAUSTED = "RetriesExhausted"
    EVENT_AGE_EXCEEDED = "EventAgeExceeded"


class Attempt(enum.Enum):
    """What one attempt came to."""

    SUCCEEDED = "succeeded"
    FUNCTION_ERROR = "function error"  # handler error, runtime exit, timeout
    THROTTLED = "throttled"  # no capacity, or reserved concurrency of 0
    SYSTEM_ERROR = "system error"  # the emulator's own failure to run it


@dataclass(frozen=True)
class AsyncPolicy:
    """One function's (or qualifier's) asynchronous settings."""

    max_retry_attempts: int = DEFAULT_RETRIES
    max_event_age_s: int = DEFAULT_MAX_AGE_S
    # Before the first and second retry of a function error (Lambda's: 1 and 2 minutes).
    retry_delays_s: tuple[float, ...] = (60.0, 120.0)
    backoff_first_s: float = 1.0
    backoff_max_s: float = 300.0

    def __post_init__(self) -> None:
        if not 0 <= self.max_retry_attempts <= DEFAULT_RETRIES:
            raise ValueError(f"MaximumRetryAttempts must be 0 to 2, not {self.max_retry_attempts}")
        if not MIN_MAX_AGE_S <= self.max_event_age_s <= DEFAULT_MAX_AGE_S:
            raise ValueError(
                f"MaximumEventAgeInSeconds must be 60 to 21600, not {self.max_event_age_s}"
            )
        if len(self.retry_delays_s) < self.max_retry_attempts:
            raise ValueError("a retry delay is needed for each retry")

    def retry_delay(self, retry: int) -> float:
        """Seconds before function-error retry number ``retry`` (from 1)."""
        return self.retry_delays_s[retry - 1]

    def backoff(self, failures: int) -> float:
        """Seconds before the next try after ``failures`` throttles or system errors in a row."""
        return min(self.backoff_first_s * 2.0 ** (failures - 1), self.backoff_max_s)


@dataclass(frozen=True)
class EventState:
    """What is kept of one queued event between attempts (durably, by the queue)."""

    received_at: float
    invocations: int = 0  # attempts that ran the function: approximateInvokeCount
    retries: int = 0  # function-error retries used
    backoffs: int = 0  # throttles and system errors since the last run

    def age(self, now: float) -> float:
        return now - self.received_at


@dataclass(frozen=True)
class RetryAt:
    """Try again at ``at``, with ``state`` kept until then."""

    at: float
    state: EventState
    reason: Attempt


@dataclass(frozen=True)
class Ended:
    """The event is done: its record goes to the destination for ``condition``."""

    condition: Condition
    state: EventState


def before(policy: AsyncPolicy, state: EventState, now: float) -> Ended | None:
    """Before an attempt: Ended if the event is too old to run, else None."""
    if state.age(now) > policy.max_event_age_s:
        return Ended(Condition.EVENT_AGE_EXCEEDED, state)
    return None


def after(policy: AsyncPolicy, state: EventState, attempt: Attempt, now: float) -> RetryAt | Ended:
    """After an attempt: when to retry, or how the event ended."""
    if attempt is Attempt.SUCCEEDED:
        return Ended(Condition.SUCCESS, replace(state, invocations=state.invocations + 1))
    if attempt is Attempt.FUNCTION_ERROR:
        ran = replace(state, invocations=state.invocations + 1, backoffs=0)
        if ran.retries >= policy.max_retry_attempts:
            return Ended(Condition.RETRIES_EXHAUSTED, ran)
        retried = replace(ran, retries=ran.retries + 1)
        return RetryAt(now + policy.retry_delay(retried.retries), retried, attempt)
    # Back to the queue: an event too old by then ends when it is due (before()).
    waited = replace(state, backoffs=state.backoffs + 1)
    return RetryAt(now + policy.backoff(waited.backoffs), waited, attempt)
