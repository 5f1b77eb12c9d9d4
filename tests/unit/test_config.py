"""ric.config.RuntimeConfig: read once from an injected environment, then frozen."""

from __future__ import annotations

import pytest

from ric.config import RuntimeConfig
from ric.errors import ConfigError

ENVIRON = {
    "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
    "_HANDLER": "app.handler",
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency",
    "AWS_LAMBDA_FUNCTION_NAME": "fn",
    "AWS_LAMBDA_FUNCTION_VERSION": "7",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
    "AWS_LAMBDA_LOG_STREAM_NAME": "stream",
}
FIELDS = (
    "runtime_api",
    "handler",
    "task_root",
    "initialization_type",
    "function_name",
    "function_version",
    "memory_limit_in_mb",
    "log_group_name",
    "log_stream_name",
)


def fields(config: RuntimeConfig) -> dict[str, str]:
    return {name: getattr(config, name) for name in FIELDS}


def test_reads_every_variable() -> None:
    assert fields(RuntimeConfig.from_environ(ENVIRON, None, "/cwd")) == {
        "runtime_api": "127.0.0.1:9001",
        "handler": "app.handler",
        "task_root": "/var/task",
        "initialization_type": "provisioned-concurrency",
        "function_name": "fn",
        "function_version": "7",
        "memory_limit_in_mb": "512",
        "log_group_name": "/aws/lambda/fn",
        "log_stream_name": "stream",
    }


def test_defaults() -> None:
    config = RuntimeConfig.from_environ({"AWS_LAMBDA_RUNTIME_API": "h:1"}, "m.f", "/cwd")
    assert fields(config) == {
        "runtime_api": "h:1",
        "handler": "m.f",
        "task_root": "/cwd",
        "initialization_type": "on-demand",
        "function_name": "",
        "function_version": "",
        "memory_limit_in_mb": "",
        "log_group_name": "",
        "log_stream_name": "",
    }


@pytest.mark.parametrize("task_root", [None, ""], ids=["unset", "empty"])
def test_task_root_defaults_to_cwd(task_root: str | None) -> None:
    environ = {k: v for k, v in ENVIRON.items() if k != "LAMBDA_TASK_ROOT"}
    if task_root is not None:
        environ["LAMBDA_TASK_ROOT"] = task_root
    assert RuntimeConfig.from_environ(environ, None, "/somewhere").task_root == "/somewhere"


def test_argument_wins_over_handler_variable() -> None:
    assert RuntimeConfig.from_environ(ENVIRON, "other.fn", "/cwd").handler == "other.fn"


@pytest.mark.parametrize(
    ("remove", "handler", "message"),
    [
        ("AWS_LAMBDA_RUNTIME_API", None, "AWS_LAMBDA_RUNTIME_API is not set (expected HOST:PORT)"),
        ("AWS_LAMBDA_RUNTIME_API", "m.f", "AWS_LAMBDA_RUNTIME_API is not set (expected HOST:PORT)"),
        ("_HANDLER", None, "no handler: pass MODULE.FUNCTION as an argument or set _HANDLER"),
        ("_HANDLER", "", "no handler: pass MODULE.FUNCTION as an argument or set _HANDLER"),
    ],
)
def test_missing_settings(remove: str, handler: str | None, message: str) -> None:
    environ = {k: v for k, v in ENVIRON.items() if k != remove}
    with pytest.raises(ConfigError) as info:
        RuntimeConfig.from_environ(environ, handler, "/cwd")
    assert info.value.message == message


def test_empty_runtime_api_is_missing() -> None:
    with pytest.raises(ConfigError):
        RuntimeConfig.from_environ({**ENVIRON, "AWS_LAMBDA_RUNTIME_API": ""}, None, "/cwd")


@pytest.mark.parametrize("name", ["handler", "new_attribute"])
def test_immutable(name: str) -> None:
    config = RuntimeConfig.from_environ(ENVIRON, None, "/cwd")
    with pytest.raises(AttributeError):
        setattr(config, name, "x")
    assert config.handler == "app.handler"


@pytest.mark.parametrize(("value", "expected"), [(None, 1), ("", 1), ("1", 1), ("16", 16)])
def test_max_concurrency(value: str | None, expected: int) -> None:
    environ = {"AWS_LAMBDA_RUNTIME_API": "h:1"}
    if value is not None:
        environ["AWS_LAMBDA_MAX_CONCURRENCY"] = value
    assert RuntimeConfig.from_environ(environ, "m.f", "/cwd").max_concurrency == expected


@pytest.mark.parametrize("value", ["0", "-2", "two", "2.5", " 2", "+2", "\u0663"])
def test_max_concurrency_must_be_a_whole_number_of_at_least_one(value: str) -> None:
    environ = {"AWS_LAMBDA_RUNTIME_API": "h:1", "AWS_LAMBDA_MAX_CONCURRENCY": value}
    with pytest.raises(ConfigError, match="AWS_LAMBDA_MAX_CONCURRENCY must be a whole number"):
        RuntimeConfig.from_environ(environ, "m.f", "/cwd")


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("_LAMBDA_TELEMETRY_LOG_FD", "3", "telemetry_fd", 3),
        ("_LAMBDA_TELEMETRY_LOG_FD", "", "telemetry_fd", None),
        ("RIC_SHUTDOWN_BUDGET_MS", "250", "shutdown_budget_s", 0.25),
        ("AWS_LAMBDA_LOG_FORMAT", "json", "log_format", "JSON"),
        ("AWS_LAMBDA_LOG_LEVEL", "trace", "log_level", 10),
    ],
)
def test_logging_and_shutdown_settings(
    variable: str, value: str, field: str, expected: object
) -> None:
    environ = {"AWS_LAMBDA_RUNTIME_API": "h:1", variable: value}
    assert getattr(RuntimeConfig.from_environ(environ, "m.f", "/cwd"), field) == expected


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("_LAMBDA_TELEMETRY_LOG_FD", "x", "expected a file descriptor number, got 'x'"),
        ("_LAMBDA_TELEMETRY_LOG_FD", "\u00b2", "expected a file descriptor number"),
        ("RIC_SHUTDOWN_BUDGET_MS", "-5", "expected milliseconds, got '-5'"),
        ("RIC_SHUTDOWN_BUDGET_MS", "\u00b2", "expected milliseconds"),
        ("AWS_LAMBDA_LOG_FORMAT", "xml", "expected Text or JSON, got 'xml'"),
        ("AWS_LAMBDA_LOG_LEVEL", "loud", "expected one of TRACE, DEBUG"),
    ],
)
def test_bad_logging_and_shutdown_settings_are_config_errors(
    variable: str, value: str, message: str
) -> None:
    environ = {"AWS_LAMBDA_RUNTIME_API": "h:1", variable: value}
    with pytest.raises(ConfigError, match=f"^{variable}: {message}"):
        RuntimeConfig.from_environ(environ, "m.f", "/cwd")
