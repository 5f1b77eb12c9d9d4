"""emulator.state and emulator.scheduler: invocation lifecycle and environment pool, no I/O."""

from __future__ import annotations

import re

import pytest

from emulator.errors import ApiError
from emulator.scheduler import EnvState, Pool
from emulator.state import Held, Invocation, Outcome, Phase, check_post, new_trace_id


def test_invocation_lifecycle_first_outcome_wins() -> None:
    invocation = Invocation(b"{}")
    assert invocation.phase is Phase.QUEUED
    invocation.start(3.0)
    assert invocation.phase is Phase.RUNNING
    assert invocation.deadline_ms > 0
    assert invocation.finish(Outcome("response", b"1"))
    assert not invocation.finish(Outcome("timeout", b"late", function_error="Unhandled"))
    assert invocation.outcome == Outcome("response", b"1")
    assert invocation.duration_ms >= 0


def test_ids_are_unique_and_trace_ids_are_xray_shaped() -> None:
    first, second = Invocation(b"{}"), Invocation(b"{}")
    assert first.request_id != second.request_id
    assert re.fullmatch(
        r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1", new_trace_id()
    )


def running(request_id: str = "req-1") -> Invocation:
    invocation = Invocation(b"{}", request_id=request_id)
    invocation.start(3.0)
    return invocation


@pytest.mark.parametrize(
    ("current", "posted", "status", "error_type"),
    [
        (None, "req-1", 400, "InvalidRequestID"),
        ("req-1", "req-2", 400, "InvalidRequestID"),
    ],
)
def test_post_for_an_unknown_request_id(
    current: str | None, posted: str, status: int, error_type: str
) -> None:
    with pytest.raises(ApiError) as info:
        check_post(running(current) if current else None, posted)
    assert (info.value.status, info.value.error_type) == (status, error_type)


def test_second_post_is_an_invalid_state_transition() -> None:
    invocation = running()
    assert check_post(invocation, "req-1") is invocation
    invocation.finish(Outcome("response", b"{}"))
    with pytest.raises(ApiError) as info:
        check_post(invocation, "req-1")
    assert (info.value.status, info.value.error_type) == (403, "InvalidStateTransition")


def test_post_after_a_timeout_is_gone() -> None:
    invocation = running()
    invocation.finish(Outcome("timeout", b"{}", function_error="Unhandled"))
    with pytest.raises(ApiError) as info:
        check_post(invocation, "req-1")
    assert info.value.status == 410


def test_pool_prefers_the_warmest_idle_environment() -> None:
    pool = Pool("fn", capacity=3)
    assert pool.acquire() == (1, True)
    assert pool.acquire() == (2, True)
    pool.release(1)
    pool.release(2)
    assert pool.acquire() == (2, False)  # released last: the warmest
    assert pool.state(2) is EnvState.BUSY
    assert pool.state(1) is EnvState.IDLE


def test_pool_throttles_at_capacity_and_frees_on_retire() -> None:
    pool = Pool("fn", capacity=1)
    pool.acquire()
    with pytest.raises(ApiError) as info:
        pool.acquire()
    assert (info.value.status, info.value.error_type) == (429, "TooManyRequestsException")
    pool.retire(1)
    assert pool.size == 0
    assert pool.acquire() == (2, True)


def test_release_of_an_unknown_or_idle_environment_is_ignored() -> None:
    pool = Pool("fn", capacity=2)
    pool.release(7)
    env_id, _ = pool.acquire()
    pool.release(env_id)
    pool.release(env_id)
    assert pool.acquire() == (env_id, False)
    assert pool.acquire() == (2, True)


def test_multi_concurrency_fills_an_environments_slots_first() -> None:
    pool = Pool("fn", capacity=2, slots=2)
    assert pool.acquire() == (1, True)
    assert pool.acquire() == (1, False)  # the second slot of the first environment
    assert pool.acquire() == (2, True)
    assert pool.acquire() == (2, False)
    with pytest.raises(ApiError) as info:
        pool.acquire()
    assert "limit of 4" in info.value.message
    pool.release(1)
    assert pool.state(1) is EnvState.BUSY  # one of its two invocations still runs
    pool.release(1)
    assert pool.state(1) is EnvState.IDLE
    assert pool.acquire() == (1, False)


def test_held_answered_slots_come_back_only_when_the_runtime_returns() -> None:
    held = Held()
    first, second = Invocation(b"{}"), Invocation(b"{}")
    held.start(first, 3.0)
    held.start(second, 3.0)
    assert held.posted(first.request_id) is first
    held.answered(first, Outcome("response", b"1"))
    assert held.owed == [first]
    assert list(held.running) == [second.request_id]
    assert held.returned() is first
    assert held.returned() is None


def test_held_refuses_late_and_unknown_posts() -> None:
    held = Held()
    invocation = Invocation(b"{}")
    held.start(invocation, 3.0)
    held.answered(invocation, Outcome("response", b"1"))
    with pytest.raises(ApiError) as twice:
        held.posted(invocation.request_id)
    timed_out = Invocation(b"{}")
    held.start(timed_out, 3.0)
    assert held.record(timed_out, Outcome("timeout", b"", function_error="Unhandled"))
    assert not held.record(timed_out, Outcome("response", b"late"))
    with pytest.raises(ApiError) as late:
        held.posted(timed_out.request_id)
    with pytest.raises(ApiError) as unknown:
        held.posted("nobody")
    assert [twice.value.status, late.value.status, unknown.value.status] == [403, 410, 400]


def test_held_forgets_old_endings() -> None:
    held = Held()
    invocations = [Invocation(b"{}") for _ in range(Held.ENDED_KEPT + 1)]
    for invocation in invocations:
        held.start(invocation, 3.0)
        held.record(invocation, Outcome("response", b""))
    assert invocations[0].request_id not in held.ended
    assert invocations[-1].request_id in held.ended
    assert held.release_owed() == []
