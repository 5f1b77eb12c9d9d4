"""ric.report: error bodies, X-Ray causes and log records, byte for byte."""

from __future__ import annotations

import inspect
import io
import json
import os
from typing import Any

import pytest

import ric
from ric.errors import ContextUnmarshalError, ImportModuleError, InitError, MarshalError
from ric.handler import load_handler
from ric.log import LogSink
from ric.records import ErrorLog, error_text
from ric.report import fault_report, init_report, user_report
from tests.conftest import TaskRoot

NBSP = "\u00a0"
RIC_DIR = os.path.dirname(ric.__file__) + os.sep


def dumps(value: object) -> bytes:
    """The managed runtime's JSON: ", " and ": " separators, raw UTF-8."""
    return json.dumps(value, ensure_ascii=False).encode()


def raised(message: str) -> BaseException:
    """An exception raised two frames down; the call is part of a larger expression."""

    def inner() -> int:
        raise ValueError(message)

    try:
        total = 1 + inner()
    except ValueError as exc:
        return exc
    raise AssertionError(f"unreachable: {total}")


def line_of(text: str) -> int:
    lines, start = inspect.getsourcelines(raised)
    return start + next(i for i, line in enumerate(lines) if text in line)


CALL_LINE = line_of("total = 1 + inner()")
RAISE_LINE = line_of("raise ValueError(message)")
# traceback.format_list's shape, without the "^^^^" lines Python 3.11+ adds.
STACK = [
    f'  File "{__file__}", line {CALL_LINE}, in raised\n    total = 1 + inner()\n',
    f'  File "{__file__}", line {RAISE_LINE}, in inner\n    raise ValueError(message)\n',
]


def load_failure(task_root: TaskRoot, source: str) -> tuple[InitError, str]:
    """The init error of a handler module with ``source``, and the module's path."""
    path = task_root.write(f"{task_root.name}.py", source)
    with pytest.raises(InitError) as info:
        load_handler(f"{task_root.name}.handler", task_root.root)
    return info.value, str(path)


def test_user_report() -> None:
    report = user_report(raised("bad value"), "rid", "/cwd")
    assert report.error_type == "ValueError"
    assert report.body.startswith(
        b'{"errorMessage": "bad value", "errorType": "ValueError", "requestId": "rid", '
        b'"stackTrace": ["  File \\"'
    )
    assert report.body == dumps(
        {
            "errorMessage": "bad value",
            "errorType": "ValueError",
            "requestId": "rid",
            "stackTrace": STACK,
        }
    )
    assert report.log_text == error_text(ErrorLog("ValueError", "bad value", "rid", STACK))


def test_user_report_xray_cause() -> None:
    report = user_report(raised("bad value"), "rid", "/cwd")
    xray_stack = [
        {"label": "raised", "path": __file__, "line": CALL_LINE},
        {"label": "inner", "path": __file__, "line": RAISE_LINE},
    ]
    assert report.xray_cause == dumps(
        {
            "working_directory": "/cwd",
            "exceptions": [{"message": "bad value", "type": "ValueError", "stack": xray_stack}],
            "paths": [__file__],
        }
    )


def test_non_ascii_message_stays_utf8() -> None:
    exc = raised("héllo ✓")
    report = user_report(exc, "rid", "/cwd")
    assert '"errorMessage": "héllo ✓"'.encode() in report.body
    assert report.xray_cause is not None
    assert '"message": "héllo ✓"'.encode() in report.xray_cause
    assert report.log_text.startswith("[ERROR] ValueError: héllo ✓\r")


def test_lone_surrogate_message_gives_valid_json() -> None:
    exc = raised("a\ud800b")
    report = user_report(exc, "rid", "/cwd")
    assert json.loads(report.body)["errorMessage"] == "a\ud800b"


def test_lone_surrogate_log_is_writable() -> None:
    exc = raised("a\ud800b")
    buffer = io.BytesIO()
    stream = io.TextIOWrapper(buffer, encoding="utf-8", write_through=True)
    LogSink(stream=stream).error(user_report(exc, "rid", "/cwd").log)
    assert buffer.getvalue().startswith(b"[ERROR] ValueError: a\\ud800b\r")


