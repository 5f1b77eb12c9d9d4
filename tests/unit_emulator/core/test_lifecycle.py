"""emulator.core.lifecycle: one environment's rules, driven with a fake clock."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from emulator.core.effects import (
    CancelTimer,
    Complete,
    Drain,
    Effect,
    Emit,
    FreeSlot,
    HandOut,
    Kill,
    PostAnswer,
    Retire,
    StartTimer,
)
from emulator.core.events import InitReport, InvokeEnded, InvokeStarted, LogLine, Where
from emulator.core.invocation import Invocation, OutcomeKind
from emulator.core.lifecycle import Lifecycle, Limits

WHERE = Where("fn", "$LATEST", 1)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.epoch = 1_700_000_000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.epoch + self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def invocation(request_id: str, tail: bool = False) -> Invocation:
    return Invocation(request_id, b"{}", "Root=1-x", f"inv-{request_id}", tail=tail)


def of(kind: type, effects: Sequence[object]) -> list[object]:
    return [e for e in effects if isinstance(e, kind)]


def events(effects: list[Effect]) -> list[object]:
    return [e.event for e in effects if isinstance(e, Emit)]


def outcomes(effects: list[Effect]) -> dict[str, OutcomeKind]:
    return {e.invocation.request_id: e.outcome.kind for e in effects if isinstance(e, Complete)}


def error_type(effects: list[Effect]) -> str:
    (complete,) = of(Complete, effects)
    assert isinstance(complete, Complete)
    return str(json.loads(complete.outcome.body)["errorType"])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(clock: FakeClock, **limits: object) -> Lifecycle:
    settings: dict[str, object] = {"timeout_s": 3.0, "memory_mb": 128, **limits}
    return Lifecycle(WHERE, Limits(**settings), clock)  # type: ignore[arg-type]


def running(clock: FakeClock, request_id: str = "r1", **limits: object) -> Lifecycle:
    """An environment whose runtime has been handed ``request_id`` and started it."""
    env = make(clock, **limits)
    env.start()
    env.deliver(invocation(request_id))
    env.next_requested(1, None)
    env.sent(request_id)
    return env


def test_init_ends_at_the_first_next_and_the_queued_event_is_handed_out(clock: FakeClock) -> None:
    env = make(clock)
    assert env.start() == [StartTimer("init", 10.0)]
    assert env.deliver(invocation("r1")) == []  # no runtime waiting yet
    clock.advance(0.25)
    effects = env.next_requested(7, None)
    assert env.init_ms == pytest.approx(250.0)
    assert effects[0] == CancelTimer("init")
    (handout,) = of(HandOut, effects)
    assert isinstance(handout, HandOut)
    assert (handout.waiter, handout.invocation.request_id) == (7, "r1")
    assert handout.deadline_ms == int((clock.time() + 3.0) * 1000)
    assert StartTimer("deadline:r1", 3.0) in effects
    assert events(env.sent("r1")) == [InvokeStarted(WHERE, "r1", False)]


def test_a_post_drains_then_ends_the_invocation_and_the_slot_comes_back_with_the_runtime(
    clock: FakeClock,
) -> None:
    env = running(clock)
    clock.advance(0.5)
    answer, effects = env.posted("r1", False, b'"ok"', "application/json")
    assert (answer, effects) == (PostAnswer.ACCEPTED, [Drain("r1")])
    assert env.output("printed by the handler") == [
        Emit(LogLine(WHERE, "r1", "printed by the handler"))
    ]
    effects = env.drained("r1", peak_mb=40)
    (ended,) = of(InvokeEnded, events(effects))
    assert isinstance(ended, InvokeEnded)
    assert (ended.duration_ms, ended.max_memory_used_mb, ended.init_ms) == (500.0, 40, 0.0)
    assert outcomes(effects) == {"r1": OutcomeKind.RESPONSE}
    assert of(FreeSlot, effects) == []  # the runtime has not asked for more yet
    assert env.returning
    assert env.next_requested(2, None) == [CancelTimer("deadline:r1"), FreeSlot()]
    assert not env.returning


def test_init_duration_is_reported_on_the_first_invocation_only(clock: FakeClock) -> None:
    env = running(clock)
    env.posted("r1", False, b"1", "application/json")
    (first,) = of(InvokeEnded, events(env.drained("r1", 1)))
    env.next_requested(2, None)
    env.deliver(invocation("r2"))
    env.sent("r2")
    env.posted("r2", False, b"2", "application/json")
    (second,) = of(InvokeEnded, events(env.drained("r2", 1)))
    assert isinstance(first, InvokeEnded) and isinstance(second, InvokeEnded)
    assert (first.init_ms, second.init_ms) == (0.0, None)


def test_a_runtime_back_before_the_drain_ends_gets_the_slot_after_the_end(
    clock: FakeClock,
) -> None:
    env = running(clock)
    env.posted("r1", False, b"1", "application/json")
    assert env.next_requested(2, None) == []  # END first, then the slot
    effects = env.drained("r1", 1)
    assert effects[-2:] == [CancelTimer("deadline:r1"), FreeSlot()]


@pytest.mark.parametrize(
    ("request_id", "answer"),
    [("nope", PostAnswer.UNKNOWN_REQUEST_ID), ("r1", PostAnswer.ALREADY_ENDED)],
)
def test_posts_that_are_refused(clock: FakeClock, request_id: str, answer: PostAnswer) -> None:
    env = running(clock)
    env.posted("r1", True, b"{}", "application/json")
    assert env.posted(request_id, False, b"late", "application/json") == (answer, [])
    env.drained("r1", 1)
    env.next_requested(2, None)  # forgotten from the held ones, remembered as ended
    assert env.posted(request_id, False, b"late", "application/json") == (answer, [])


def test_a_timeout_kills_drains_and_then_reports_it(clock: FakeClock) -> None:
    env = running(clock)
    clock.advance(3.0)
    effects = env.timer_fired("deadline:r1")
    assert effects == [Kill(), Drain("r1"), CancelTimer("init"), Retire()]
    assert env.posted("r1", False, b"late", "application/json") == (PostAnswer.TIMED_OUT, [])
    effects = env.drained("r1", 1)
    note, ended = events(effects)[:2]
    assert isinstance(note, LogLine) and note.request_id == "r1"
    assert note.text.endswith(" r1 Task timed out after 3.00 seconds")
    assert isinstance(ended, InvokeEnded) and ended.outcome is OutcomeKind.TIMEOUT
    assert error_type(effects) == "Sandbox.Timedout"
    assert of(FreeSlot, effects) == []  # retired: its slots went with it
    assert env.process_exited("signal: killed") == []


def two_workers(clock: FakeClock, first: str, second: str) -> Lifecycle:
    """Two slots, each worker (pids 11 and 12) handed one of the two invocations."""
    env = make(clock, max_concurrency=2)
    env.start()
    env.next_requested(1, 11)
    env.next_requested(2, 12)
    env.deliver(invocation(first))
    env.deliver(invocation(second))
    return env


def test_in_multi_concurrency_a_timeout_fails_only_its_invocation(clock: FakeClock) -> None:
    env = two_workers(clock, "a", "b")
    effects = env.timer_fired("deadline:a")
    # Its worker has as long again to come back for more.
    assert effects == [Drain("a"), StartTimer("deadline:a", 3.0)]
    assert outcomes(env.drained("a", 1)) == {"a": OutcomeKind.TIMEOUT}
    assert env.posted("b", False, b"b", "application/json")[0] is PostAnswer.ACCEPTED
    # The timed-out worker still holds its slot until it comes back.
    env.drained("b", 1)
    assert env.next_requested(3, 11) == [CancelTimer("deadline:a"), FreeSlot()]


def test_a_worker_that_never_comes_back_ends_the_invocations_beside_it(clock: FakeClock) -> None:
    env = two_workers(clock, "a", "b")
    env.timer_fired("deadline:a")
    env.drained("a", 1)
    effects = env.timer_fired("deadline:a")  # a's worker is still not back
    assert Kill() in effects and Retire() in effects
    assert Drain("b") in effects
    (complete,) = of(Complete, env.drained("b", 1))
    assert isinstance(complete, Complete)
    assert json.loads(complete.outcome.body) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: b Error: Runtime exited with error: signal: killed",
    }


def test_a_deadline_while_the_answer_drains_looks_again(clock: FakeClock) -> None:
    env = running(clock)
    env.posted("r1", False, b"1", "application/json")
    assert env.timer_fired("deadline:r1") == [StartTimer("deadline:r1", 1.0)]
    env.drained("r1", 1)
    # Answered, never back for more: the second look ends the environment.
    assert Kill() in env.timer_fired("deadline:r1")


def test_a_runtime_that_cannot_start_fails_what_waits_and_what_comes(clock: FakeClock) -> None:
    env = make(clock, max_concurrency=2)
    env.start()
    env.deliver(invocation("a"))
    effects = env.start_failed("[Errno 2] No such file or directory")
    assert Retire() in effects
    later = env.deliver(invocation("b"))
    for rid, found in (("a", effects), ("b", later)):
        (complete,) = of(Complete, found)
        assert isinstance(complete, Complete)
        assert json.loads(complete.outcome.body) == {
            "errorType": "Runtime.InvalidEntrypoint",
            "errorMessage": f"RequestId: {rid} Error: Couldn't start the runtime: "
            "[Errno 2] No such file or directory",
        }


def test_the_deadline_is_set_before_the_hand_out(clock: FakeClock) -> None:
    env = make(clock)
    env.start()
    env.next_requested(1, None)
    effects = env.deliver(invocation("r1"))
    assert [type(e) for e in effects] == [StartTimer, HandOut]


def test_lines_go_to_the_invocation_of_their_process_or_to_none(clock: FakeClock) -> None:
    env = two_workers(clock, "req-a", "req-b")

    def owner(text: str, pid: int | None = None) -> str | None:
        (line,) = events(env.output(text, pid))
        assert isinstance(line, LogLine)
        return line.request_id

    assert owner("from worker 12", 12) == "req-b"
    assert owner("shared stdout: whose?") is None
    assert owner("[INFO]\t2026-01-01T00:00:00.000Z\treq-a\tnamed") == "req-a"


def test_a_runtime_that_exits_mid_invocation_is_an_exit_error(clock: FakeClock) -> None:
    env = running(clock)
    effects = env.process_exited("exit status 3")
    assert effects == [Drain("r1"), CancelTimer("init"), Retire()]
    effects = env.drained("r1", 1)
    line = events(effects)[0]
    assert isinstance(line, LogLine)
    assert line.text == "RequestId: r1 Error: Runtime exited with error: exit status 3"
    assert error_type(effects) == "Runtime.ExitError"


def test_a_runtime_that_exits_between_invocations_is_retired(clock: FakeClock) -> None:
    env = running(clock)
    env.posted("r1", False, b"1", "application/json")
    env.drained("r1", 1)
    env.next_requested(2, None)
    effects = env.process_exited("signal: segmentation fault")
    line = events(effects)[0]
    assert isinstance(line, LogLine)
    assert (
        line.text == "Runtime exited with error: signal: segmentation fault (between invocations)"
    )
    assert Retire() in effects


def test_an_init_error_fails_the_waiting_invocation_with_the_runtimes_body(
    clock: FakeClock,
) -> None:
    env = make(clock)
    env.start()
    env.deliver(invocation("r1"))
    clock.advance(0.1)
    answer, effects = env.init_error("Runtime.ImportModuleError", b'{"errorType": "x"}')
    assert answer is PostAnswer.ACCEPTED
    (report,) = events(effects)
    assert report == InitReport(WHERE, pytest.approx(100.0), "error", "Runtime.ImportModuleError")  # type: ignore[arg-type]
    (complete,) = of(Complete, effects)
    assert isinstance(complete, Complete)
    assert complete.outcome.body == b'{"errorType": "x"}'
    assert Retire() in effects
    assert env.init_error("again", b"") == (PostAnswer.ALREADY_ENDED, [])


def test_init_that_does_not_end_in_time_is_a_timeout(clock: FakeClock) -> None:
    env = make(clock)
    env.start()
    env.deliver(invocation("r1"))
    clock.advance(10.0)
    effects = env.timer_fired("init")
    assert Kill() in effects and Retire() in effects
    assert error_type(effects) == "Sandbox.Timedout"
    assert env.timer_fired("init") == []


def test_over_its_memory_size_the_runtime_is_killed_as_out_of_memory(clock: FakeClock) -> None:
    env = running(clock)
    assert env.memory(rss_mb=120, peak_mb=120) == []
    effects = env.memory(rss_mb=400, peak_mb=400)
    assert effects[:2] == [Kill(), Drain("r1")]
    effects = env.drained("r1", 400)
    line, ended = events(effects)[:2]
    assert isinstance(line, LogLine)
    assert line.text == "RequestId: r1 Error: Runtime exited with error: signal: killed"
    assert isinstance(ended, InvokeEnded)
    assert (ended.error_type, ended.max_memory_used_mb) == ("Runtime.OutOfMemory", 400)
    assert error_type(effects) == "Runtime.OutOfMemory"


def test_an_event_that_never_reached_the_runtime_goes_back_first(clock: FakeClock) -> None:
    env = make(clock)
    env.start()
    env.deliver(invocation("r1"))
    env.next_requested(1, None)
    assert env.not_delivered("r1") == [CancelTimer("deadline:r1")]
    assert env.sent("r1") == []
    (handout,) = of(HandOut, env.next_requested(2, None))
    assert isinstance(handout, HandOut)
    assert (handout.waiter, handout.invocation.request_id) == (2, "r1")


def test_a_gone_waiter_is_never_handed_an_event(clock: FakeClock) -> None:
    env = make(clock, max_concurrency=2)
    env.start()
    env.next_requested(1, None)
    env.next_requested(2, None)
    env.waiter_gone(1)
    (handout,) = of(HandOut, env.deliver(invocation("r1")))
    assert isinstance(handout, HandOut)
    assert handout.waiter == 2


def test_asking_for_more_without_answering_is_no_response(clock: FakeClock) -> None:
    env = running(clock)
    effects = env.next_requested(2, None)
    assert Drain("r1") in effects
    effects = env.drained("r1", 1)
    assert error_type(effects) == "Runtime.NoResponse"
    assert FreeSlot() in effects


def test_a_response_over_the_limit_is_a_function_error_and_a_413(clock: FakeClock) -> None:
    env = running(clock)
    answer, effects = env.post_too_large("r1", 7_000_000)
    assert (answer, effects) == (PostAnswer.TOO_LARGE, [Drain("r1")])
    (complete,) = of(Complete, env.drained("r1", 1))
    assert isinstance(complete, Complete)
    assert json.loads(complete.outcome.body) == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size (7000000 bytes) exceeded maximum allowed "
        "payload size (6291556 bytes).",
    }


def test_shutdown_ends_everything_held_and_queued(clock: FakeClock) -> None:
    env = running(clock, max_concurrency=2)
    env.deliver(invocation("r2"))  # queued: no runtime waiting for it
    effects = env.shutdown()
    assert outcomes(effects) == {"r2": OutcomeKind.SHUTDOWN}
    assert Drain("r1") in effects and Retire() in effects
    assert outcomes(env.drained("r1", 1)) == {"r1": OutcomeKind.SHUTDOWN}
    assert outcomes(env.deliver(invocation("r3"))) == {"r3": OutcomeKind.EXIT}


def test_a_runtime_that_never_comes_back_is_killed_at_the_deadline(clock: FakeClock) -> None:
    env = running(clock)
    env.posted("r1", False, b"1", "application/json")
    env.drained("r1", 1)
    effects = env.timer_fired("deadline:r1")
    line = events(effects)[0]
    assert isinstance(line, LogLine)
    assert line.text == "r1: the runtime did not ask for the next event in time"
    assert Kill() in effects and Retire() in effects
