"""Graceful shutdown: ``ric.on_shutdown(callback)`` runs cleanup when Lambda ends the environment.

Without an extension, Lambda ends an environment with SIGKILL. When a hook is
registered, the runtime registers itself as an internal extension (for no
events, see :mod:`ric.extensions`), so the platform sends SIGTERM first and
waits 500 ms; the hooks then run, last registered first as with ``atexit``,
within a budget (500 ms by default, ``RIC_SHUTDOWN_BUDGET_MS``), and the
process exits 0. A SIGTERM handler the function installed at import time is
called after the hooks; one installed later replaces ours, as Python has it.

The hooks run in a thread of their own, so the budget holds whatever they
do. A hook may be ``async def`` (an ASGI app's lifespan shutdown is): what
it returns is awaited on the runtime's event loop, where the clients it
closes were made (``awaited``, from the runtime). In async concurrency mode
the loop keeps running while the hooks run (the signal is taken on the loop,
:func:`take_sigterm_on_loop`), so in-flight invocations go on and the hook
is run there. Otherwise the signal interrupts the main thread, which waits in
the handler: the loop can run the hook only if it was idle (between
invocations, where SIGTERM comes in practice).

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
    import asyncio
    from collections.abc import Awaitable, Callable
    from types import FrameType
    from typing import Any, NoReturn

    from ric.config import RuntimeConfig
    from ric.extensions import ExtensionRequests
    from ric.log import LogSink
    from ric.runtime import LoopRef
    from ric.transport import Transport

    Hook = Callable[[], object]
    Log = Callable[[str], None]
    Awaited = Callable[[Any], object]

__all__ = [
    "EXTENSION_NAME",
    "HOOKS",
    "Hooks",
    "on_shutdown",
    "prepare",
    "register",
    "register_shutdown_extension",
    "take_sigterm",
    "take_sigterm_on_loop",
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

    def run(self, log: Log, awaited: Awaited) -> None:
        """Every hook, last registered first; one that raises or exits does not stop the rest.

        What a hook returns that is awaitable goes to ``awaited``.
        """
        for callback in reversed(self._hooks):
            try:
                result = callback()
                if hasattr(type(result), "__await__"):
                    awaited(result)
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
    """Run ``callback()`` when Lambda shuts the environment down; usable as a decorator.

    ``callback`` may be ``async def``: it is awaited on the runtime's event loop.
    """
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


def take_sigterm(hooks: Hooks, budget_s: float, log: Log, awaited: Awaited) -> None:
    """On SIGTERM, run ``hooks`` within ``budget_s``, the function's own handler, and exit 0."""
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _Terminate(hooks, budget_s, log, previous, awaited))


def take_sigterm_on_loop(
    loop: asyncio.AbstractEventLoop, hooks: Hooks, budget_s: float, log: Log, awaited: Awaited
) -> None:
    """As :func:`take_sigterm`, the signal taken by ``loop``: it runs on while the hooks do.

    The hooks' thread is waited for in another, so the loop serves the
    invocations in flight, and runs the hooks' coroutines, until they are
    done; then the process exits 0 (``SystemExit`` out of the loop).
    """
    previous = signal.getsignal(signal.SIGTERM)
    terminate = _Terminate(hooks, budget_s, log, previous, awaited)

    def on_signal() -> None:
        loop.remove_signal_handler(signal.SIGTERM)  # a second SIGTERM changes nothing
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        loop.create_task(_exit_after(loop, terminate))

    loop.add_signal_handler(signal.SIGTERM, on_signal)


async def _exit_after(loop: asyncio.AbstractEventLoop, terminate: _Terminate) -> None:
    await loop.run_in_executor(None, terminate.hooks_within_budget)
    terminate.finish(signal.SIGTERM, None)


def _wait_forever(extension: Transport, ready: bytes) -> None:
    import contextlib

    with contextlib.suppress(RicError):  # the environment is going away
        extension.send((ready,))
        extension.receive()


class _Terminate:
    __slots__ = ("_awaited", "_budget_s", "_hooks", "_log", "_previous")

    def __init__(
        self, hooks: Hooks, budget_s: float, log: Log, previous: Any, awaited: Awaited
    ) -> None:
        self._hooks = hooks
        self._budget_s = budget_s
        self._log = log
        self._previous = previous
        self._awaited = awaited

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM changes nothing
        self.hooks_within_budget()
        self.finish(signum, frame)

    def hooks_within_budget(self) -> None:
        if not _within(self._budget_s, lambda: self._hooks.run(self._log, self._awaited)):
            _overran(self._budget_s)

    def finish(self, signum: int, frame: FrameType | None) -> NoReturn:
        """The function's own SIGTERM handler, then exit 0."""
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


def prepare(config: RuntimeConfig, sink: LogSink, loop: LoopRef) -> None:
    """During init, if the function registered hooks: ask for SIGTERM, and take it.

    With worker processes the supervisor has asked, once for all of them.
    ``loop`` is the runtime's event loop, for hooks that are coroutines.
    """
    if not HOOKS:
        return
    on_loop = config.concurrency_mode == "async"
    if config.max_concurrency == 1 or on_loop:
        register_shutdown_extension(config, sink)

    def awaited(awaitable: Awaitable[object]) -> object:
        return loop.get().run_for_hook(awaitable, on_loop)

    budget, log = config.shutdown_budget_s, sink.text
    if on_loop:
        take_sigterm_on_loop(loop.get().loop, HOOKS, budget, log, awaited)
    else:
        take_sigterm(HOOKS, budget, log, awaited)


def register_shutdown_extension(config: RuntimeConfig, sink: LogSink) -> None:
    """Register the internal extension that makes Lambda end the environment with SIGTERM."""
    from ric.extensions import ExtensionRequests
    from ric.transport import Connection, parse_address

    host, port = parse_address(config.runtime_api)
    register(ExtensionRequests(config.runtime_api), Connection(host, port), sink.text)
