"""One execution environment's rules, without I/O: events in, effects out.

The environment's driver feeds it what happened (the runtime asked for the next
event, posted a result or an init error, its output produced a line, its process
exited, a timer fired, a memory sample came in, an invocation was placed here)
and carries out the effects it returns, in order: hand an event to a waiting
``GET /next``, complete an invocation for its caller, give a slot back, kill the
process, start or cancel a timer, forward the output written so far, emit a
lifecycle event. The clock is passed in.

The rules are the Runtime API's ("Using the Lambda runtime API for custom
runtimes": https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) and
the execution environment's ("Understanding the Lambda execution environment
lifecycle": https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html):

- Init ends at the runtime's first ``GET /next`` (or its init error); it may
  last ``init_limit_s``.
- A slot is taken when an invocation is placed here and comes back only when the
  runtime asks for the next event after answering: until then the environment is
  busy, as in Lambda, and a runtime that never comes back is killed at the
  invocation's deadline.
- An invocation ends once: the first of its post, its deadline, the process's
  exit, a memory overrun or the shutdown decides its outcome. Its output is
  forwarded (``Drain``) before its END line, so what the handler wrote comes first.
- With ``max_concurrency`` above 1 (Lambda Managed Instances) a timeout fails
  only that invocation; the environment and the invocations beside it go on.
- A streamed response ("Response streaming", runtimes-custom.html) is answering
  from its first bytes to its last chunk: the deadline still applies, a second
  post is refused, and a connection that ends before the last chunk fails the
  invocation with ``Runtime.TruncatedResponse``.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from emulator.core import failures
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
from emulator.core.held import Held, Ledger, State
from emulator.core.invocation import Invocation, Outcome, OutcomeKind

__all__ = ["RESPONSE_LIMIT", "Clock", "Lifecycle", "Limits"]

# Lambda's own figure in its error message: 6 MB and 100 bytes of framing.
RESPONSE_LIMIT = 6 * 1024 * 1024 + 100
INIT = "init"


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def time(self) -> float: ...


@dataclass(frozen=True)
class Limits:
    """What one environment of a function runs under."""

    timeout_s: float
    memory_mb: int
    max_concurrency: int = 1
    init_limit_s: float = 10.0  # on-demand init, as Lambda limits it
    response_limit: int = RESPONSE_LIMIT
    # Initialised ahead of any invocation (provisioned concurrency): no REPORT of its
    # carries an Init Duration, as none of its invocations waited for the init.
    provisioned: bool = False


class Lifecycle:
    """The state of one execution environment; every method returns the effects to carry out."""

    ENDED_KEPT = 64  # recent endings kept, so a late post gets 403 or 410, not 400

    def __init__(self, where: Where, limits: Limits, clock: Clock) -> None:
        self.where = where
        self.limits = limits
        self._clock = clock
        self._started = clock.monotonic()
        self.init_ms: float | None = None
        self._init_reported = limits.provisioned
        self.retired = False
        self._killed = False
        self._start_error: str | None = None
        self._queue: collections.deque[Invocation] = collections.deque()
        self._waiters: dict[int, int | None] = {}  # waiter -> the pid that asked, if known
        self._held = Ledger(self.ENDED_KEPT)
        self.peak_mb = 1

    # -- what the driver reads ---------------------------------------------------

    @property
    def initialized(self) -> bool:
        return self.init_ms is not None

    @property
    def returning(self) -> bool:
        """Answered an invocation, not yet back for the next: a slot is on its way."""
        return any(h.slot_owed and h.answered for h in self._held.values())

    @property
    def busy(self) -> bool:
        return bool(self._queue or self._held)

    # -- events in -----------------------------------------------------------------

    def start(self) -> list[Effect]:
        return [StartTimer(INIT, self.limits.init_limit_s)]

    def deliver(self, invocation: Invocation) -> list[Effect]:
        """An invocation placed here (its slot is taken)."""
        if self._start_error is not None:
            outcome = failures.entrypoint(invocation.request_id, self._start_error)
            return [Complete(invocation, outcome)]
        if self.retired:
            return [Complete(invocation, failures.environment_gone(invocation.request_id))]
        self._queue.append(invocation)
        return self._hand_out()

    def next_requested(self, waiter: int, pid: int | None) -> list[Effect]:
        """The runtime's ``GET /next``, waiter number ``waiter``, from process ``pid`` if known."""
        effects: list[Effect] = []
        if self.init_ms is None:
            self.init_ms = (self._clock.monotonic() - self._started) * 1000
            effects.append(CancelTimer(INIT))
        if self.limits.max_concurrency == 1:
            effects += self._no_response()
        effects += self._came_back(pid)
        self._waiters[waiter] = pid
        return effects + self._hand_out()

    def waiter_gone(self, waiter: int) -> list[Effect]:
        """A ``GET /next`` whose connection closed before it was answered."""
        self._waiters.pop(waiter, None)
        return []

    def sent(self, request_id: str) -> list[Effect]:
        """The event reached the runtime's connection: the invocation has started."""
        held = self._held.get(request_id)
        if held is None:
            return []
        return [Emit(InvokeStarted(self.where, request_id, held.invocation.tail))]

    def not_delivered(self, request_id: str) -> list[Effect]:
        """The connection went away before the event was written: it goes back first in line."""
        held = self._held.get(request_id)
        if held is None or held.state is not State.RUNNING:
            return []
        del self._held[request_id]
        self._queue.appendleft(held.invocation)
        return [CancelTimer(_deadline(request_id)), *self._hand_out()]

    def posted(
        self, request_id: str, error: bool, body: bytes, content_type: str
    ) -> tuple[PostAnswer, list[Effect]]:
        """``POST /invocation/{id}/response`` (``error`` False) or ``/error``."""
        refusal = self._held.refusal(request_id)
        if refusal is not None:
            return refusal, []
        if error:
            outcome = Outcome(OutcomeKind.ERROR, body)
        else:
            outcome = Outcome(OutcomeKind.RESPONSE, body, content_type)
        return PostAnswer.ACCEPTED, self._end(request_id, outcome)

    def stream_began(self, request_id: str) -> PostAnswer:
        """The head of a streamed ``/response``: its body follows as the runtime sends it."""
        refusal = self._held.refusal(request_id)
        if refusal is None:
            self._held[request_id].state = State.STREAMING
            return PostAnswer.ACCEPTED
        return refusal

    def streaming(self, request_id: str) -> bool:
        """Whether ``request_id`` is streaming its response (not ended meanwhile)."""
        held = self._held.get(request_id)
        return held is not None and held.state is State.STREAMING

    def stream_ended(
        self, request_id: str, failure: bytes | None, content_type: str, body: bytes = b""
    ) -> tuple[PostAnswer, list[Effect]]:
        """The last chunk came; ``failure``: the error its trailers reported, if any.

        ``body``: the stream read whole, for a caller that takes it so (the
        classic Invoke API); else it went to its caller as it came.
        """
        refusal = self._held.stream_refusal(request_id)
        if refusal is not None:
            return refusal, []
        if failure is not None:
            outcome = Outcome(OutcomeKind.ERROR, failure)
        else:
            outcome = Outcome(OutcomeKind.RESPONSE, body, content_type)
        return PostAnswer.ACCEPTED, self._end(request_id, outcome)

    def stream_broken(self, request_id: str) -> list[Effect]:
        """The runtime's connection ended before the stream's last chunk."""
        if self._held.stream_refusal(request_id) is not None:
            return []
        return self._end(request_id, failures.truncated(request_id))

    def stream_too_large(self, request_id: str, limit: int) -> tuple[PostAnswer, list[Effect]]:
        """A streamed response past ``limit`` bytes: cut off there."""
        refusal = self._held.stream_refusal(request_id)
        if refusal is not None:
            return refusal, []
        return PostAnswer.TOO_LARGE, self._end(request_id, failures.too_large(None, limit))

    def post_too_large(self, request_id: str, size: int | None) -> tuple[PostAnswer, list[Effect]]:
        """A post whose body is over the response limit (``size``: its length, if declared)."""
        refusal = self._held.refusal(request_id)
        if refusal is not None:
            return refusal, []
        outcome = failures.too_large(size, self.limits.response_limit)
        return PostAnswer.TOO_LARGE, self._end(request_id, outcome)

    def init_error(self, error_type: str, body: bytes) -> tuple[PostAnswer, list[Effect]]:
        """``POST /runtime/init/error``: allowed once, during init."""
        if self.init_ms is not None:
            return PostAnswer.ALREADY_ENDED, []
        self.init_ms = (self._clock.monotonic() - self._started) * 1000
        report = InitReport(self.where, self.init_ms, "error", error_type)
        outcome = Outcome(OutcomeKind.INIT_ERROR, body, error_type=error_type)
        effects: list[Effect] = [CancelTimer(INIT), Emit(report)]
        return PostAnswer.ACCEPTED, effects + self._fail_all(outcome) + self._retire()

    def output(self, text: str, pid: int | None = None) -> list[Effect]:
        """A line the runtime wrote; ``pid``: the process whose stream it came from, if known."""
        return [Emit(LogLine(self.where, self._held.owner(text, pid), text))]

    def memory(self, rss_mb: int, peak_mb: int) -> list[Effect]:
        """A memory sample of the runtime's processes; over the memory size, Lambda kills it."""
        self.peak_mb = max(self.peak_mb, peak_mb)
        if rss_mb <= self.limits.memory_mb or self.retired:
            return []
        self.peak_mb = max(self.peak_mb, rss_mb)
        request_id = self._named_request()
        note = failures.exit_message(request_id, "signal: killed")
        outcome = failures.out_of_memory(request_id)
        return [*self._kill(), *self._fail_all(outcome, note), *self._retire()]

    def process_exited(self, reason: str) -> list[Effect]:
        """The runtime process ended; ``reason`` as Go words it ("exit status 1").

        After the environment was killed or retired, every outcome is already decided.
        """
        if self._killed or self.retired:
            return self._retire()
        if not self.busy:
            line = f"Runtime exited with error: {reason} (between invocations)"
            return [self._line(None, line), *self._retire()]
        request_id = self._named_request()
        outcome = failures.exited(request_id, reason)
        return self._fail_all(outcome, failures.exit_message(request_id, reason)) + self._retire()

    def timer_fired(self, key: str) -> list[Effect]:
        if key == INIT:
            return self._init_timed_out()
        held = self._held.get(key.removeprefix(_DEADLINE))
        if held is None:
            return []
        rid = held.invocation.request_id
        if held.open:
            return self._timed_out(held)
        if held.state is State.ENDING:  # its output is still being forwarded: look again
            return [StartTimer(key, _RECHECK_S)]
        if not held.slot_owed:
            return []
        line = f"{rid}: the runtime did not ask for the next event in time"
        beside = self._fail_all(lambda other: failures.exited(other, "signal: killed"))
        return [self._line(None, line), *self._kill(), *beside, *self._retire()]

    def drained(self, request_id: str, peak_mb: int) -> list[Effect]:
        """The output an ending invocation wrote has been forwarded: END, REPORT, the caller."""
        held = self._held.get(request_id)
        if held is None or held.state is not State.ENDING or held.outcome is None:
            return []
        self.peak_mb = max(self.peak_mb, peak_mb)
        held.state = State.DONE
        effects: list[Effect] = [self._line(request_id, note) for note in held.notes]
        effects += [Emit(self._report(held, held.outcome)), Complete(held.invocation, held.outcome)]
        self._held.remember(request_id, held.outcome.kind)
        if not held.slot_owed or self.retired:
            del self._held[request_id]
            effects.append(CancelTimer(_deadline(request_id)))
            if not self.retired:
                effects.append(FreeSlot())
        return effects

    def shutdown(self) -> list[Effect]:
        """The emulator stops: whatever this environment holds ends now."""
        return self._fail_all(failures.shutting_down) + self._retire()

    def start_failed(self, reason: str) -> list[Effect]:
        """The runtime could not be started: what waits here, and what comes, fails so."""
        self._start_error = reason
        return self._fail_all(lambda rid: failures.entrypoint(rid, reason)) + self._retire()

    # -- rules ---------------------------------------------------------------------

    def _hand_out(self) -> list[Effect]:
        effects: list[Effect] = []
        while self._queue and self._waiters and not self.retired:
            waiter, pid = next(iter(self._waiters.items()))
            del self._waiters[waiter]
            invocation = self._queue.popleft()
            deadline_ms = int((self._clock.time() + self.limits.timeout_s) * 1000)
            rid = invocation.request_id
            self._held[rid] = Held(invocation, pid, self._clock.monotonic(), deadline_ms)
            # The deadline first: a hand-out that fails is undone with its timer.
            effects += [
                StartTimer(_deadline(rid), self.limits.timeout_s),
                HandOut(waiter, invocation, deadline_ms),
            ]
        return effects

    def _came_back(self, pid: int | None) -> list[Effect]:
        """The runtime is back for more: the slot of the invocation it answered is free."""
        answered = [h for h in self._held.values() if h.slot_owed and h.answered]
        if not answered:
            return []
        held = next((h for h in answered if pid is not None and h.pid == pid), answered[0])
        held.slot_owed = False
        if held.state is not State.DONE:
            return []  # its END comes first; the slot with it
        rid = held.invocation.request_id
        del self._held[rid]
        return [CancelTimer(_deadline(rid)), FreeSlot()]

    def _no_response(self) -> list[Effect]:
        # Asked for more without answering: the one unanswered invocation fails.
        effects: list[Effect] = []
        for held in [h for h in self._held.values() if h.state is State.RUNNING]:
            effects += self._end(held.invocation.request_id, failures.no_response())
        return effects

    def _end(self, request_id: str, outcome: Outcome, *notes: str) -> list[Effect]:
        held = self._held[request_id]
        held.state = State.ENDING
        held.outcome = outcome
        held.ended = self._clock.monotonic()
        held.notes.extend(notes)
        return [Drain(request_id)]

    def _timed_out(self, held: Held) -> list[Effect]:
        rid, timeout_s = held.invocation.request_id, self.limits.timeout_s
        outcome = failures.timed_out(rid, timeout_s)
        note = failures.timeout_line(rid, timeout_s, self._clock.time())
        if self.limits.max_concurrency > 1:
            # Only this invocation fails; its worker holds the slot until it is back, and
            # has as long again to come back before the environment is ended.
            return [
                *self._end(rid, outcome, note),
                StartTimer(_deadline(rid), self.limits.timeout_s),
            ]
        return [*self._kill(), *self._end(rid, outcome, note), *self._retire()]

    def _init_timed_out(self) -> list[Effect]:
        if self.init_ms is not None or self.retired:
            return []
        duration = (self._clock.monotonic() - self._started) * 1000
        outcome = failures.init_timed_out(self.limits.init_limit_s)
        report = Emit(InitReport(self.where, duration, "timeout", None))
        return [report, *self._kill(), *self._fail_all(outcome), *self._retire()]

    def _fail_all(self, outcome: Outcome | Failure, *notes: str) -> list[Effect]:
        """Every invocation held or queued here ends with ``outcome`` (or what it makes of
        each request id)."""

        def ending(request_id: str) -> Outcome:
            return outcome if isinstance(outcome, Outcome) else outcome(request_id)

        effects: list[Effect] = []
        for rid in [r for r, h in self._held.items() if h.open]:
            effects += self._end(rid, ending(rid), *notes)
        while self._queue:
            invocation = self._queue.popleft()
            effects.append(Complete(invocation, ending(invocation.request_id)))
        return effects

    def _kill(self) -> list[Effect]:
        self._killed = True
        return [Kill()]

    def _retire(self) -> list[Effect]:
        if self.retired:
            return []
        self.retired = True
        effects: list[Effect] = [CancelTimer(INIT)]
        for rid, held in list(self._held.items()):
            if held.state is State.DONE:  # answered; no slot to give back any more
                del self._held[rid]
                effects.append(CancelTimer(_deadline(rid)))
        return [*effects, Retire()]

    def _named_request(self) -> str:
        """The invocation a platform error names: the one running, else the one waiting."""
        running = [rid for rid, h in self._held.items() if h.open]
        if running:
            return running[0]
        return self._queue[0].request_id if self._queue else ""

    def _report(self, held: Held, outcome: Outcome) -> InvokeEnded:
        init_ms = None if self._init_reported else self.init_ms
        self._init_reported = True
        platform = outcome.kind not in (OutcomeKind.RESPONSE, OutcomeKind.ERROR)
        return InvokeEnded(
            self.where,
            held.invocation.request_id,
            outcome.kind,
            outcome.error_type if platform else None,
            (held.ended - held.started) * 1000,
            self.limits.memory_mb,
            self.peak_mb,
            init_ms,
        )

    def _line(self, request_id: str | None, text: str) -> Emit:
        return Emit(LogLine(self.where, request_id, text))


_DEADLINE = "deadline:"
# How soon a deadline that came while an answer's output was forwarded looks again.
_RECHECK_S = 1.0
Failure = Callable[[str], Outcome]


def _deadline(request_id: str) -> str:
    return _DEADLINE + request_id
