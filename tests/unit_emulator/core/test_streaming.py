"""A streamed response in the core: its lifecycle rules and its bandwidth."""

from __future__ import annotations

import json

import pytest

from emulator.core.effects import Complete, Drain, Kill, PostAnswer
from emulator.core.invocation import OutcomeKind
from emulator.core.streaming import STREAM_BURST, STREAM_RATE, StreamLimits, Throttle
from tests.unit_emulator.core.test_lifecycle import FakeClock, of, outcomes, running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_stream_that_ends_is_a_response_with_its_body_gone_to_the_caller(
    clock: FakeClock,
) -> None:
    env = running(clock)
    assert env.stream_began("r1") is PostAnswer.ACCEPTED
    assert not env.returning  # still answering: its slot is not on its way back
    answer, effects = env.stream_ended("r1", None, "text/plain")
    assert (answer, effects) == (PostAnswer.ACCEPTED, [Drain("r1")])
    (complete,) = of(Complete, env.drained("r1", 1))
    assert isinstance(complete, Complete)
    assert (complete.outcome.kind, complete.outcome.body) == (OutcomeKind.RESPONSE, b"")
    assert complete.outcome.content_type == "text/plain"


def test_error_trailers_make_the_stream_a_function_error(clock: FakeClock) -> None:
    env = running(clock)
    env.stream_began("r1")
    error = b'{"errorType":"ValueError","errorMessage":"late"}'
    env.stream_ended("r1", error, "application/octet-stream")
    (complete,) = of(Complete, env.drained("r1", 1))
    assert isinstance(complete, Complete)
    assert (complete.outcome.kind, complete.outcome.body) == (OutcomeKind.ERROR, error)
    assert complete.outcome.function_error == "Unhandled"


def test_a_second_post_while_streaming_is_refused(clock: FakeClock) -> None:
    env = running(clock)
    env.stream_began("r1")
    assert env.posted("r1", False, b"1", "application/json") == (PostAnswer.ALREADY_ENDED, [])
    assert env.stream_began("r1") is PostAnswer.ALREADY_ENDED
    assert env.stream_began("nobody") is PostAnswer.UNKNOWN_REQUEST_ID


def test_a_connection_lost_mid_stream_is_a_truncated_response(clock: FakeClock) -> None:
    env = running(clock)
    env.stream_began("r1")
    assert env.stream_broken("r1") == [Drain("r1")]
    (complete,) = of(Complete, env.drained("r1", 1))
    assert isinstance(complete, Complete)
    assert complete.outcome.kind is OutcomeKind.TRUNCATED
    assert json.loads(complete.outcome.body)["errorType"] == "Runtime.TruncatedResponse"
    assert env.stream_broken("r1") == []  # it ended once


def test_a_stream_read_whole_is_a_response_with_its_body(clock: FakeClock) -> None:
    env = running(clock)  # for the classic Invoke API
    env.stream_began("r1")
    env.stream_ended("r1", None, "text/plain", b"whole")
    (complete,) = of(Complete, env.drained("r1", 1))
    assert isinstance(complete, Complete)
    assert (complete.outcome.kind, complete.outcome.body) == (OutcomeKind.RESPONSE, b"whole")


def test_the_deadline_still_applies_while_streaming(clock: FakeClock) -> None:
    env = running(clock)
    env.stream_began("r1")
    effects = env.timer_fired("deadline:r1")
    assert of(Kill, effects) == [Kill()]
    assert outcomes(env.drained("r1", 1)) == {"r1": OutcomeKind.TIMEOUT}
    # The connection then goes with the process: no second ending, and a late end is 410.
    assert env.stream_broken("r1") == []
    assert env.stream_ended("r1", None, "text/plain") == (PostAnswer.TIMED_OUT, [])


def test_a_stream_past_the_limit_is_cut_off_as_too_large(clock: FakeClock) -> None:
    env = running(clock)
    env.stream_began("r1")
    answer, effects = env.stream_too_large("r1", 100)
    assert (answer, effects) == (PostAnswer.TOO_LARGE, [Drain("r1")])
    (complete,) = of(Complete, env.drained("r1", 1))
    assert isinstance(complete, Complete)
    error = json.loads(complete.outcome.body)
    assert error["errorType"] == "Function.ResponseSizeTooLarge"
    assert "(100 bytes)" in error["errorMessage"]


def test_the_end_of_a_stream_that_never_began_is_refused(clock: FakeClock) -> None:
    env = running(clock)
    assert env.stream_ended("r1", None, "text/plain") == (PostAnswer.ALREADY_ENDED, [])
    assert env.stream_too_large("r1", 1) == (PostAnswer.ALREADY_ENDED, [])


def test_the_first_six_mib_go_at_once_then_two_mib_a_second() -> None:
    throttle = Throttle(StreamLimits())
    assert throttle.delay(STREAM_BURST, now=10.0) == 0.0
    # The first byte past the burst starts the clock: 2 MiB more takes a second.
    assert throttle.delay(STREAM_RATE, now=10.0) == pytest.approx(1.0)
    assert throttle.delay(STREAM_RATE, now=10.5) == pytest.approx(1.5)
    # A caller that read slowly has had its seconds already.
    assert throttle.delay(STREAM_RATE, now=20.0) == 0.0
    assert throttle.sent == STREAM_BURST + 3 * STREAM_RATE


def test_a_lifted_cap_never_holds_back() -> None:
    throttle = Throttle(StreamLimits(rate=None))
    assert throttle.delay(100 * STREAM_BURST, now=0.0) == 0.0


@pytest.mark.parametrize("limits", [{"limit": 0}, {"burst": -1}, {"rate": 0.0}])
def test_bad_stream_limits_are_refused(limits: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="bad stream limits"):
        StreamLimits(**limits)  # type: ignore[arg-type]
