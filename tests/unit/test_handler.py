"""ric.handler.load_handler: handler strings to callables, and every init error."""

from __future__ import annotations

import sys

import pytest

from ric.errors import (
    BuiltInModuleConflict,
    HandlerNotFound,
    ImportModuleError,
    InitError,
    MalformedHandlerName,
    UserCodeSyntaxError,
    UserInitError,
)
from ric.handler import load_handler, split_handler
from tests.conftest import TaskRoot

HANDLER_SOURCE = """
def func(event, context):
    return ("called", __name__, event)
"""


def test_module_function(task_root: TaskRoot) -> None:
    task_root.write(f"{task_root.name}.py", HANDLER_SOURCE)
    function = load_handler(f"{task_root.name}.func", task_root.root)
    assert function(1, None) == ("called", task_root.name, 1)


@pytest.mark.parametrize("separator", ["/", "."], ids=["slashes", "dots"])
def test_nested_module_function(task_root: TaskRoot, separator: str) -> None:
    task_root.write(f"{task_root.name}/__init__.py", "")
    task_root.write(f"{task_root.name}/sub/__init__.py", "")
    task_root.write(f"{task_root.name}/sub/mod.py", HANDLER_SOURCE)
    handler = separator.join([task_root.name, "sub", "mod"]) + ".func"
    function = load_handler(handler, task_root.root)
    assert function(2, None) == ("called", f"{task_root.name}.sub.mod", 2)


def test_namespace_package(task_root: TaskRoot) -> None:
    task_root.write(f"{task_root.name}/mod.py", HANDLER_SOURCE)
    function = load_handler(f"{task_root.name}/mod.func", task_root.root)
    assert function(3, None) == ("called", f"{task_root.name}.mod", 3)


def test_task_root_comes_first_once(task_root: TaskRoot) -> None:
    task_root.write(f"{task_root.name}.py", HANDLER_SOURCE)
    load_handler(f"{task_root.name}.func", task_root.root)
    load_handler(f"{task_root.name}.func", task_root.root)
    assert sys.path[0] == task_root.root
    assert sys.path.count(task_root.root) == 1


def test_task_root_shadows_later_paths(task_root: TaskRoot) -> None:
    # A module of the same name further down sys.path must not win.
    other = task_root.path / "other"
    (task_root.path / "main").mkdir()
    other.mkdir()
    (task_root.path / "main" / f"{task_root.name}.py").write_text("def f(e, c): return 'main'\n")
    (other / f"{task_root.name}.py").write_text("def f(e, c): return 'other'\n")
    sys.path.insert(0, str(other))
    function = load_handler(f"{task_root.name}.f", str(task_root.path / "main"))
    assert function(None, None) == "main"


@pytest.mark.parametrize(
    ("handler", "parts"),
    [("m.f", ("m", "f")), ("a.b.c.f", ("a.b.c", "f")), ("a/b/c.f", ("a/b/c", "f"))],
)
def test_split_handler(handler: str, parts: tuple[str, str]) -> None:
    assert split_handler(handler) == parts


# (handler, files to write, error class, errorType, message); {mod} is the unique module name.
INIT_ERRORS = {
    "no-dot": (
        "nodot",
        {},
        MalformedHandlerName,
        "Runtime.MalformedHandlerName",
        "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)",
    ),
    "missing-module": (
        "missing_x.handler",
        {},
        ImportModuleError,
        "Runtime.ImportModuleError",
        "Unable to import module 'missing_x': No module named 'missing_x'",
    ),
    "missing-dependency": (
        "{mod}.handler",
        {"{mod}.py": "import nonexistent_pkg_x\n"},
        ImportModuleError,
        "Runtime.ImportModuleError",
        "Unable to import module '{mod}': No module named 'nonexistent_pkg_x'",
    ),
    "syntax-error": (
        "{mod}.handler",
        {"{mod}.py": "import os\nx = = 1\n"},
        UserCodeSyntaxError,
        "Runtime.UserCodeSyntaxError",
        "Syntax error in module '{mod}': invalid syntax ({mod}.py, line 2)",
    ),
    "missing-function": (
        "{mod}.nothere",
        {"{mod}.py": "def handler(e, c): pass\n"},
        HandlerNotFound,
        "Runtime.HandlerNotFound",
        "Handler 'nothere' missing on module '{mod}'",
    ),
    "built-in-module": (
        "sys.handler",
        {},
        BuiltInModuleConflict,
        "Runtime.BuiltInModuleConflict",
        "Cannot use built-in module sys as a handler module",
    ),
    "raises-at-import": (
        "{mod}.handler",
        {"{mod}.py": "def handler(e, c): pass\nraise ValueError('boom')\n"},
        UserInitError,
        "ValueError",
        "boom",
    ),
}


