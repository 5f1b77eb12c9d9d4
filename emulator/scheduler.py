"""Which environment serves an invocation, within a function's concurrency: no I/O.

An invocation gets the most recently used idle environment (the warmest), or a
new one while the function is under its limit; beyond it the caller gets
``429 TooManyRequestsException``, as Lambda answers a throttled invoke.
"""

from __future__ import annotations

import enum

from emulator.errors import ApiError

__all__ = ["EnvState", "Pool"]


class EnvState(enum.Enum):
    BUSY = "busy"  # starting, or serving an invocation
    IDLE = "idle"


class Pool:
    """The environments of one function, by id."""

    def __init__(self, function_name: str, capacity: int) -> None:
        self.function_name = function_name
        self.capacity = capacity
        self._states: dict[int, EnvState] = {}
        self._idle: list[int] = []  # least recently used first
        self._next_id = 1

    def acquire(self) -> tuple[int, bool]:
        """``(environment id, is new)``; raises the 429 answer at the limit."""
        if self._idle:
            env_id = self._idle.pop()
            self._states[env_id] = EnvState.BUSY
            return env_id, False
        if len(self._states) >= self.capacity:
            raise ApiError(
                429,
                "TooManyRequestsException",
                f"Rate Exceeded. {self.function_name} is at its concurrency limit "
                f"of {self.capacity}",
            )
        env_id = self._next_id
        self._next_id += 1
        self._states[env_id] = EnvState.BUSY
        return env_id, True

    def release(self, env_id: int) -> None:
        """The environment finished its invocation and may take another."""
        if self._states.get(env_id) is EnvState.BUSY:
            self._states[env_id] = EnvState.IDLE
            self._idle.append(env_id)

    def retire(self, env_id: int) -> None:
        """The environment is gone (shut down, timed out, crashed)."""
        self._states.pop(env_id, None)
        if env_id in self._idle:
            self._idle.remove(env_id)

    def state(self, env_id: int) -> EnvState | None:
        return self._states.get(env_id)

    @property
    def size(self) -> int:
        return len(self._states)
