"""ric: a fast, pure-Python runtime interface client for AWS Lambda.

``python -m ric MODULE.FUNCTION`` serves a handler through the Lambda Runtime
API. Nothing is imported here beyond the version, so start-up stays cheap:
the helpers below import their module on first use.

- ``ric.on_init(hook)``: run ``hook()`` (sync or async) once during init,
  after the handler's module is imported; see :mod:`ric.oninit`.
- ``ric.on_shutdown(callback)``: cleanup (sync or async) when Lambda ends the environment.
- ``ric.register_before_snapshot(func, *args, **kwargs)`` and
  ``ric.register_after_restore(...)``: SnapStart hooks, as ``snapshot_restore_py``
  offers them.
- ``ric.current_context()``: the context of the invocation the caller runs in
  (in asyncio tasks and ``contextvars.copy_context()`` threads too), else None.
- ``ric.Stream(body, content_type)`` and ``ric.HttpStream(body, status_code,
  headers, cookies)``: a streamed response, returned by the handler (a
  generator streams too); see :mod:`ric.stream`.
- ``ric.wsgi(app, *, streaming=False)``: a handler serving a WSGI app for API
  Gateway, ALB and function URL events; see :mod:`ric.web`.
- ``ric.asgi(app, *, streaming=False, lifespan="auto")``: the same for an ASGI
  3 app, its lifespan started at init and shut down at SIGTERM.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ric.context import current_context
    from ric.oninit import on_init
    from ric.shutdown import on_shutdown
    from ric.snapstart import register_after_restore, register_before_snapshot
    from ric.stream import HttpStream, Stream
    from ric.web.asgi import asgi
    from ric.web.wsgi import wsgi

__all__ = [
    "HttpStream",
    "Stream",
    "__version__",
    "asgi",
    "current_context",
    "on_init",
    "on_shutdown",
    "register_after_restore",
    "register_before_snapshot",
    "wsgi",
]

__version__ = "0.1.0"

_HELPERS = {
    "HttpStream": "ric.stream",
    "Stream": "ric.stream",
    "asgi": "ric.web.asgi",
    "current_context": "ric.context",
    "on_init": "ric.oninit",
    "on_shutdown": "ric.shutdown",
    "register_after_restore": "ric.snapstart",
    "register_before_snapshot": "ric.snapstart",
    "wsgi": "ric.web.wsgi",
}


def __getattr__(name: str) -> object:
    module = _HELPERS.get(name)
    if module is None:
        raise AttributeError(f"module 'ric' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
