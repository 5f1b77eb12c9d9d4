"""The invocations one environment holds, and those it has lately ended.

:class:`~emulator.core.lifecycle.Lifecycle` decides; this ledger answers what
it asks about them: which one a post may end, whose log a line belongs in,
which one a platform error names.
"""

from __future__ import annotations

import collections
import enum
from dataclasses import dataclass, field

from emulator.core.effects import PostAnswer
from emulator.core.invocation import Invocation, Outcome, OutcomeKind

__all__ = ["Held", "Ledger", "State"]


class State(enum.Enum):
    RUNNING = "running"  # handed to the runtime, not ended
    STREAMING = "streaming"  # its response is being streamed
    ENDING = "ending"  # outcome decided; its output is being forwarded
    DONE = "done"  # completed; its slot comes back when the runtime does


@dataclass
class Held:
    invocation: Invocation
    pid: int | None
    started: float
    deadline_ms: int
    state: State = State.RUNNING
    outcome: Outcome | None = None
    ended: float = 0.0
    slot_owed: bool = True  # the runtime has not come back for this slot yet
    notes: list[str] = field(default_factory=list)  # platform lines before END

    @property
    def request_id(self) -> str:
        return self.invocation.request_id

    @property
    def open(self) -> bool:
        """Not ended yet: running, or streaming its response."""
        return self.state is State.RUNNING or self.state is State.STREAMING

    @property
    def answered(self) -> bool:
        return not self.open


class Ledger:
    """Held invocations by request id, and the kinds of the last ``kept`` endings."""

    def __init__(self, kept: int) -> None:
        self._kept = kept
        self._held: dict[str, Held] = {}
        self._ended: collections.OrderedDict[str, OutcomeKind] = collections.OrderedDict()

    def __bool__(self) -> bool:
        return bool(self._held)

    def __getitem__(self, request_id: str) -> Held:
        return self._held[request_id]

    def __setitem__(self, request_id: str, held: Held) -> None:
        self._held[request_id] = held

    def __delitem__(self, request_id: str) -> None:
        del self._held[request_id]

    def get(self, request_id: str) -> Held | None:
        return self._held.get(request_id)

    def values(self) -> list[Held]:
        return list(self._held.values())

    def items(self) -> list[tuple[str, Held]]:
        return list(self._held.items())

    def refusal(self, request_id: str) -> PostAnswer | None:
        """None when a post may end ``request_id`` (it runs); else the Runtime API's answer."""
        held = self._held.get(request_id)
        if held is None:
            kind = self._ended.get(request_id)
            if kind is None:
                return PostAnswer.UNKNOWN_REQUEST_ID
        elif held.state is State.RUNNING:
            return None
        else:
            kind = held.outcome.kind if held.outcome else OutcomeKind.ERROR
        return PostAnswer.TIMED_OUT if kind is OutcomeKind.TIMEOUT else PostAnswer.ALREADY_ENDED

    def stream_refusal(self, request_id: str) -> PostAnswer | None:
        """None when ``request_id`` streams its response; else why its end is refused."""
        held = self._held.get(request_id)
        if held is not None and held.state is State.STREAMING:
            return None
        return self.refusal(request_id) or PostAnswer.ALREADY_ENDED

    def remember(self, request_id: str, kind: OutcomeKind) -> None:
        self._ended[request_id] = kind
        while len(self._ended) > self._kept:
            self._ended.popitem(last=False)

    def owner(self, text: str, pid: int | None) -> str | None:
        """Whose log a line belongs in: never another invocation's."""
        live = [h for h in self._held.values() if h.state is not State.DONE]
        if pid is not None:
            mine = [h for h in live if h.pid == pid]
            if mine:
                return mine[0].request_id
        if len(live) == 1:
            return live[0].request_id
        named = [h for h in live if h.request_id in text]
        return named[0].request_id if len(named) == 1 else None
