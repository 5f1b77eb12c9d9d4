"""What the supervisor of worker processes does when one exits, without any I/O.

With Lambda Managed Instances the Python runtime serves concurrent requests
with one process per request slot, each a whole runtime that inits on its own
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-python-runtime.html).
:class:`Pool` holds the workers' state and decides, from an exit status and a
clock reading given to it, whether to start a new worker, when, and what to say:

- :data:`INIT_FAILED` is how a worker ends when its init failed (and was
  reported to ``/runtime/init/error``): a new worker would fail the same way,
  and Lambda resets an environment whose init failed, so it is not replaced.
- any other end (a signal, a crash, the function's own ``sys.exit``, the
  Runtime API failing for good) is replaced. One that dies within ``quick``
  seconds of its start is replaced after a delay that doubles with each such
  death in a row, so a crash loop cannot turn into a hot respawn loop.
- once stopping (SIGTERM or SIGINT), nothing is replaced.

When no worker is left, :meth:`Pool.exit_code` gives the supervisor's status:
0 after SIGTERM (a graceful shutdown), 128 + the signal after another, else 1
(every worker's init failed).
"""

from __future__ import annotations

import signal

__all__ = ["INIT_FAILED", "Pool", "Verdict", "describe"]

# A worker's exit status after a failed init (EX_CONFIG in sysexits.h); only
# the supervisor sees it, and ends with 1 as a single runtime would.
INIT_FAILED = 78


class Verdict:
    """A worker exited: what to log, and whether (``delay`` is not None) to replace it."""

    __slots__ = ("delay", "level", "message", "slot")

    def __init__(self, slot: int, level: str, message: str, delay: float | None) -> None:
        self.slot = slot
        self.level = level
        self.message = message
        self.delay = delay


class Pool:
    """The workers of one supervisor, by pid, in slots numbered from 1."""

    __slots__ = (
        "_first_delay",
        "_max_delay",
        "_owed",
        "_quick",
        "_streaks",
        "_workers",
        "stopping",
    )

    def __init__(
        self, size: int, quick: float = 1.0, first_delay: float = 0.1, max_delay: float = 5.0
    ) -> None:
        self._workers: dict[int, tuple[int, float]] = {}  # pid -> (slot, start time)
        self._streaks = dict.fromkeys(range(1, size + 1), 0)  # quick deaths in a row
        self._quick = quick
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._owed: set[int] = set()  # slots whose replacement is yet to start
        self.stopping: int | None = None

    @property
    def slots(self) -> list[int]:
        return list(self._streaks)

    @property
    def pids(self) -> list[int]:
        return list(self._workers)

    def started(self, slot: int, pid: int, now: float) -> None:
        self._workers[pid] = (slot, now)
        self._owed.discard(slot)

    def stop(self, signum: int) -> list[int]:
        """Stop replacing workers; returns the pids to pass ``signum`` on to."""
        self.stopping = signum
        return self.pids

    def exited(self, pid: int, status: int, now: float) -> Verdict | None:
        """``status`` as ``os.waitstatus_to_exitcode`` gives it: -N for signal N.

        None for a pid that is not a worker, or a worker that ended while stopping.
        """
        if pid not in self._workers:
            return None
        slot, start = self._workers.pop(pid)
        if self.stopping is not None:
            return None
        who = f"worker {slot} (pid {pid})"
        if status == INIT_FAILED:
            return Verdict(slot, "INFO", f"{who}: init failed; not replacing it", None)
        delay = self._delay(slot, now - start)
        self._owed.add(slot)
        when = f" in {delay:g} s" if delay else ""
        return Verdict(
            slot, "WARNING", f"{who} {describe(status)}; starting a new one{when}", delay
        )

    def exit_code(self) -> int | None:
        """The supervisor's exit status once no worker is left, else None."""
        if self._workers or (self._owed and self.stopping is None):
            return None
        if self.stopping is not None:
            return 0 if self.stopping == signal.SIGTERM else 128 + self.stopping
        return 1

    def _delay(self, slot: int, lived: float) -> float:
        if lived >= self._quick:
            self._streaks[slot] = 0
            return 0.0
        streak = self._streaks[slot]
        self._streaks[slot] = streak + 1
        return min(self._first_delay * 2.0**streak, self._max_delay)


def describe(status: int) -> str:
    """``died of SIGKILL`` or ``exited with status 3``, for an exit status as above."""
    if status >= 0:
        return f"exited with status {status}"
    try:
        name = signal.Signals(-status).name
    except ValueError:
        name = f"signal {-status}"
    return f"died of {name}"
