"""ric: a fast, pure-Python runtime interface client for AWS Lambda.

``python -m ric MODULE.FUNCTION`` serves a handler through the Lambda Runtime
API. Nothing is imported here beyond the version, so start-up stays cheap.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ric.shutdown import on_shutdown

__all__ = ["__version__", "on_shutdown"]

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # The public helpers import their module on first use, not at start-up.
    if name == "on_shutdown":
        from ric.shutdown import on_shutdown

        return on_shutdown
    raise AttributeError(f"module 'ric' has no attribute {name!r}")
