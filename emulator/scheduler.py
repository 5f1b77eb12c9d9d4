"""Which environment serves an invocation, within a function's concurrency: no I/O.

An invocation gets a free slot in the most recently used environment (the
warmest), or a new environment while the function is under its limit; beyond
it the caller gets ``429 TooManyRequestsException``, as Lambda answers a
throttled invoke. An environment has one slot, or several in the
multi-concurrency mode of Lambda Managed Instances.
"""

from __future__ import annotations

import enum

from emulator.errors import ApiError

__all__ = ["EnvState", "Pool"]


class EnvState(enum.Enum):
    BUSY = "busy"  # starting, or serving at least one invocation
    IDLE = "idle"


class Pool:
    """The environments of one function, by id, and how many invocations each holds."""

    def __init__(self, function_name: str, capacity: int, slots: int = 1) -> None:
        self.function_name = function_name
        self.capacity = capacity
        self.slots = slots
        self._load: dict[int, int] = {}
        self._recent: list[int] = []  # least recently used first
        self._next_id = 1

    def acquire(self) -> tuple[int, bool]:
        """``(environment id, is new)``; raises the 429 answer at the limit."""
        for env_id in reversed(self._recent):
            if self._load[env_id] < self.slots:
                self._load[env_id] += 1
                return env_id, False
        if len(self._load) >= self.capacity:
            raise ApiError(
                429,
                "TooManyRequestsException",
                f"Rate Exceeded. {self.function_name} is at its concurrency limit "
                f"of {self.capacity * self.slots}",
            )
        env_id = self._next_id
        self._next_id += 1
        self._load[env_id] = 1
        self._recent.append(env_id)  # its other slots, if any, are free at once
        return env_id, True

    def release(self, env_id: int) -> None:
        """An invocation in the environment ended; its slot is free again."""
        if self._load.get(env_id, 0) > 0:
            self._load[env_id] -= 1
            if env_id in self._recent:
                self._recent.remove(env_id)
            self._recent.append(env_id)

    def retire(self, env_id: int) -> None:
        """The environment is gone (shut down, timed out, crashed)."""
        self._load.pop(env_id, None)
        if env_id in self._recent:
            self._recent.remove(env_id)

    def state(self, env_id: int) -> EnvState | None:
        if env_id not in self._load:
            return None
        return EnvState.BUSY if self._load[env_id] else EnvState.IDLE

    @property
    def size(self) -> int:
        return len(self._load)
