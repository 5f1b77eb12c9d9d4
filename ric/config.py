"""The runtime's settings, read once at start-up from an injected environment.

Variable names: AWS Lambda Developer Guide, "Defined runtime environment
variables" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html).
"""

from __future__ import annotations

from ric.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CONCURRENCY_MODE",
    "EVENT_LOOP",
    "LOG_LEVELS",
    "SHUTDOWN_BUDGET",
    "TELEMETRY_FD",
    "RuntimeConfig",
]

SHUTDOWN_BUDGET = "RIC_SHUTDOWN_BUDGET_MS"
# Which event loop async handlers run on (ric.aio): ``auto`` (uvloop when it is
# installed, else asyncio's) or ``asyncio``; ric's own setting.
EVENT_LOOP = "RIC_EVENT_LOOP"
# How AWS_LAMBDA_MAX_CONCURRENCY slots are served: ``process`` (one worker
# process each, as the managed runtime does) or ``async`` (one process, the
# invocations as tasks on its event loop: ric.concurrent); ric's own setting.
CONCURRENCY_MODE = "RIC_CONCURRENCY_MODE"

# The log descriptor the managed runtime writes frames to; the runtime removes
# it from its environment so that the function's own children don't inherit it.
TELEMETRY_FD = "_LAMBDA_TELEMETRY_LOG_FD"
# Lambda's application log levels, as Python's logging numbers (TRACE has none).
LOG_LEVELS = {
    "TRACE": 10,
    "DEBUG": 10,
    "INFO": 20,
    "WARN": 30,
    "WARNING": 30,
    "ERROR": 40,
    "FATAL": 50,
    "CRITICAL": 50,
}


class RuntimeConfig:
    """Immutable settings of one runtime process."""

    __slots__ = (
        "concurrency_mode",
        "event_loop",
        "function_name",
        "function_version",
        "handler",
        "initialization_type",
        "log_format",
        "log_group_name",
        "log_level",
        "log_stream_name",
        "max_concurrency",
        "memory_limit_in_mb",
        "runtime_api",
        "shutdown_budget_s",
        "task_root",
        "telemetry_fd",
    )

    runtime_api: str
    handler: str
    task_root: str
    initialization_type: str
    function_name: str
    function_version: str
    memory_limit_in_mb: str
    log_group_name: str
    log_stream_name: str
    log_format: str
    log_level: int | None
    telemetry_fd: int | None
    shutdown_budget_s: float
    max_concurrency: int
    concurrency_mode: str
    event_loop: str

    def __init__(
        self,
        runtime_api: str,
        handler: str,
        task_root: str,
        function: Mapping[str, str],
    ) -> None:
        values = {
            "runtime_api": runtime_api,
            "handler": handler,
            "task_root": task_root,
            # on-demand, provisioned-concurrency or snap-start (configuration-envvars.html)
            "initialization_type": function.get("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
            "function_name": function.get("AWS_LAMBDA_FUNCTION_NAME", ""),
            "function_version": function.get("AWS_LAMBDA_FUNCTION_VERSION", ""),
            # A string, as awslambdaric's context has it.
            "memory_limit_in_mb": function.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", ""),
            "log_group_name": function.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
            "log_stream_name": function.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
            # Advanced logging controls ("Configuring advanced logging controls").
            "log_format": _log_format(function.get("AWS_LAMBDA_LOG_FORMAT", "")),
            "log_level": _log_level(function.get("AWS_LAMBDA_LOG_LEVEL", "")),
            "telemetry_fd": _descriptor(function.get(TELEMETRY_FD, "")),
            # How long on_shutdown hooks may run after SIGTERM; ric's own setting.
            "shutdown_budget_s": _milliseconds(function.get(SHUTDOWN_BUDGET, "500")),
            "max_concurrency": _concurrency(function.get("AWS_LAMBDA_MAX_CONCURRENCY", "")),
            "concurrency_mode": _concurrency_mode(function.get(CONCURRENCY_MODE, "")),
            "event_loop": _event_loop(function.get(EVENT_LOOP, "")),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"RuntimeConfig is immutable; cannot set {name!r}")

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str], handler: str | None, cwd: str
    ) -> RuntimeConfig:
        """Settings from ``environ``; ``handler`` (the command line's) wins over ``_HANDLER``.

        ``LAMBDA_TASK_ROOT`` defaults to ``cwd``, the directory the runtime started in.
        """
        runtime_api = environ.get("AWS_LAMBDA_RUNTIME_API", "")
        if not runtime_api:
            raise ConfigError("AWS_LAMBDA_RUNTIME_API is not set (expected HOST:PORT)")
        handler = handler or environ.get("_HANDLER", "")
        if not handler:
            raise ConfigError("no handler: pass MODULE.FUNCTION as an argument or set _HANDLER")
        return cls(runtime_api, handler, environ.get("LAMBDA_TASK_ROOT") or cwd, environ)


def _log_format(value: str) -> str:
    if value.upper() in ("", "TEXT"):
        return "Text"
    if value.upper() == "JSON":
        return "JSON"
    raise ConfigError(f"AWS_LAMBDA_LOG_FORMAT: expected Text or JSON, got {value!r}")


def _log_level(value: str) -> int | None:
    if not value:
        return None
    try:
        return LOG_LEVELS[value.upper()]
    except KeyError:
        names = ", ".join(LOG_LEVELS)
        raise ConfigError(f"AWS_LAMBDA_LOG_LEVEL: expected one of {names}, got {value!r}") from None


def _descriptor(value: str) -> int | None:
    if not value:
        return None
    fd = _whole_number(value)
    if fd is None:
        raise ConfigError(f"{TELEMETRY_FD}: expected a file descriptor number, got {value!r}")
    return fd


def _milliseconds(value: str) -> float:
    millis = _whole_number(value)
    if millis is None:
        raise ConfigError(f"{SHUTDOWN_BUDGET}: expected milliseconds, got {value!r}")
    return millis / 1000


def _event_loop(value: str) -> str:
    choice = value.lower() or "auto"
    if choice not in ("auto", "asyncio"):
        raise ConfigError(f"{EVENT_LOOP}: expected auto or asyncio, got {value!r}")
    return choice


def _concurrency_mode(value: str) -> str:
    mode = value.lower() or "process"
    if mode not in ("process", "async"):
        raise ConfigError(f"{CONCURRENCY_MODE}: expected process or async, got {value!r}")
    return mode


def _concurrency(value: str) -> int:
    """Worker processes for Lambda Managed Instances; 1 (one runtime) when unset.

    https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-python-runtime.html
    """
    if not value:
        return 1
    count = _whole_number(value)
    if count is None or count < 1:
        raise ConfigError(
            f"AWS_LAMBDA_MAX_CONCURRENCY must be a whole number of at least 1, got {value!r}"
        )
    return count


def _whole_number(value: str) -> int | None:
    # isdigit() alone would pass "²", which int() refuses, and isdecimal() alone
    # other scripts' digits ("٣"), which int() takes.
    return int(value) if value.isascii() and value.isdecimal() else None
