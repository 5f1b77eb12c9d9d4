"""Moments as Lambda's API documents write them; no I/O."""

from __future__ import annotations

import time

__all__ = ["api_timestamp"]

_FORMAT = "%Y-%m-%dT%H:%M:%S"


def api_timestamp(moment: float, millis: bool = True) -> str:
    """``2019-02-20T12:00:00.000+0000`` (LastModified, CreatedDate); without ``millis``,
    ``2019-02-20T12:00:00+0000`` (a provisioned concurrency config's LastModified)."""
    if not millis:
        return time.strftime(_FORMAT, time.gmtime(round(moment))) + "+0000"
    seconds, thousandths = divmod(round(moment * 1000), 1000)
    return time.strftime(_FORMAT, time.gmtime(seconds)) + f".{thousandths:03d}+0000"
