"""``python -m emulator``: the command line, the only place that reads argv.

Forms (``--help`` shows them all)::

    python -m emulator [OPTIONS] -- COMMAND [ARGS...]     RIE-compatible
    python -m emulator [OPTIONS] MODULE.FUNCTION          zero-config, with our ric
    python -m emulator [OPTIONS] --config FILE.toml       several functions
    python -m emulator invoke [NAME] [--payload JSON|@FILE] [--event|--dry-run] [--tail]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

from emulator.config import (
    DEFAULT_CONCURRENCY,
    INVOKE_MODES,
    EmulatorConfig,
    FunctionConfig,
    UrlConfig,
    bootstrap_command,
    default,
    default_state_dir,
    load_sources,
    load_toml,
)
from emulator.core.streaming import MIB, STREAM_BURST, STREAM_RATE, StreamLimits
from emulator.credentials import credentials
from emulator.errors import ConfigError

__all__ = ["main", "parse_config"]

DESCRIPTION = """\
A local AWS Lambda: the Invoke API for callers (curl, boto3, the AWS CLI with
--endpoint-url) and the Runtime API for the runtimes it starts.

  python -m emulator [OPTIONS] -- COMMAND [ARGS...]   run COMMAND as the runtime (as aws-lambda-rie)
  python -m emulator [OPTIONS] MODULE.FUNCTION        run a Python handler with our ric
  python -m emulator [OPTIONS] --config FILE.toml     declare several functions
  python -m emulator invoke --help                    the matching client

RIE's variables are honoured as defaults: AWS_LAMBDA_FUNCTION_NAME,
AWS_LAMBDA_FUNCTION_TIMEOUT, AWS_LAMBDA_FUNCTION_MEMORY_SIZE.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("handler", nargs="?", help="MODULE.FUNCTION to serve with ric")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=9000, help="Invoke API port (default 9000; 0: any)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        help=f"function timeout in seconds (default {default('timeout_s'):g})",
    )
    parser.add_argument(
        "--memory",
        type=int,
        help=(
            f"memory size in MB (default {default('memory_mb')}); "
            "a function that uses more is killed (Runtime.OutOfMemory)"
        ),
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        help=f"environments at most, per function (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--max-concurrency",
        type=int,
        help="invocations at once in one environment (default 1; above 1: multi-concurrency mode)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        help=(
            "seconds an environment may stay idle before it is shut down "
            f"(default {default('idle_s'):g})"
        ),
    )
    parser.add_argument("--function-name", help="the function's name (default 'function')")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="K=V",
        help="an environment variable (repeatable)",
    )
    parser.add_argument("--code-dir", default=".", help="the handler's code directory (default .)")
    parser.add_argument(
        "--layer",
        action="append",
        default=[],
        metavar="DIR",
        help="a layer directory, merged into the function's /opt in the order given "
        "(repeatable, 5 at most; for --config: the layers of functions that list none)",
    )
    parser.add_argument("--config", type=Path, help="a TOML file of [functions.NAME] tables")
    parser.add_argument(
        "--function-url",
        choices=INVOKE_MODES,
        help="serve the function at a function URL on --url-port, in this invoke mode",
    )
    parser.add_argument(
        "--url-port", type=int, default=9001, help="the function URL's port (default 9001)"
    )
    parser.add_argument(
        "--stream-rate",
        type=float,
        default=STREAM_RATE / MIB,
        metavar="MB_PER_S",
        help=(
            "bandwidth of a streamed response after its first "
            f"{STREAM_BURST // MIB} MB, as Lambda caps it (default {STREAM_RATE // MIB}; "
            "0: no cap, for local work)"
        ),
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        help=(
            "where queued asynchronous events and event invoke configs are kept "
            "(default: $XDG_STATE_HOME/ric-emulator/port-PORT)"
        ),
    )
    parser.add_argument(
        "--account-concurrency",
        type=int,
        default=1000,
        help=(
            "the account's concurrency: functions without a reservation share what is "
            "not reserved (default 1000)"
        ),
    )
    parser.add_argument(
        "--async-retry-delays",
        type=_delays,
        metavar="S,S",
        help="seconds before a failed Event invocation's two retries (default 60,120)",
    )
    parser.add_argument(
        "--watch",
        action=argparse.BooleanOptionalAction,
        help="reload: a change under a function's code directory retires its warm "
        "environments (default: on for MODULE.FUNCTION, off for --config and -- COMMAND)",
    )
    given = parser.add_mutually_exclusive_group()
    given.add_argument(
        "--profile",
        metavar="NAME",
        help="give functions this AWS profile's credentials (default: the emulator's own "
        "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, if set)",
    )
    given.add_argument(
        "--no-credentials", action="store_true", help="give functions no AWS credentials"
    )
    parser.add_argument(
        "--sqs-endpoint",
        metavar="URL",
        help=(
            "the SQS endpoint event source mappings poll (moto's server, ElasticMQ, "
            "LocalStack...); default: moto's server, embedded, on a loopback port"
        ),
    )
    parser.add_argument(
        "--sqs",
        action="store_true",
        help="start the SQS endpoint with the emulator (else when first needed) and print its URL",
    )
    return parser


