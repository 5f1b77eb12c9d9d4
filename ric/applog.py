"""The function's ``logging`` records, in the managed runtime's formats.

Imported only once the function imports ``logging`` (see
:func:`ric.log.when_imported`): ``logging`` and what it imports cost more than
the whole runtime's start, and a function that never logs should not pay.

The root logger gets one handler, so ``logging`` works without ``basicConfig``
(which then does nothing: no record is printed twice). Formats follow "Using
Lambda advanced logging controls with Python"
(https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html), with two
deliberate differences from awslambdaric: JSON timestamps keep milliseconds, and
a record's traceback ends with a newline instead of running into the next line.
"""

from __future__ import annotations

import json
import logging

from ric.records import timestamp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ric.context import LambdaContext
    from ric.log import LogSink

    Current = Callable[[], LambdaContext | None]

__all__ = ["DEFAULT_JSON_LEVEL", "JsonFormatter", "SinkHandler", "TextFormatter", "install"]

# Without AWS_LAMBDA_LOG_LEVEL, the Text format leaves the root logger at
# Python's WARNING, as awslambdaric does: a library's INFO records stay out of
# the log, as in Lambda. The JSON format has Lambda's default application log
# level, INFO ("Configuring advanced logging controls"), where awslambdaric
# leaves WARNING too.
DEFAULT_JSON_LEVEL = logging.INFO
# The attributes every LogRecord has: anything else came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


def install(sink: LogSink, current: Current, level: int | None) -> None:
    """Give the root logger the one handler, writing to ``sink``."""
    formatter: logging.Formatter = JsonFormatter(current) if sink.json else TextFormatter(current)
    handler = SinkHandler(sink)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    if level is not None:
        root.setLevel(level)
    elif sink.json:
        root.setLevel(DEFAULT_JSON_LEVEL)


class SinkHandler(logging.Handler):
    """Writes each formatted record to the sink as one record (one frame)."""

    def __init__(self, sink: LogSink) -> None:
        super().__init__()
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._sink.record(self.format(record), record.levelno)
        except Exception:
            self.handleError(record)


class TextFormatter(logging.Formatter):
    """``[LEVEL]\\t<timestamp>\\t<request id>\\t<message>\\n``, traceback included."""

    def __init__(self, current: Current) -> None:
        super().__init__()
        self._current = current

    def format(self, record: logging.LogRecord) -> str:
        context = self._current()
        request_id = context.aws_request_id if context is not None else ""
        text = (
            f"[{record.levelname}]\t{timestamp(record.created)}\t{request_id}\t"
            f"{record.getMessage()}\n"
        )
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text += record.exc_text + "\n"
        if record.stack_info:
            text += self.formatStack(record.stack_info) + "\n"
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per record; values JSON cannot hold are written as text."""

    def __init__(self, current: Current) -> None:
        super().__init__()
        self._current = current

    def format(self, record: logging.LogRecord) -> str:
        fields = self._fields(record)
        try:
            return json.dumps(fields, ensure_ascii=False, default=_text) + "\n"
        except (TypeError, ValueError, RecursionError):  # circular, or keys JSON cannot hold
            safe = {str(key): _safe(value) for key, value in fields.items()}
            return json.dumps(safe, ensure_ascii=False) + "\n"

    def _fields(self, record: logging.LogRecord) -> dict[str, Any]:
        message: Any = record.msg if isinstance(record.msg, dict) else record.getMessage()
        fields: dict[str, Any] = {
            "timestamp": timestamp(record.created),
            # awslambdaric names a level between the standard ones after the one below it.
            "level": logging.getLevelName(min(max(record.levelno, 0), 50) // 10 * 10),
            "message": message,
            "logger": record.name,
        }
        context = self._current()
        fields["requestId"] = context.aws_request_id if context is not None else ""
        if context is not None and context.tenant_id is not None:
            fields["tenantId"] = context.tenant_id
        if record.exc_info and record.exc_info[0] is not None:
            fields.update(_exception(record))
        if record.stack_info:
            fields["stackInfo"] = record.stack_info
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in fields:
                fields[key] = value
        return fields


def _exception(record: logging.LogRecord) -> dict[str, Any]:
    import traceback

    _, error, tb = record.exc_info  # type: ignore[misc]
    frames = traceback.extract_tb(tb)
    return {
        "errorType": type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_list(frames),
        "location": f"{record.pathname}:{record.funcName}:{record.lineno}",
    }


def _text(value: object) -> str:
    try:
        return str(value)
    except Exception:
        return object.__repr__(value)


def _safe(value: object) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return _text(value)
