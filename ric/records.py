"""The record of an uncaught error, in the managed runtime's shapes, and log timestamps.

Imported when an error happens (or by :mod:`ric.applog`), never on the way to
the first ``GET /next``. The shapes are awslambdaric 4.2.2's, observed: text
with the trace's lines joined by ``\\r`` on standard output, so that CloudWatch
keeps one record as one event, or one JSON object.
"""

from __future__ import annotations

import time

__all__ = ["ErrorLog", "error_json", "error_text", "timestamp"]


class ErrorLog:
    """An uncaught error, as the log shows it."""

    __slots__ = ("error_type", "message", "request_id", "stack")

    def __init__(self, error_type: str, message: str, request_id: str, stack: list[str]) -> None:
        self.error_type = error_type
        self.message = message
        self.request_id = request_id
        self.stack = stack


def error_text(entry: ErrorLog, separator: str = "\r", end: str = "\n") -> str:
    """The ``[ERROR]`` record of an uncaught error.

    On standard output the trace's line breaks become ``\\r`` so the record is
    not split into events; leading spaces become U+00A0 either way, as the
    managed runtime writes them.
    """
    head = "[ERROR]"
    if entry.error_type:
        head += f" {entry.error_type}"
    if entry.message:
        head += f"{':' if entry.error_type else ''} {entry.message}"
    lines = [head, "Traceback (most recent call last):"]
    for item in entry.stack:
        for line in item.splitlines():
            body = line.lstrip(" ")
            lines.append("\u00a0" * (len(line) - len(body)) + body)
    return separator.join(lines) + end


def error_json(entry: ErrorLog, seconds: float) -> str:
    """The JSON record of an uncaught error (``AWS_LAMBDA_LOG_FORMAT=JSON``)."""
    import json

    record = {
        "timestamp": timestamp(seconds),
        "level": "ERROR",
        "errorMessage": entry.message,
        "errorType": entry.error_type,
        "requestId": entry.request_id,
        "stackTrace": entry.stack,
    }
    return json.dumps(record, ensure_ascii=False)


def timestamp(seconds: float) -> str:
    """RFC 3339 in UTC with milliseconds: ``2026-11-22T15:23:18.438Z``."""
    whole = int(seconds)
    millis = int((seconds - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"