def _delays(text: str) -> tuple[float, ...]:
    try:
        delays = tuple(float(part) for part in text.split(","))
    except ValueError:
        delays = ()
    if len(delays) != 2 or any(delay < 0 for delay in delays):
        raise argparse.ArgumentTypeError(
            f"expected two delays in seconds, like 60,120, not {text!r}"
        )
    return delays


def parse_config(argv: Sequence[str], environ: Mapping[str, str]) -> EmulatorConfig:
    """The emulator's settings from the command line and RIE's environment variables."""
    command: list[str] = []
    if "--" in argv:
        split = list(argv).index("--")
        argv, command = argv[:split], list(argv[split + 1 :])
    args = _parser().parse_args(argv)
    memory = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", default("memory_mb"))
    timeout = environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", default("timeout_s"))
    defaults = {
        "memory_mb": _given(args.memory, int(memory)),
        "timeout_s": _given(args.timeout, float(timeout)),
        "concurrency": _given(args.concurrency, DEFAULT_CONCURRENCY),
        "max_concurrency": _given(args.max_concurrency, default("max_concurrency")),
        "idle_s": _given(args.idle_timeout, default("idle_s")),
        "retry_delays_s": args.async_retry_delays or default("retry_delays_s"),
        "watch": bool(args.watch),
        "layers": tuple(os.path.abspath(layer) for layer in args.layer),
    }
    if sum(bool(x) for x in (command, args.handler, args.config)) != 1:
        raise ConfigError("give exactly one of: -- COMMAND, MODULE.FUNCTION, --config FILE")
    endpoint: str | None = None
    mappings: tuple[dict[str, Any], ...] = ()
    if args.config:
        functions = load_toml(args.config, defaults)
        endpoint, mappings = load_sources(args.config)
    else:
        functions = (_single(args, command, environ, defaults),)
    if args.stream_rate < 0:
        raise ConfigError("--stream-rate must be 0 (no cap) or more")
    rate = args.stream_rate * MIB if args.stream_rate else None
    state_dir = args.state_dir or default_state_dir(environ, args.port)
    return EmulatorConfig(
        functions,
        args.host,
        args.port,
        dict(environ),
        StreamLimits(rate=rate),
        state_dir=state_dir,
        account_concurrency=args.account_concurrency,
        credentials=credentials(environ, args.profile, args.no_credentials),
        sqs_endpoint=args.sqs_endpoint or endpoint,
        sqs_at_start=args.sqs or bool(mappings),
        mappings=mappings,
    )


def _single(
    args: argparse.Namespace,
    command: list[str],
    environ: Mapping[str, str],
    defaults: dict[str, Any],
) -> FunctionConfig:
    environment = dict(_pair(item) for item in args.env)
    handler = args.handler or _rie_handler(command) or environ.get("_HANDLER", "")
    return FunctionConfig(
        name=args.function_name or environ.get("AWS_LAMBDA_FUNCTION_NAME", "function"),
        command=tuple(command) if command else bootstrap_command(handler),
        code_dir=os.path.abspath(args.code_dir),
        handler=handler,
        memory_mb=int(defaults["memory_mb"]),
        timeout_s=defaults["timeout_s"],
        environment=environment,
        concurrency=int(defaults["concurrency"]),
        max_concurrency=int(defaults["max_concurrency"]),
        idle_s=defaults["idle_s"],
        url=UrlConfig(args.url_port, args.function_url) if args.function_url else None,
        retry_delays_s=defaults["retry_delays_s"],
        layers=defaults["layers"],
        # On by default in the zero-config form, where the code is being worked on.
        watch=args.watch if args.watch is not None else bool(args.handler),
    )


def _rie_handler(command: list[str]) -> str:
    # aws-lambda-rie takes a command's last argument for the handler when the
    # command has more than one ("python -m awslambdaric app.handler").
    return command[-1] if len(command) > 1 else ""


def _given(value: float | None, default: float) -> float:
    # `value or default` would take an explicit 0 for "not given"; 0 must be refused.
    return default if value is None else value


def _pair(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise ConfigError(f"--env expects K=V, got {item!r}")
    return name, value


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["invoke"]:
        from emulator.client import main as invoke

        return invoke(args[1:])
    try:
        config = parse_config(args, os.environ)
    except (ConfigError, ValueError) as exc:
        sys.stderr.write(f"emulator: error: {exc}\n")
        return 2
    from emulator.app import run

    try:
        _event_loop_runner()(run(config))
    except ConfigError as exc:  # e.g. the state directory is another emulator's
        sys.stderr.write(f"emulator: error: {exc}\n")
        return 2
    except OSError as exc:  # e.g. the port is taken
        sys.stderr.write(f"emulator: error: {exc}\n")
        return 1
    return 0


def _event_loop_runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    try:
        import uvloop
    except ImportError:  # uvloop is optional: the emulator extra brings it
        return asyncio.run
    return uvloop.run


if __name__ == "__main__":
    sys.exit(main())
