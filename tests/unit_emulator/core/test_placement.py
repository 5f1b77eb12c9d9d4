"""emulator.core.placement: slots, throttling as a value, the line in arrival order."""

from __future__ import annotations

from emulator.core.placement import (
    ACCOUNT_LIMIT,
    RESERVED_LIMIT,
    Granted,
    Placement,
    Queued,
    Throttled,
)


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


class Limit:
    """A shared limit over placements, as the registry's gate sums them."""

    def __init__(self, limit: int | None, reason: str = RESERVED_LIMIT) -> None:
        self.limit = limit
        self.reason = reason
        self.placements: list[Placement] = []

    def placement(self, capacity: int, slots: int = 1) -> Placement:
        placement = Placement(capacity, slots, self.gate)
        self.placements.append(placement)
        return placement

    def gate(self) -> Throttled | None:
        if self.limit is None or sum(p.held for p in self.placements) < self.limit:
            return None
        return Throttled(self.limit, self.reason)


def test_a_shared_limit_caps_the_invocations_in_flight() -> None:
    limit = Limit(3)
    placement = limit.placement(capacity=10, slots=2)
    assert [placement.request(n, wait=False) for n in (1, 2, 3)] == [
        Granted(1, True),
        Granted(1, False),
        Granted(2, True),
    ]
    assert placement.request(4, wait=False) == Throttled(3, RESERVED_LIMIT)
    assert placement.request(5, wait=True) == Queued()
    assert placement.release(1, now=0.0) == [(5, Granted(1, False))]


def test_a_limit_of_zero_throttles_everything_and_raising_it_serves_the_line() -> None:
    limit = Limit(0)
    placement = limit.placement(capacity=2)
    assert placement.request(1, wait=False) == Throttled(0, RESERVED_LIMIT)
    assert placement.request(2, wait=True) == Queued()
    limit.limit = 1
    assert placement.serve() == [(2, Granted(1, True))]
    limit.limit = None
    assert placement.serve() == []
    assert placement.request(3, wait=False) == Granted(2, True)
    # At its own capacity: the account's reason, the placement's limit.
    assert placement.request(4, wait=False) == Throttled(2, ACCOUNT_LIMIT)


def test_two_placements_share_one_limit() -> None:
    limit = Limit(2, ACCOUNT_LIMIT)
    one, other = limit.placement(capacity=5), limit.placement(capacity=5)
    assert one.request(1, wait=False) == Granted(1, True)
    assert other.request(1, wait=False) == Granted(1, True)
    assert one.request(2, wait=False) == Throttled(2, ACCOUNT_LIMIT)
    assert one.request(3, wait=True) == Queued()
    assert other.release(1, now=0.0) == []  # room, but in the other placement's line
    assert one.serve() == [(3, Granted(2, True))]


def test_provisioned_environments_serve_first_then_invocations_spill_over() -> None:
    limit = Limit(3)
    placement = limit.placement(capacity=5)
    assert placement.provision(2) == [1, 2]
    assert placement.held == 2  # provisioned slots are held, busy or not
    assert [placement.initialised(env) for env in (1, 2)] == [[], []]
    assert placement.request(9, wait=False) == Granted(1, False)  # no new one started
    assert placement.request(10, wait=False) == Granted(2, False)
    assert placement.provisioned == [1, 2]
    assert placement.request(11, wait=False) == Granted(3, True)  # spill-over, on demand
    assert placement.held == 3
    assert placement.request(12, wait=False) == Throttled(3, RESERVED_LIMIT)
    placement.release(2, now=0.0)
    placement.release(3, now=0.0)
    assert placement.request(13, wait=False) == Granted(2, False)  # provisioned first again
    assert placement.idle(now=1000.0, idle_s=1.0) == [3]  # never a provisioned one


def test_until_its_init_ends_a_provisioned_environment_serves_nothing() -> None:
    placement = Placement(capacity=5)
    assert placement.request(1, wait=False) == Granted(1, True)  # on demand, warm after
    placement.release(1, now=0.0)
    assert placement.provision(1) == [2]
    assert placement.request(2, wait=False) == Granted(1, False)  # not the initialising one
    assert placement.request(3, wait=False) == Granted(3, True)  # another on demand
    assert placement.ready == 0
    placement.initialised(2)
    assert (placement.ready, placement.request(4, wait=False)) == (1, Granted(2, False))


def test_lowering_provisioned_concurrency_drains_idle_ones_first() -> None:
    placement = Placement(capacity=1)
    placement.provision(3)
    for env in (1, 2, 3):
        placement.initialised(env)
    assert placement.request(1, wait=False) == Granted(1, False)
    assert placement.surplus(1) == [3, 2]  # idle, newest first; busy 1 stays
    assert placement.surplus(3) == []
    assert placement.drain(1) == 1
    assert (placement.provisioned, placement.ready) == ([2, 3], 2)
    assert placement.held == 3  # env 1's invocation still runs, and two held slots
    placement.release(1, now=0.0)
    assert (placement.in_flight(1), placement.held) == (0, 2)


def test_a_drained_environment_gets_nothing_new_and_frees_its_room() -> None:
    placement = Placement(capacity=1)
    assert placement.request(1, wait=False) == Granted(1, True)
    assert placement.environments == [1]
    assert placement.drain(1) == 1  # one invocation still in flight there
    assert placement.environments == []
    assert placement.request(2, wait=False) == Granted(2, True)  # a new one, not env 1
    assert placement.release(1, now=0.0) == []  # env 1's end changes nothing here
    assert placement.drain(7) == 0
