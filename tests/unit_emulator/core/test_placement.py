"""emulator.core.placement: slots, throttling as a value, the line in arrival order."""

from __future__ import annotations

from emulator.core.placement import Granted, Placement, Queued, Throttled


def test_the_warmest_environment_with_a_free_slot_serves_first() -> None:
    placement = Placement(capacity=3)
    assert placement.request(1, wait=False) == Granted(1, True)
    assert placement.request(2, wait=False) == Granted(2, True)
    placement.release(1, now=0.0)
    placement.release(2, now=1.0)
    assert placement.request(3, wait=False) == Granted(2, False)  # used last: warmest


def test_at_the_limit_a_caller_is_throttled_unless_it_may_wait() -> None:
    placement = Placement(capacity=1, slots=2)
    assert placement.request(1, wait=False) == Granted(1, True)
    assert placement.request(2, wait=False) == Granted(1, False)
    assert placement.request(3, wait=False) == Throttled(limit=2)
    assert placement.request(4, wait=True) == Queued()


def test_waiters_get_freed_slots_in_arrival_order() -> None:
    placement = Placement(capacity=1)
    placement.request(1, wait=False)
    for waiter in (2, 3, 4):
        assert placement.request(waiter, wait=True) == Queued()
    placement.cancel(3)
    assert placement.release(1, now=0.0) == [(2, Granted(1, False))]
    # Nobody jumps the line while it is not empty.
    assert placement.request(5, wait=False) == Throttled(limit=1)
    assert placement.retire(1) == [(4, Granted(2, True))]


def test_idle_environments_are_found_by_their_idle_time() -> None:
    placement = Placement(capacity=2)
    placement.request(1, wait=False)
    placement.request(2, wait=False)
    placement.release(1, now=10.0)
    assert placement.idle(now=15.0, idle_s=10.0) == []
    assert placement.idle(now=20.0, idle_s=10.0) == [1]
    placement.request(3, wait=False)  # busy again
    assert placement.idle(now=30.0, idle_s=10.0) == []


def test_reserved_concurrency_caps_the_invocations_in_flight() -> None:
    placement = Placement(capacity=10, slots=2)
    placement.reserve(3)
    assert [placement.request(n, wait=False) for n in (1, 2, 3)] == [
        Granted(1, True),
        Granted(1, False),
        Granted(2, True),
    ]
    assert placement.request(4, wait=False) == Throttled(limit=3, reserved=True)
    assert placement.request(5, wait=True) == Queued()
    assert placement.release(1, now=0.0) == [(5, Granted(1, False))]


def test_reserved_zero_throttles_everything_and_raising_it_serves_the_line() -> None:
    placement = Placement(capacity=2)
    placement.reserve(0)
    assert placement.request(1, wait=False) == Throttled(limit=0, reserved=True)
    assert placement.request(2, wait=True) == Queued()
    assert placement.reserve(1) == [(2, Granted(1, True))]
    assert placement.reserve(None) == []
    assert placement.request(3, wait=False) == Granted(2, True)
    assert placement.request(4, wait=False) == Throttled(limit=2, reserved=False)


def test_a_drained_environment_gets_nothing_new_and_frees_its_room() -> None:
    placement = Placement(capacity=1)
    assert placement.request(1, wait=False) == Granted(1, True)
    assert placement.environments == [1]
    assert placement.drain(1) == 1  # one invocation still in flight there
    assert placement.environments == []
    assert placement.request(2, wait=False) == Granted(2, True)  # a new one, not env 1
    assert placement.release(1, now=0.0) == []  # env 1's end changes nothing here
    assert placement.drain(7) == 0