@pytest.mark.parametrize("case", INIT_ERRORS)
def test_init_errors(task_root: TaskRoot, case: str) -> None:
    handler, files, error_class, error_type, message = INIT_ERRORS[case]
    for relative, source in files.items():
        task_root.write(relative.format(mod=task_root.name), source)
    with pytest.raises(InitError) as info:
        load_handler(handler.format(mod=task_root.name), task_root.root)
    error = info.value
    assert type(error) is error_class
    assert error.error_type == error_type
    assert error.message == str(error) == message.format(mod=task_root.name)


def test_syntax_error_keeps_the_user_exception(task_root: TaskRoot) -> None:
    path = task_root.write(f"{task_root.name}.py", "import os\nx = = 1\n")
    with pytest.raises(UserCodeSyntaxError) as info:
        load_handler(f"{task_root.name}.handler", task_root.root)
    cause = info.value.user_exception
    assert isinstance(cause, SyntaxError)
    assert (cause.filename, cause.lineno, cause.text) == (str(path), 2, "x = = 1\n")


def test_import_error_keeps_the_user_exception(task_root: TaskRoot) -> None:
    task_root.write(f"{task_root.name}.py", "import nonexistent_pkg_x\n")
    with pytest.raises(ImportModuleError) as info:
        load_handler(f"{task_root.name}.handler", task_root.root)
    cause = info.value.user_exception
    assert isinstance(cause, ModuleNotFoundError)
    assert cause.name == "nonexistent_pkg_x"


def test_user_init_error_keeps_the_original_exception(task_root: TaskRoot) -> None:
    path = task_root.write(
        f"{task_root.name}.py",
        """
        class Boom(ValueError):
            pass

        raise Boom("boom")
        """,
    )
    with pytest.raises(UserInitError) as info:
        load_handler(f"{task_root.name}.handler", task_root.root)
    error = info.value
    assert error.error_type == "Boom"
    cause = error.user_exception
    assert type(cause).__name__ == "Boom"
    assert isinstance(cause, ValueError)
    assert cause.args == ("boom",)
    tb = cause.__traceback__
    assert tb is not None
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert (tb.tb_frame.f_code.co_filename, tb.tb_lineno) == (str(path), 5)
    # Our own frames are kept out of the chain a user would see.
    assert error.__suppress_context__
    assert error.__cause__ is None


def test_failed_import_leaves_no_module(task_root: TaskRoot) -> None:
    task_root.write(f"{task_root.name}.py", "raise ValueError('boom')\n")
    with pytest.raises(UserInitError):
        load_handler(f"{task_root.name}.handler", task_root.root)
    assert task_root.name not in sys.modules


@pytest.mark.parametrize(
    ("handler", "cause"),
    [("nodot", type(None)), ("sys.handler", type(None)), ("missing_x.h", ModuleNotFoundError)],
)
def test_user_exception_only_when_user_code_raised(
    task_root: TaskRoot, handler: str, cause: type
) -> None:
    with pytest.raises(InitError) as info:
        load_handler(handler, task_root.root)
    assert type(info.value.user_exception) is cause
