"""emulator.config and the command line's parsing, without starting anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.__main__ import parse_config
from emulator.config import BOOTSTRAP, EmulatorConfig, FunctionConfig, UrlConfig, load_toml
from emulator.core.streaming import StreamLimits
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


def test_a_function_url_from_the_command_line() -> None:
    config = parse_config(["--function-url", "RESPONSE_STREAM", "--url-port", "9100", "a.b"], {})
    (function,) = config.functions
    assert function.url == UrlConfig(9100, "RESPONSE_STREAM")
    assert function.url.streaming
    assert parse_config(["a.b"], {}).functions[0].url is None


def test_function_urls_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "functions.toml"
    path.write_text(
        """
        [functions.a]
        handler = "app.a"
        url = { port = 9100, invoke_mode = "RESPONSE_STREAM" }

        [functions.b]
        handler = "app.b"
        url = { port = 9101 }
        """
    )
    a, b = load_toml(path)
    assert (a.url, b.url) == (UrlConfig(9100, "RESPONSE_STREAM"), UrlConfig(9101, "BUFFERED"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("url = 9100", "must be a table with an integer port"),
        ("url = { port = 1, mode = 'x' }", "unknown keys"),
        ("url = { port = 1, invoke_mode = 'FAST' }", "BUFFERED or RESPONSE_STREAM"),
        ("url = { port = 70000 }", "0 to 65535"),
    ],
)
def test_bad_function_urls(tmp_path: Path, url: str, message: str) -> None:
    path = tmp_path / "functions.toml"
    path.write_text(f"[functions.a]\nhandler = 'x.y'\n{url}\n")
    with pytest.raises(ConfigError) as info:
        load_toml(path)
    assert message in info.value.message


def test_each_function_url_needs_a_port_of_its_own() -> None:
    def function(name: str, port: int) -> FunctionConfig:
        return FunctionConfig(name=name, command=("x",), code_dir="/", url=UrlConfig(port))

    with pytest.raises(ConfigError, match="port of its own"):
        EmulatorConfig((function("a", 9100), function("b", 9100)))
    with pytest.raises(ConfigError, match="port of its own"):
        EmulatorConfig((function("a", 9000),), port=9000)
    EmulatorConfig((function("a", 0), function("b", 0)))  # any free ports


def test_the_stream_rate_is_lambdas_unless_lifted() -> None:
    assert parse_config(["a.b"], {}).streaming == StreamLimits()
    assert parse_config(["--stream-rate", "0", "a.b"], {}).streaming.rate is None
    assert parse_config(["--stream-rate", "8", "a.b"], {}).streaming.rate == 8 * 1024 * 1024
    with pytest.raises(ConfigError, match="--stream-rate"):
        parse_config(["--stream-rate", "-1", "a.b"], {})


def test_sqs_is_off_until_asked_for_and_its_endpoint_is_the_embedded_one() -> None:
    config = parse_config(["app.handler"], {})
    assert (config.sqs_endpoint, config.sqs_at_start, config.mappings) == (None, False, ())
    config = parse_config(["--sqs", "--sqs-endpoint", "http://127.0.0.1:9324", "app.handler"], {})
    assert (config.sqs_endpoint, config.sqs_at_start) == ("http://127.0.0.1:9324", True)


def test_mappings_and_the_sqs_endpoint_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "functions.toml"
    path.write_text(
        'sqs_endpoint = "http://127.0.0.1:9324"\n'
        '[functions.f]\nhandler = "app.handler"\n'
        '[[event_source_mappings]]\nFunctionName = "f"\n'
        'EventSourceArn = "arn:aws:sqs:us-east-1:123456789012:q"\nBatchSize = 5\n'
    )
    config = parse_config(["--config", str(path)], {})
    assert config.sqs_endpoint == "http://127.0.0.1:9324"
    assert config.sqs_at_start  # a declared mapping needs SQS at once
    assert config.mappings == (
        {"FunctionName": "f", "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:q",
         "BatchSize": 5},
    )  # fmt: skip
    given = parse_config(["--config", str(path), "--sqs-endpoint", "http://other:1"], {})
    assert given.sqs_endpoint == "http://other:1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sqs_endpoint = 1\n", "sqs_endpoint must be a URL"),
        ("event_source_mappings = 1\n", "must be an array of tables"),
        ("event_source_mappings = [1]\n", "must be an array of tables"),
    ],
)
def test_bad_sources_in_toml(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "functions.toml"
    path.write_text(text + '[functions.f]\nhandler = "app.handler"\n')
    with pytest.raises(ConfigError, match=message):
        parse_config(["--config", str(path)], {})
