"""The runtime's settings, read once at start-up from an injected environment.

Variable names: AWS Lambda Developer Guide, "Defined runtime environment
variables" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html).
"""

from __future__ import annotations

from ric.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["RuntimeConfig"]


class RuntimeConfig:
    """Immutable settings of one runtime process."""

    __slots__ = (
        "function_name",
        "function_version",
        "handler",
        "initialization_type",
        "log_group_name",
        "log_stream_name",
        "max_concurrency",
        "memory_limit_in_mb",
        "runtime_api",
        "task_root",
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
    max_concurrency: int

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
            "max_concurrency": _concurrency(function.get("AWS_LAMBDA_MAX_CONCURRENCY", "")),
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


def _concurrency(value: str) -> int:
    """Worker processes for Lambda Managed Instances; 1 (one runtime) when unset.

    https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-python-runtime.html
    """
    if not value:
        return 1
    # isdecimal() alone would let int() take other scripts' digits, e.g. "٣".
    if not (value.isascii() and value.isdecimal()) or int(value) < 1:
        raise ConfigError(
            f"AWS_LAMBDA_MAX_CONCURRENCY must be a whole number of at least 1, got {value!r}"
        )
    return int(value)
