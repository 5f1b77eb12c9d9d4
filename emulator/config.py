"""Functions and emulator settings: frozen values, built once from the command line,
the environment (RIE's variables) or a TOML file.

Defaults are Lambda's: 128 MB, 3 s timeout, ``$LATEST``, us-east-1.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ric
from emulator.core.layers import MAX_LAYERS
from emulator.core.streaming import StreamLimits
from emulator.errors import ConfigError

__all__ = [
    "DEFAULT_CONCURRENCY",
    "INVOKE_MODES",
    "UNRESERVED_MINIMUM",
    "EmulatorConfig",
    "FunctionConfig",
    "UrlConfig",
    "bootstrap_command",
    "default",
    "default_state_dir",
    "load_sources",
    "load_toml",
]

DEFAULT_CONCURRENCY = 10
# Of the account's concurrency, this much always stays unreserved (configuration-concurrency.html).
UNRESERVED_MINIMUM = 100
# ric's bootstrap, shipped inside the ric package: it execs `python -m ric`.
# Found beside ric's own files, so the checkout is never on a function's path.
BOOTSTRAP = Path(ric.__file__).resolve().parent / "bootstrap"


INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")


@dataclass(frozen=True)
class UrlConfig:
    """A function URL ("Lambda function URLs", urls-configuration.html): served on
    ``port`` of the emulator's host; ``invoke_mode`` as the URL's InvokeMode;
    ``qualifier``: the alias whose URL it is (None: ``$LATEST``'s)."""

    port: int
    invoke_mode: str = "BUFFERED"
    qualifier: str | None = None  # an alias (or $LATEST): the URL runs what it points to

    def __post_init__(self) -> None:
        if self.invoke_mode not in INVOKE_MODES:
            modes = " or ".join(INVOKE_MODES)
            raise ConfigError(f"a function URL's invoke mode is {modes}, not {self.invoke_mode!r}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"a function URL's port must be 0 to 65535, not {self.port}")

    @property
    def streaming(self) -> bool:
        return self.invoke_mode == "RESPONSE_STREAM"


@dataclass(frozen=True)
class FunctionConfig:
    """One function: how to start its runtime and the limits it runs under."""

    name: str
    command: tuple[str, ...]
    code_dir: str
    handler: str = ""
    memory_mb: int = 128
    timeout_s: float = 3.0
    environment: Mapping[str, str] = field(default_factory=dict)
    concurrency: int = DEFAULT_CONCURRENCY
    # Invocations at once in one environment: above 1, the multi-concurrency
    # mode of Lambda Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY).
    max_concurrency: int = 1
    region: str = "us-east-1"
    version: str = "$LATEST"
    idle_s: float = 600.0  # an environment idle this long is shut down
    grace_s: float = 2.0  # SIGTERM to SIGKILL at shutdown
    url: UrlConfig | None = None
    # Asynchronous invocation: the event invoke config this function starts with
    # (PutFunctionEventInvokeConfig's fields), its DeadLetterConfig.TargetArn, and
    # the delays before a function error's retries (Lambda's: 1 and 2 minutes).
    event_invoke: Mapping[str, Any] | None = None
    dead_letter: str | None = None
    reserved_concurrency: int | None = None  # PutFunctionConcurrency's, at start-up
    watch: bool = False  # code reload: a change under code_dir or a layer retires environments
    # Layer directories (absolute), merged in this order into the stand-in for /opt
    # (emulator.core.layers).
    layers: tuple[str, ...] = ()
    retry_delays_s: tuple[float, ...] = (60.0, 120.0)

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or ":" in self.name:
            raise ConfigError(f"bad function name {self.name!r}")
        if not self.command:
            raise ConfigError(f"function {self.name}: no runtime command")
        if not 128 <= self.memory_mb <= 10240:
            raise ConfigError(f"function {self.name}: memory must be 128 to 10240 MB")
        if not 0 < self.timeout_s <= 900:
            raise ConfigError(f"function {self.name}: timeout must be 1 to 900 seconds")
        if self.idle_s <= 0:
            raise ConfigError(f"function {self.name}: idle timeout must be positive")
        if self.concurrency < 1 or self.max_concurrency < 1:
            raise ConfigError(f"function {self.name}: concurrency must be at least 1")
        if self.reserved_concurrency is not None and self.reserved_concurrency < 0:
            raise ConfigError(f"function {self.name}: reserved concurrency must be 0 or more")
        if len(self.retry_delays_s) != 2 or any(d < 0 for d in self.retry_delays_s):
            raise ConfigError(f"function {self.name}: give two retry delays, in seconds")
        self._check_layers()

    def _check_layers(self) -> None:
        # "Adding layers to functions": up to five layers.
        if len(self.layers) > MAX_LAYERS:
            raise ConfigError(
                f"function {self.name}: {MAX_LAYERS} layers at most, not {len(self.layers)}"
            )
        for layer in self.layers:
            if not os.path.isdir(layer):
                raise ConfigError(f"function {self.name}: no layer directory {layer}")

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:123456789012:function:{self.name}"

    def qualified_arn(self, qualifier: str | None) -> str:
        """The ARN with ``qualifier`` (a version or alias) after it; None: unqualified."""
        return self.arn if qualifier is None else f"{self.arn}:{qualifier}"


@dataclass(frozen=True)
class EmulatorConfig:
    """Where the Invoke API listens, and the functions it serves."""

    functions: tuple[FunctionConfig, ...]
    host: str = "127.0.0.1"
    port: int = 9000
    # The emulator's own environment, read once: runtimes inherit a few of its
    # variables (PATH, HOME, AWS credentials...).
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    streaming: StreamLimits = field(default_factory=StreamLimits)
    # Where queued asynchronous events and event invoke configs are kept; None: in memory.
    state_dir: Path | None = None
    # The account's concurrency, of which reservations are taken (GetAccountSettings).
    account_concurrency: int = 1000
    # What every function gets for its execution role's credentials (emulator.credentials).
    credentials: Mapping[str, str] = field(default_factory=dict)
    # SQS: the endpoint (None: moto's server, embedded, started when first needed),
    # whether to start it with the emulator, and the mappings declared up front
    # (CreateEventSourceMapping's request documents).
    sqs_endpoint: str | None = None
    sqs_at_start: bool = False
    mappings: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        names = [f.name for f in self.functions]
        if len(set(names)) != len(names):
            raise ConfigError(f"function names must be unique: {names}")
        # Below 100 (a new account's quota is 10) no function can reserve any of it.
        if self.account_concurrency < 1:
            raise ConfigError("the account concurrency must be at least 1")
        for function in self.functions:
            _outside_code(self.state_dir, function)
        ports = [f.url.port for f in self.functions if f.url is not None and f.url.port]
        if len(set(ports)) != len(ports) or self.port in ports:
            raise ConfigError(f"each function URL needs a port of its own: {ports}")


def _outside_code(state_dir: Path | None, function: FunctionConfig) -> None:
    """A state directory in a code directory would be part of its code: every change of
    the database a change of the code (a reload, a new version each time, versions
    within versions). A top-level dot-directory there is left out of the code, so it
    may be."""
    if state_dir is None:
        return
    try:
        inside = Path(os.path.abspath(state_dir)).relative_to(os.path.abspath(function.code_dir))
    except ValueError:
        return
    if not inside.parts or not inside.parts[0].startswith("."):
        raise ConfigError(
            f"state directory {state_dir} is inside the code directory of function "
            f"{function.name} ({function.code_dir}): give one outside it, or a "
            "dot-directory such as .emulator-state"
        )


def default_state_dir(environ: Mapping[str, str], port: int) -> Path:
    """``$XDG_STATE_HOME/ric-emulator/port-PORT`` (``~/.local/state`` without it).

    One per port, so emulators of two projects side by side each have their own.
    """
    base = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "ric-emulator" / f"port-{port}"


def default(name: str) -> Any:
    """The default of a :class:`FunctionConfig` field: each default has this one home."""
    return FunctionConfig.__dataclass_fields__[name].default


def bootstrap_command(handler: str) -> tuple[str, ...]:
    """The runtime command of the zero-config form: our bootstrap, this Python."""
    return ("/bin/sh", str(BOOTSTRAP), handler)


def load_toml(path: Path, defaults: Mapping[str, Any] | None = None) -> tuple[FunctionConfig, ...]:
    """Functions declared in a TOML file as ``[functions.NAME]`` tables.

    Keys: ``handler`` or ``command`` (a string or a list), ``code_dir``,
    ``memory``, ``timeout``, ``concurrency``, ``max_concurrency``,
    ``idle_timeout`` (seconds), ``environment`` (a table), ``url`` (a table:
    ``port``, ``invoke_mode`` BUFFERED or RESPONSE_STREAM, ``alias``), ``async`` (a table:
    ``maximum_retry_attempts``, ``maximum_event_age``, ``on_success``,
    ``on_failure``, ``dead_letter`` (ARNs), ``retry_delays`` (two seconds)),
    ``reserved_concurrency``, ``watch`` (code reload), ``layers`` (directories).
    Relative code and layer directories are taken from the file's directory.
    """
    document = _read_toml(path)
    tables = document.get("functions")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{path}: no [functions.NAME] table")
    return tuple(
        _function_from_table(name, table, path.parent, defaults or {})
        for name, table in tables.items()
    )


def load_sources(path: Path) -> tuple[str | None, tuple[dict[str, Any], ...]]:
    """The TOML file's ``sqs_endpoint`` (a URL) and ``[[event_source_mappings]]`` tables.

    A mapping table has CreateEventSourceMapping's keys (``FunctionName``,
    ``EventSourceArn``, ``BatchSize``...), checked when the emulator starts.
    """
    document = _read_toml(path)
    endpoint = document.get("sqs_endpoint")
    if endpoint is not None and not isinstance(endpoint, str):
        raise ConfigError(f"{path}: sqs_endpoint must be a URL")
    tables = document.get("event_source_mappings", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{path}: event_source_mappings must be an array of tables")
    return endpoint, tuple(tables)


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        document: dict[str, Any] = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return document


_KEYS = {
    "handler",
    "command",
    "code_dir",
    "memory",
    "timeout",
    "concurrency",
    "max_concurrency",
    "idle_timeout",
    "environment",
    "url",
    "async",
    "reserved_concurrency",
    "watch",
    "layers",
}


def _function_from_table(
    name: str, table: Any, base: Path, defaults: Mapping[str, Any]
) -> FunctionConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"functions.{name} must be a table")
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(f"functions.{name}: unknown keys {sorted(unknown)}")
    handler = str(table.get("handler", ""))
    command = table.get("command")
    if isinstance(command, str):
        command = shlex.split(command)
    if command is None and not handler:
        raise ConfigError(f"functions.{name}: give a handler or a command")
    code_dir = base / str(table.get("code_dir", "."))
    environment = table.get("environment", {})
    if not isinstance(environment, dict):
        raise ConfigError(f"functions.{name}.environment must be a table")

    def setting(key: str, field_name: str) -> Any:
        # The table's value, else the command line's, else the field's own default.
        return table.get(key, defaults.get(field_name, default(field_name)))

    return FunctionConfig(
        name=name,
        command=tuple(command) if command else bootstrap_command(handler),
        code_dir=os.path.abspath(code_dir),
        handler=handler,
        memory_mb=int(setting("memory", "memory_mb")),
        timeout_s=float(setting("timeout", "timeout_s")),
        environment={str(k): str(v) for k, v in environment.items()},
        concurrency=int(setting("concurrency", "concurrency")),
        max_concurrency=int(setting("max_concurrency", "max_concurrency")),
        idle_s=float(setting("idle_timeout", "idle_s")),
        url=_url(name, table.get("url")),
        reserved_concurrency=_optional_int(table.get("reserved_concurrency")),
        watch=bool(table.get("watch", defaults.get("watch", False))),
        layers=_layers(name, table.get("layers"), base, defaults),
        **_async(name, table.get("async"), defaults),
    )


def _layers(name: str, value: Any, base: Path, defaults: Mapping[str, Any]) -> tuple[str, ...]:
    """The table's layer directories (from the file's directory), else the command line's."""
    if value is None:
        return tuple(defaults.get("layers", ()))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"functions.{name}.layers must be an array of directories")
    return tuple(os.path.abspath(base / layer) for layer in value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


_ASYNC_KEYS = {
    "maximum_retry_attempts": "MaximumRetryAttempts",
    "maximum_event_age": "MaximumEventAgeInSeconds",
}


def _async(name: str, table: Any, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """A function's asynchronous settings: its event invoke config, DLQ and retry delays."""
    delays = defaults.get("retry_delays_s", default("retry_delays_s"))
    if table is None:
        return {"retry_delays_s": delays}
    if not isinstance(table, dict):
        raise ConfigError(f"functions.{name}.async must be a table")
    unknown = set(table) - {*_ASYNC_KEYS, "on_success", "on_failure", "dead_letter", "retry_delays"}
    if unknown:
        raise ConfigError(f"functions.{name}.async: unknown keys {sorted(unknown)}")
    document: dict[str, Any] = {
        _ASYNC_KEYS[k]: int(v) for k, v in table.items() if k in _ASYNC_KEYS
    }
    destinations = {
        field_name: {"Destination": str(table[key])}
        for key, field_name in (("on_success", "OnSuccess"), ("on_failure", "OnFailure"))
        if key in table
    }
    if destinations:
        document["DestinationConfig"] = destinations
    return {
        "event_invoke": document or None,
        "dead_letter": str(table["dead_letter"]) if "dead_letter" in table else None,
        "retry_delays_s": tuple(float(d) for d in table.get("retry_delays", delays)),
    }


def _url(name: str, table: Any) -> UrlConfig | None:
    if table is None:
        return None
    if not isinstance(table, dict) or not isinstance(table.get("port"), int):
        raise ConfigError(f"functions.{name}.url must be a table with an integer port")
    unknown = set(table) - {"port", "invoke_mode", "alias"}
    if unknown:
        raise ConfigError(f"functions.{name}.url: unknown keys {sorted(unknown)}")
    alias = table.get("alias")
    return UrlConfig(
        table["port"],
        str(table.get("invoke_mode", "BUFFERED")),
        None if alias is None else str(alias),
    )
