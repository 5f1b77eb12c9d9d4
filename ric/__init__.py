"""ric: a fast, pure-Python runtime interface client for AWS Lambda.

``python -m ric MODULE.FUNCTION`` serves a handler through the Lambda Runtime
API. Nothing is imported here beyond the version, so start-up stays cheap:
the helpers below import their module on first use.

- ``ric.on_shutdown(callback)``: cleanup when Lambda ends the environment.
- ``ric.register_before_snapshot(func, *args, **kwargs)`` and
  ``ric.register_after_restore(...)``: SnapStart hooks, as ``snapshot_restore_py``
  offers them.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ric.shutdown import on_shutdown
    from ric.snapstart import register_after_restore, register_before_snapshot

__all__ = ["__version__", "on_shutdown", "register_after_restore", "register_before_snapshot"]

__version__ = "0.1.0"

_HELPERS = {
    "on_shutdown": "ric.shutdown",
    "register_after_restore": "ric.snapstart",
    "register_before_snapshot": "ric.snapstart",
}


def __getattr__(name: str) -> object:
    module = _HELPERS.get(name)
    if module is None:
        raise AttributeError(f"module 'ric' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
