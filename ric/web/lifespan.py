"""The ASGI lifespan protocol for ``ric.asgi``: startup once at init, shutdown at SIGTERM.

The app is called once with a ``lifespan`` scope, as a task on the runtime's
persistent event loop, and stays suspended in ``receive()`` between
invocations: what its startup opened (clients, pools) is bound to that loop
and lives across warm invocations. Its ``scope["state"]`` (the lifespan state
extension) is the dict each request's scope gets a shallow copy of, as
Starlette expects and as Mangum does.

Modes, as Mangum's ``lifespan`` argument:

- ``"auto"``: an app that ends (returns or raises) before it answers the
  startup, or sends before it has received it, does not support lifespan:
  logged at INFO, and requests are served without it (Mangum and uvicorn
  agree). ``lifespan.startup.failed`` is still a failure.
- ``"on"``: anything but ``lifespan.startup.complete`` fails the startup.
- ``"off"``: the app is never called with a ``lifespan`` scope.

A failed startup raises :class:`LifespanStartupFailed` (during init: an init
error under that name). Mangum runs startup and shutdown around *every*
invocation; here they run once per environment.

Shutdown is :meth:`Lifespan.stop`, an async ``ric.on_shutdown`` hook: the
runtime awaits it on the loop the startup ran on (see :mod:`ric.shutdown`).
In async concurrency mode that loop runs on while it does; otherwise it can
only if SIGTERM came while the loop was idle (between invocations, where it
comes in practice): a SIGTERM that interrupted an invocation in flight skips
the shutdown, and the hook's log line says so.
"""

from __future__ import annotations

import asyncio
import logging

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping
    from typing import Any

    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]
    App = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

__all__ = ["MODES", "Lifespan", "LifespanStartupFailed", "UnexpectedMessage"]

MODES = ("auto", "on", "off")
_ANSWERS = {
    "lifespan.startup": ("lifespan.startup.complete", "lifespan.startup.failed"),
    "lifespan.shutdown": ("lifespan.shutdown.complete", "lifespan.shutdown.failed"),
}
_LOG = "ric.web"


class LifespanStartupFailed(Exception):
    """The app's lifespan startup failed: its ``message``, or why it never completed."""


class UnexpectedMessage(RuntimeError):
    """The app sent a message the protocol does not allow at that point."""


class _Unsupported(Exception):
    """Raised into an app that sends before it has received the startup."""


class Lifespan:
    """One app's lifespan: the phase, the state dict, and the task running the app.

    Phases: ``idle`` -> ``running`` or ``unsupported`` (or a failed startup)
    -> ``stopped``.
    """

    __slots__ = (
        "_app",
        "_expected",
        "_heard",
        "_inbox",
        "_replies",
        "_startup",
        "_task",
        "mode",
        "phase",
        "state",
    )

    def __init__(self, app: App, mode: str = "auto") -> None:
        if mode not in MODES:
            raise ValueError(f"lifespan must be one of {', '.join(MODES)}, not {mode!r}")
        self._app = app
        self.mode = mode
        self.state: dict[str, Any] = {}
        self.phase = "unsupported" if mode == "off" else "idle"
        self._startup: asyncio.Task[None] | None = None
        self._heard = False  # whether the app has received anything
        self._expected: tuple[str, ...] = ()  # the answers it may send now
        self._task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        """Start the app's lifespan, once; callers after the first await the same start."""
        if self._startup is None:
            self._startup = asyncio.ensure_future(self._start())
        await self._startup

    async def ready(self) -> None:
        """Before a request: the startup done (done here if init did not run it)."""
        if self.phase == "idle":
            await self.startup()

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._replies: asyncio.Queue[dict[str, Any] | BaseException | None] = asyncio.Queue()
        self._inbox.put_nowait({"type": "lifespan.startup"})
        self._task = loop.create_task(self._run(), name="asgi-lifespan")
        reply = await self._replies.get()
        if isinstance(reply, dict) and reply["type"] == "lifespan.startup.complete":
            self.phase = "running"
            return
        self.phase = "failed"
        if isinstance(reply, dict):
            raise LifespanStartupFailed(reply.get("message") or "lifespan.startup.failed")
        if self.mode == "auto" and not isinstance(reply, UnexpectedMessage):
            self.phase = "unsupported"
            why = "it ended" if reply is None else f"it raised {reply!r}"
            logging.getLogger(_LOG).info("ASGI lifespan unsupported by the app: %s", why)
            return
        raise LifespanStartupFailed(_ended(reply)) from reply

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        scope["state"] = self.state
        outcome: BaseException | None = None
        try:
            await self._app(scope, self._receive, self._send)
        except _Unsupported as exc:
            outcome = None if self.mode == "auto" else exc
        except Exception as exc:
            outcome = exc
        self._replies.put_nowait(outcome)

    async def _receive(self) -> Message:
        message = await self._inbox.get()
        self._heard = True
        self._expected = _ANSWERS[message["type"]]
        return message

    async def _send(self, message: Message) -> None:
        kind = message.get("type")
        if not self._heard:
            raise _Unsupported(f"{kind!r} sent before lifespan.startup was received")
        if kind not in self._expected:
            raise UnexpectedMessage(f"unexpected ASGI lifespan message {kind!r}")
        self._expected = ()
        self._replies.put_nowait(dict(message))

    async def stop(self) -> None:
        """Send ``lifespan.shutdown`` and wait for the app's answer and end; log a failure."""
        if self.phase != "running":
            return
        self.phase = "stopped"
        self._inbox.put_nowait({"type": "lifespan.shutdown"})
        reply = await self._replies.get()
        if isinstance(reply, dict) and reply["type"] == "lifespan.shutdown.complete":
            assert self._task is not None  # running: the task was made by _start
            await self._task
            return
        why = reply.get("message") if isinstance(reply, dict) else _ended(reply)
        logging.getLogger(_LOG).error("ASGI lifespan shutdown failed: %s", why)


def _ended(outcome: BaseException | None) -> str:
    if outcome is None:
        return "the app's lifespan ended before it answered"
    return f"the app's lifespan raised {outcome!r}"
