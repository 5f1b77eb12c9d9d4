"""Graceful shutdown: ``ric.on_shutdown(callback)`` runs cleanup when Lambda ends the environment.

Without an extension, Lambda ends an environment with SIGKILL. When a hook is
registered, the runtime registers itself as an internal extension (for no
events, see :mod:`ric.extensions`), so the platform sends SIGTERM first and
waits 500 ms; the hooks then run, last registered first as with ``atexit``,
within a budget (500 ms by default, ``RIC_SHUTDOWN_BUDGET_MS``), and the
process exits 0. A SIGTERM handler the function installed at import time is
called after the hooks; one installed later replaces ours, as Python has it.

The hook list is process-wide by nature, like ``atexit``'s: :data:`HOOKS` is
the one registry, and the runtime is handed it as a parameter.
"""

from __future__ import annotations

import os
import signal
import sys

from ric.errors import RicError
from ric.log import runtime_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import Any, NoReturn

    from ric.config import RuntimeConfig
    from ric.extensions import ExtensionRequests
    from ric.log import LogSink
    from ric.transport import Transport

    Hook = Callable[[], object]
    Log = Callable[[str], None]

__all__ = [
    "EXTENSION_NAME",
    "HOOKS",
    "Hooks",
    "on_shutdown",
    "register",
    "register_shutdown_extension",
    "take_sigterm",
]

EXTENSION_NAME = "ric-graceful-shutdown"


class Hooks:
    """Callbacks to run at shutdown."""

    __slots__ = ("_hooks",)

    def __init__(self) -> None:
        self._hooks: list[Hook] = []

    def add(self, callback: Hook) -> Hook:
        if not callable(callback):
            raise TypeError(f"on_shutdown needs a callable, got {type(callback).__name__}")
        self._hooks.append(callback)
        return callback

    def __bool__(self) -> bool:
        return bool(self._hooks)

    def run(self, log: Log) -> None:
        """Every hook, last registered first; one that raises or exits does not stop the rest."""
        for callback in reversed(self._hooks):
            try:
                callback()
            except BaseException as exc:  # sys.exit() in a hook included: the exit is ours
                name = getattr(callback, "__qualname__", None) or _shown(callback)
                log(runtime_line("ERROR", f"shutdown hook {name} raised {_shown(exc)}"))


def _shown(value: object) -> str:
    """``repr(value)``, or what it is when its ``__repr__`` raises."""
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__} object: repr() failed>"


HOOKS = Hooks()


def on_shutdown(callback: Hook) -> Hook:
    """Run ``callback()`` when Lambda shuts the environment down; usable as a decorator."""
    return HOOKS.add(callback)


def register(requests: ExtensionRequests, extension: Transport, log: Log) -> bool:
    """During init: register the extension, so that the platform sends SIGTERM.

    ``extension`` is a connection of its own to the Extensions API: its
    ``event/next`` stays open for the life of the process.
    """
    from ric.extensions import identifier

    try:
        extension.send(requests.register(EXTENSION_NAME))
        ready = requests.next_event(identifier(extension.receive()))
    except RicError as exc:
        log(runtime_line("WARNING", f"no shutdown extension ({exc}): SIGTERM may never come"))
        return False
    import _thread

    # The platform waits for every extension's event/next before init ends;
    # registered for no events, it never answers, so a thread keeps it open.
    _thread.start_new_thread(_wait_forever, (extension, ready))
    return True


def take_sigterm(hooks: Hooks, budget_s: float, log: Log) -> None:
    """On SIGTERM, run ``hooks`` within ``budget_s``, the function's own handler, and exit 0."""
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _Terminate(hooks, budget_s, log, previous))


def _wait_forever(extension: Transport, ready: bytes) -> None:
    import contextlib

    with contextlib.suppress(RicError):  # the environment is going away
        extension.send((ready,))
        extension.receive()


class _Terminate:
    __slots__ = ("_budget_s", "_hooks", "_log", "_previous")

    def __init__(self, hooks: Hooks, budget_s: float, log: Log, previous: Any) -> None:
        self._hooks = hooks
        self._budget_s = budget_s
        self._log = log
        self._previous = previous

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM changes nothing
        if not _within(self._budget_s, lambda: self._hooks.run(self._log)):
            _overran(self._budget_s)
        if callable(self._previous):
            self._previous(signum, frame)
        raise SystemExit(0)


def _overran(budget_s: float) -> NoReturn:
    # The signal may have interrupted a write to stdout, or a hook may hold a
    # lock the log needs: write around the buffers, and exit whatever happens.
    try:
        line = runtime_line("WARNING", f"shutdown hooks overran {budget_s:g} s")
        os.write(sys.__stdout__.fileno() if sys.__stdout__ else 1, line.encode())
    finally:
        os._exit(0)  # the late hook's thread must not hold the exit up


def _within(budget_s: float, work: Callable[[], None]) -> bool:
    """Run ``work`` in a thread; whether it finished within ``budget_s``."""
    import threading

    thread = threading.Thread(target=work, name="ric-shutdown", daemon=True)
    thread.start()
    thread.join(budget_s)
    return not thread.is_alive()


def register_shutdown_extension(config: RuntimeConfig, sink: LogSink) -> None:
    """Register the internal extension that makes Lambda end the environment with SIGTERM."""
    from ric.extensions import ExtensionRequests
    from ric.transport import Connection, parse_address

    host, port = parse_address(config.runtime_api)
    register(ExtensionRequests(config.runtime_api), Connection(host, port), sink.text)
