"""Error reports: the JSON body, the X-Ray cause and the log text of a failure.

Only imported when something fails, so its imports stay off the cold path.
The shapes match the managed Python runtime's byte for byte (JSON with
``", "`` and ``": "`` separators, non-ASCII kept as UTF-8, as the python3.12+
runtimes send it); see "AWS Lambda function errors in Python"
(https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html).
"""

from __future__ import annotations

import importlib
import json
import linecache
import os
import traceback

from ric.errors import HookError, InitError, RicError, UserCodeSyntaxError, describe
from ric.protocol import ErrorReport
from ric.records import ErrorLog

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType, TracebackType
    from typing import Any

__all__ = ["fault_report", "hook_report", "init_report", "user_report"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_IMPORTLIB_INIT = importlib.__file__
# The X-Ray exception type of errors the runtime itself raises.
_VALIDATION_ERROR = "LambdaValidationError"


def user_report(exc: BaseException, request_id: str, cwd: str) -> ErrorReport:
    """What the handler raised, with the user's frames only."""
    frames = _user_frames(exc.__traceback__)
    error_type = type(exc).__name__
    message = describe(exc)
    stack = _format_frames(frames)
    xray_stack = [{"label": f.name, "path": f.filename, "line": f.lineno} for f in frames]
    paths = list(dict.fromkeys(f.filename for f in frames))
    cause = _xray_cause(cwd, message, error_type, xray_stack, paths)
    return _report(error_type, message, request_id, stack, cause)


def fault_report(error: RicError, request_id: str, cwd: str) -> ErrorReport:
    """An error of the runtime's own making (marshalling, context): no stack."""
    cause = _xray_cause(cwd, error.message, _VALIDATION_ERROR, [], [])
    return _report(error.error_type, error.message, request_id, [], cause)


def init_report(error: InitError) -> ErrorReport:
    """A handler that could not be loaded, for ``/runtime/init/error``."""
    cause = error.user_exception
    stack: list[str] = []
    if isinstance(error, UserCodeSyntaxError) and isinstance(cause, SyntaxError):
        # The managed runtime's own shape: no comma, a capital "Line".
        stack = [f'  File "{cause.filename}" Line {cause.lineno}\n    {cause.text or ""}']
    elif cause is not None and not isinstance(cause, ImportError):
        stack = _format_frames(_user_frames(cause.__traceback__))
    return _report(error.error_type, error.message, "", stack, None)


def hook_report(error: HookError) -> ErrorReport:
    """A SnapStart hook that raised: the header names the phase, the body the exception.

    awslambdaric sends the same split: e.g. header Runtime.BeforeSnapshotError,
    body errorType ValueError, and logs the body's type.
    """
    exc = error.user_exception
    stack = _format_frames(_user_frames(exc.__traceback__))
    report = _report(type(exc).__name__, describe(exc), "", stack, None)
    return ErrorReport(error.error_type, report.body, None, report.log)


def _user_frames(tb: TracebackType | None) -> traceback.StackSummary:
    # Drop the leading frames of the runtime and of the import machinery that
    # loaded the user's module: the user sees their own code first.
    while tb is not None and _is_machinery(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    try:
        return traceback.extract_tb(tb)
    except Exception:
        # Reading a frame's source line ran the user's code (a module loader's
        # get_source) and that raised: the frames without their lines, then.
        return traceback.StackSummary.from_list(
            [_frame(frame, lineno) for frame, lineno in traceback.walk_tb(tb)]
        )


def _frame(frame: FrameType, lineno: int) -> traceback.FrameSummary:
    code = frame.f_code
    try:
        line = linecache.getline(code.co_filename, lineno, frame.f_globals)
    except Exception:
        line = ""
    return traceback.FrameSummary(
        code.co_filename, lineno, code.co_name, lookup_line=False, line=line
    )


def _is_machinery(filename: str) -> bool:
    return filename.startswith((_PACKAGE_DIR, "<frozen importlib.")) or filename == _IMPORTLIB_INIT


def _format_frames(frames: traceback.StackSummary) -> list[str]:
    # traceback.format_list without 3.11's caret lines, as Lambda shows frames.
    entries = []
    for frame in frames:
        entry = f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n'
        if frame.line:
            entry += f"    {frame.line.strip()}\n"
        entries.append(entry)
    return entries


def _report(
    error_type: str, message: str, request_id: str, stack: list[str], cause: bytes | None
) -> ErrorReport:
    body = {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack,
    }
    log = ErrorLog(error_type, message, request_id, stack)
    return ErrorReport(error_type, _dumps(body), cause, log)


def _xray_cause(
    cwd: str, message: str, error_type: str, stack: list[dict[str, Any]], paths: list[str]
) -> bytes:
    exception = {"message": message, "type": error_type, "stack": stack}
    return _dumps({"working_directory": cwd, "exceptions": [exception], "paths": paths})


def _dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "backslashreplace")
