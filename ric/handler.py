"""Turning a handler string into a callable, as the managed Python runtime does.

``module.func``, ``pkg.sub.mod.func`` and ``pkg/sub/mod.func`` are accepted;
the task root comes first on ``sys.path``. Every failure is an
:class:`~ric.errors.InitError` worded as awslambdaric words it, carrying the
original exception so its traceback can be reported.
"""

from __future__ import annotations

import sys

from ric.errors import (
    BuiltInModuleConflict,
    HandlerNotFound,
    ImportModuleError,
    InitError,
    MalformedHandlerName,
    UserCodeSyntaxError,
    UserInitError,
    describe,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

    Handler = Callable[[Any, Any], Any]

__all__ = ["is_async", "load_handler", "load_without_collections", "split_handler"]


def split_handler(handler: str) -> tuple[str, str]:
    """``(module name, function name)``; the module name may still contain ``/``."""
    module, sep, function = handler.rpartition(".")
    if not sep:
        raise MalformedHandlerName(
            f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)"
        )
    return module, function


def load_handler(handler: str, task_root: str) -> Handler:
    """Import the handler's module from ``task_root`` and return the function."""
    module_name, function_name = split_handler(handler)
    if task_root not in sys.path[:1]:
        sys.path.insert(0, task_root)
    module = _import(module_name)
    try:
        function: Handler = getattr(module, function_name)
    except AttributeError:
        raise HandlerNotFound(
            f"Handler '{function_name}' missing on module '{module_name}'"
        ) from None
    return function


def load_without_collections(handler: str, root: str) -> Handler:
    """Import the handler with the cyclic garbage collector paused, then freeze what it made.

    An application's imports (Powertools, FastAPI, boto3) create objects by the
    hundred thousand and almost no garbage, yet the collector runs every 700
    allocations and walks all of them in its older generations. Paused, it
    costs nothing during init; ``gc.freeze()`` then moves everything init
    made to a generation it never walks again, so the first invocations do not
    pay for a full collection either (and garbage cycles made during init stay).
    awslambdaric leaves the collector alone. The collector is on afterwards:
    a ``gc.disable()`` in the function's module cannot be told from ours.
    """
    import gc

    if not gc.isenabled():  # the interpreter was started so, or the user's choice
        return load_handler(handler, root)
    gc.disable()
    try:
        return load_handler(handler, root)
    finally:
        gc.freeze()
        gc.enable()


def _import(module_name: str) -> ModuleType:
    if module_name.partition(".")[0] in sys.builtin_module_names:
        raise BuiltInModuleConflict(f"Cannot use built-in module {module_name} as a handler module")
    import importlib  # already loaded by the interpreter: free

    try:
        return importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _with_cause(
            ImportModuleError(f"Unable to import module '{module_name}': {describe(exc)}"), exc
        ) from None
    except SyntaxError as exc:
        raise _with_cause(
            UserCodeSyntaxError(f"Syntax error in module '{module_name}': {describe(exc)}"), exc
        ) from None
    except Exception as exc:
        raise _with_cause(UserInitError(describe(exc), type(exc).__name__), exc) from None


def _with_cause(error: InitError, cause: BaseException) -> InitError:
    # Kept for the report's stack trace; `from None` keeps our frames out of
    # the chained traceback a user would otherwise see in the log.
    error.user_exception = cause
    return error


# inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR, without importing inspect.
_ASYNC_FLAGS = 0x80 | 0x200


def is_async(handler: Handler) -> bool:
    """Whether ``handler`` is an ``async def`` function (a coroutine or an async generator's).

    A sync handler returning an awaitable is found at its first call instead.
    """
    code = getattr(handler, "__code__", None)
    return code is not None and bool(code.co_flags & _ASYNC_FLAGS)
