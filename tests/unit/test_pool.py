"""ric.pool.Pool: which exited workers are replaced, when, and the supervisor's status."""

from __future__ import annotations

import signal

import pytest

from ric.pool import INIT_FAILED, Pool, describe


def started(size: int, now: float = 0.0) -> Pool:
    """A pool whose workers in slots 1..size have pids 101, 102, ..."""
    pool = Pool(size, quick=1.0, first_delay=0.1, max_delay=0.4)
    for slot in pool.slots:
        pool.started(slot, 100 + slot, now)
    return pool


def test_a_worker_killed_by_a_signal_is_replaced_at_once() -> None:
    pool = started(2)
    verdict = pool.exited(102, -signal.SIGKILL, now=30.0)
    assert verdict is not None
    assert (verdict.slot, verdict.level, verdict.delay) == (2, "WARNING", 0.0)
    assert verdict.message == "worker 2 (pid 102) died of SIGKILL; starting a new one"
    assert pool.exit_code() is None
    pool.started(2, 200, 30.0)
    assert sorted(pool.pids) == [101, 200]


def test_a_crash_status_is_replaced() -> None:
    verdict = started(2).exited(101, 3, now=30.0)
    assert verdict is not None
    assert verdict.message == "worker 1 (pid 101) exited with status 3; starting a new one"


def test_quick_deaths_in_a_row_back_off_up_to_the_cap() -> None:
    pool = started(1)
    delays = []
    for attempt in range(5):
        now = float(attempt)
        verdict = pool.exited(pool.pids[0], -signal.SIGSEGV, now + 0.5)
        assert verdict is not None
        delays.append(verdict.delay)
        pool.started(1, 300 + attempt, now + 1.0)
    assert delays == [0.1, 0.2, 0.4, 0.4, 0.4]
    assert "starting a new one in 0.4 s" in (verdict.message if verdict else "")


def test_a_worker_that_lived_resets_the_backoff() -> None:
    pool = started(1)
    pool.exited(101, -signal.SIGSEGV, 0.5)
    pool.started(1, 102, 1.0)
    verdict = pool.exited(102, -signal.SIGSEGV, 60.0)
    assert verdict is not None and verdict.delay == 0.0


def test_init_failures_are_not_replaced_and_the_last_one_sets_status_1() -> None:
    pool = started(3)
    for pid in (101, 102):
        verdict = pool.exited(pid, INIT_FAILED, 0.1)
        assert verdict is not None and verdict.delay is None
        assert pool.exit_code() is None
    verdict = pool.exited(103, INIT_FAILED, 0.1)
    assert verdict is not None
    assert verdict.message == "worker 3 (pid 103): init failed; not replacing it"
    assert pool.exit_code() == 1


@pytest.mark.parametrize("status", [0, 1])
def test_a_worker_the_function_ended_is_replaced(status: int) -> None:
    # sys.exit(0) or sys.exit(1) in a handler, or the Runtime API gone for good.
    pool = started(2)
    verdict = pool.exited(101, status, 5.0)
    assert verdict is not None and verdict.delay == 0.0
    assert verdict.message == f"worker 1 (pid 101) exited with status {status}; starting a new one"
    assert pool.exit_code() is None


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_stopping_replaces_nothing_and_ends_with_the_signals_status(
    signum: signal.Signals, status: int
) -> None:
    pool = started(2)
    assert sorted(pool.stop(signum)) == [101, 102]
    assert pool.exited(101, -signum, 1.0) is None
    assert pool.exit_code() is None
    assert pool.exited(102, 1, 1.0) is None
    assert pool.exit_code() == status


def test_a_replacement_owed_keeps_the_pool_open_until_stopped() -> None:
    pool = started(1)
    pool.exited(101, -signal.SIGKILL, 0.1)
    assert pool.exit_code() is None  # the supervisor has yet to start its replacement
    pool.stop(signal.SIGTERM)
    assert pool.exit_code() == 0


def test_an_unknown_pid_is_ignored() -> None:
    pool = started(1)
    assert pool.exited(999, -signal.SIGKILL, 1.0) is None
    assert pool.pids == [101]


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (-9, "died of SIGKILL"),
        (-15, "died of SIGTERM"),
        (-77, "died of signal 77"),
        (3, "exited with status 3"),
    ],
)
def test_describe(status: int, text: str) -> None:
    assert describe(status) == text
