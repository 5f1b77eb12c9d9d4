"""Log output of the runtime itself, in the shapes the managed runtime writes.

Everything goes to standard output, which Lambda forwards to CloudWatch Logs,
flushed at once so a record is never lost when the process is frozen or killed.
"""

from __future__ import annotations

import sys
import time

__all__ = ["runtime_line", "write"]


def write(text: str) -> None:
    """Write ``text`` to standard output and flush it."""
    stream = sys.stdout
    stream.write(text)
    stream.flush()


def runtime_line(level: str, message: str) -> str:
    """A message of the runtime's own, e.g. ``[WARNING] [1700000000000] LAMBDA_RUNTIME ...``."""
    return f"[{level}] [{int(time.time() * 1000)}] LAMBDA_RUNTIME {message}\n"