def test_runtime_frames_are_dropped(task_root: TaskRoot) -> None:
    error, path = load_failure(task_root, "x = 1\nraise ValueError('boom')\n")
    cause = error.user_exception
    assert cause is not None and cause.__traceback__ is not None
    # The raw traceback starts in ric/handler.py, where the import was made.
    assert cause.__traceback__.tb_frame.f_code.co_filename.startswith(RIC_DIR)

    report = user_report(cause, "rid", "/cwd")

    # Neither ric's frames nor the import machinery's: the user's code comes first.
    assert json.loads(report.body)["stackTrace"] == [
        f"  File \"{path}\", line 2, in <module>\n    raise ValueError('boom')\n"
    ]
    assert report.xray_cause is not None
    assert json.loads(report.xray_cause)["paths"] == [path]


FAULT_XRAY = (
    b'{"working_directory": "/cwd", "exceptions": '
    b'[{"message": "m", "type": "LambdaValidationError", "stack": []}], "paths": []}'
)


@pytest.mark.parametrize(
    "error", [MarshalError("m"), ContextUnmarshalError("m")], ids=["marshal", "context"]
)
def test_fault_report(error: Any) -> None:
    report = fault_report(error, "rid", "/cwd")
    assert report.error_type == error.error_type
    assert report.body == (
        b'{"errorMessage": "m", "errorType": "'
        + error.error_type.encode()
        + b'", "requestId": "rid", "stackTrace": []}'
    )
    assert report.xray_cause == FAULT_XRAY
    assert report.log_text == f"[ERROR] {error.error_type}: m\rTraceback (most recent call last):\n"


def test_init_report_syntax_error(task_root: TaskRoot) -> None:
    error, path = load_failure(task_root, "import os\nx = = 1\n")
    report = init_report(error)
    # The managed runtime's shape: no comma and a capital "Line".
    entry = f'  File "{path}" Line 2\n    x = = 1\n'
    assert report.error_type == "Runtime.UserCodeSyntaxError"
    assert report.body == dumps(
        {
            "errorMessage": f"Syntax error in module '{task_root.name}': "
            f"invalid syntax ({task_root.name}.py, line 2)",
            "errorType": "Runtime.UserCodeSyntaxError",
            "requestId": "",
            "stackTrace": [entry],
        }
    )
    assert report.xray_cause is None
    assert report.log_text.endswith(f'\r{NBSP * 2}File "{path}" Line 2\r{NBSP * 4}x = = 1\n')


def test_init_report_import_error_has_no_stack(task_root: TaskRoot) -> None:
    error, _ = load_failure(task_root, "import nonexistent_pkg_x\n")
    assert isinstance(error, ImportModuleError)
    report = init_report(error)
    assert report.body == dumps(
        {
            "errorMessage": f"Unable to import module '{task_root.name}': "
            "No module named 'nonexistent_pkg_x'",
            "errorType": "Runtime.ImportModuleError",
            "requestId": "",
            "stackTrace": [],
        }
    )
    assert report.xray_cause is None


def test_init_report_user_error_has_user_frames(task_root: TaskRoot) -> None:
    error, path = load_failure(task_root, "def f():\n    raise KeyError('k')\nf()\n")
    report = init_report(error)
    body = json.loads(report.body)
    assert (body["errorType"], body["errorMessage"], body["requestId"]) == ("KeyError", "'k'", "")
    assert body["stackTrace"] == [
        f'  File "{path}", line 3, in <module>\n    f()\n',
        f"  File \"{path}\", line 2, in f\n    raise KeyError('k')\n",
    ]


class NoSource:
    """A module loader whose get_source raises: linecache asks it for a line."""

    def get_source(self, name: str) -> str:
        raise ValueError("no source for you")


def test_frames_whose_source_cannot_be_read_are_reported_without_it() -> None:
    scope: dict[str, Any] = {"__name__": "virtual", "__loader__": NoSource()}
    exec(
        compile("def fail():\n    raise KeyError('k')\n", "/nonexistent/virtual.py", "exec"), scope
    )
    try:
        scope["fail"]()
    except KeyError as exc:
        report = user_report(exc, "rid", "/cwd")
    body = json.loads(report.body)
    assert body["errorMessage"] == "'k'"
    assert body["stackTrace"][-1] == '  File "/nonexistent/virtual.py", line 2, in fail\n'
    assert body["stackTrace"][0].endswith('    scope["fail"]()\n')


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str")


def test_an_exception_whose_str_raises_gets_pythons_wording() -> None:
    try:
        raise Unprintable()
    except Unprintable as exc:
        report = user_report(exc, "rid", "/cwd")
    assert json.loads(report.body)["errorMessage"] == "<exception str() failed>"
    assert report.log.message == "<exception str() failed>"
