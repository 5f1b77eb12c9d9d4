"""``ric.on_init``: functions run once during init, after the handler's module is imported.

A hook runs after the handler's module (and so every ``@ric.on_init`` in it)
is imported and before the first ``GET /next``: in Lambda's init phase, so
its time is in Init Duration, and before a SnapStart snapshot is taken (the
before-snapshot hooks run after it). Hooks run in the order they were
registered, each with no arguments. An ``async def`` hook (or one returning
an awaitable) runs on the process's one event loop, the loop async handlers
run on: an ``httpx.AsyncClient`` or a pool it opens works in every invocation.

A hook that raises is an init error, posted to ``/runtime/init/error``, and
the runtime exits as for a module that fails to import. Its ``errorType`` is
the exception's class name, not a ``Runtime.*`` name of ours: a hook is the
module's init code moved into a function, and an exception raised by a
module's top-level code is reported under its class name
(:class:`~ric.errors.UserInitError`, as awslambdaric does). Moving
``client = connect()`` into a hook so keeps the errorType that an alarm or a
log filter already matches, and the stack trace shows the hook's frames.
Hooks raising ``SystemExit`` or
``KeyboardInterrupt`` are not caught: they end the process, as in a handler.

The registry is process-wide by nature, like ``atexit``'s: a module registers
while it is imported, before the runtime could hand it anything. This module
is imported only by code that registers a hook, never on the plain path.
"""

from __future__ import annotations

from ric.errors import UserInitError, describe

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[[], object])

__all__ = ["InitHooks", "on_init", "registry"]


class InitHooks:
    """Hooks in registration order; :meth:`run` runs each once."""

    __slots__ = ("hooks",)

    def __init__(self) -> None:
        self.hooks: list[Callable[[], object]] = []

    def add(self, hook: F) -> F:
        if not callable(hook):
            raise TypeError(f"on_init needs a callable, not {type(hook).__name__}")
        self.hooks.append(hook)
        return hook

    def run(self, awaited: Callable[[Any], object]) -> None:
        """Run the hooks; ``awaited`` runs what one returns that is awaitable.

        What a hook raises comes out as :class:`~ric.errors.UserInitError`
        under the exception's class name (see the module's docstring).
        """
        for hook in self.hooks:
            try:
                result = hook()
                if hasattr(type(result), "__await__"):
                    awaited(result)
            except Exception as exc:
                error = UserInitError(describe(exc), type(exc).__name__)
                error.user_exception = exc
                raise error from None


_REGISTRY = InitHooks()


def registry() -> InitHooks:
    """The process-wide hooks :func:`on_init` fills."""
    return _REGISTRY


def on_init(hook: F) -> F:
    """Run ``hook()`` once during init, after the handler's module is imported.

    Usable as a decorator; ``hook`` may be ``async def`` (run on the runtime's
    event loop).
    """
    return _REGISTRY.add(hook)
