"""emulator.config and the command line's parsing, without starting anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.__main__ import parse_config
from emulator.config import BOOTSTRAP, FunctionConfig, load_toml
from emulator.errors import ConfigError


def test_rie_form_takes_the_command_and_rie_variables(tmp_path: Path) -> None:
    environ = {
        "AWS_LAMBDA_FUNCTION_NAME": "rie-fn",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "30",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    }
    config = parse_config(["--port", "0", "--env", "A=1", "--", "python", "-m", "x"], environ)
    (function,) = config.functions
    assert (config.host, config.port) == ("127.0.0.1", 0)
    assert function.command == ("python", "-m", "x")
    assert (function.name, function.timeout_s, function.memory_mb) == ("rie-fn", 30.0, 512)
    assert function.environment == {"A": "1"}
    # As aws-lambda-rie sets it: the command's last argument, when it has more than one.
    assert function.handler == "x"


@pytest.mark.parametrize(
    ("command", "handler"),
    [
        (["./bootstrap"], "from.env"),
        (["python", "-m", "awslambdaric", "app.handler"], "app.handler"),
    ],
)
def test_the_rie_form_takes_the_handler_from_the_command(command: list[str], handler: str) -> None:
    config = parse_config(["--", *command], {"_HANDLER": "from.env"})
    assert config.functions[0].handler == handler


def test_options_win_over_rie_variables() -> None:
    environ = {"AWS_LAMBDA_FUNCTION_TIMEOUT": "30"}
    config = parse_config(["--timeout", "5", "--function-name", "f", "app.handler"], environ)
    (function,) = config.functions
    assert (function.name, function.timeout_s, function.handler) == ("f", 5.0, "app.handler")
    assert function.command == ("/bin/sh", str(BOOTSTRAP), "app.handler")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["app.handler", "--", "python"],
        ["--env", "NOEQUALS", "app.handler"],
        ["--memory", "64", "a.b"],
    ],
)
def test_bad_command_lines(argv: list[str]) -> None:
    with pytest.raises(ConfigError):
        parse_config(argv, {})


def test_toml_functions(tmp_path: Path) -> None:
    path = tmp_path / "functions.toml"
    path.write_text(
        """
        [functions.a]
        handler = "app.handler"
        code_dir = "src"
        memory = 256
        timeout = 10
        concurrency = 2
        environment = { K = "v", N = 1 }

        [functions.b]
        command = "python -m awslambdaric app.handler"
        """
    )
    a, b = load_toml(path)
    assert (a.name, a.memory_mb, a.timeout_s, a.concurrency) == ("a", 256, 10.0, 2)
    assert a.code_dir == str(tmp_path / "src")
    assert a.environment == {"K": "v", "N": "1"}
    assert b.command == ("python", "-m", "awslambdaric", "app.handler")
    assert b.code_dir == str(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no [functions.NAME] table"),
        ("[functions.a]\nmemory = 256\n", "give a handler or a command"),
        ("[functions.a]\nhandler = 'x.y'\ncolour = 'red'\n", "unknown keys"),
        ("[functions.a]\nhandler = 'x.y'\ntimeout = 0\n", "timeout must be"),
        ("[functions\n", "functions.toml"),
    ],
)
def test_bad_toml(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "functions.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_toml(path)
    assert message in info.value.message


def test_function_limits_and_arn() -> None:
    function = FunctionConfig(name="f", command=("x",), code_dir="/")
    assert function.arn == "arn:aws:lambda:us-east-1:123456789012:function:f"
    for bad in ({"name": "a/b"}, {"memory_mb": 100}, {"concurrency": 0}, {"command": ()}):
        with pytest.raises(ConfigError):
            FunctionConfig(**{"name": "f", "command": ("x",), "code_dir": "/", **bad})  # type: ignore[arg-type]
