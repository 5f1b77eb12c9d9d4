"""``python -m ric [HANDLER]``: the only place that reads argv and the environment.

Exit status: 0 for ``--help``/``--version``/``--write-bootstrap``; 1 when the
handler cannot be loaded (after reporting it to ``/runtime/init/error``) or the
Runtime API fails for good; 2 for a bad command line or environment.
"""

from __future__ import annotations

import os
import sys

from ric import __version__
from ric.client import RuntimeClient
from ric.config import TELEMETRY_FD, RuntimeConfig
from ric.context import Scope
from ric.errors import ConfigError, InitError, RuntimeApiError
from ric.handler import load_handler
from ric.log import LogSink, runtime_line, when_imported
from ric.loop import Processor, run
from ric.marshal import Codec
from ric.protocol import RequestBuilder
from ric.transport import Connection, parse_address

__all__ = ["USAGE", "main"]

USAGE = """\
usage: python -m ric [HANDLER]
       ric [HANDLER]
       python -m ric --write-bootstrap [DIR]

Serve an AWS Lambda handler through the Lambda Runtime API.

HANDLER is MODULE.FUNCTION (also pkg.mod.func or pkg/mod.func), imported
from LAMBDA_TASK_ROOT (default: the current directory). Without it, the
_HANDLER environment variable is used.

environment:
  AWS_LAMBDA_RUNTIME_API  HOST:PORT of the Runtime API (required)
  _HANDLER                the handler, when none is given as an argument
  LAMBDA_TASK_ROOT        where the handler's code is
  AWS_LAMBDA_LOG_FORMAT   Text (default) or JSON: the format of log records
  AWS_LAMBDA_LOG_LEVEL    the root logger's level (default INFO)
  AWS_LAMBDA_MAX_CONCURRENCY
                          serve with this many worker processes (default 1)
  RIC_SHUTDOWN_BUDGET_MS  how long on_shutdown hooks may run (default 500)

options:
  -h, --help              show this help and exit
  --version               show the version and exit
  --write-bootstrap [DIR] write the custom-runtime entrypoint to DIR/bootstrap
                          (default: the current directory) and exit
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0
    if args and args[0] == "--version":
        sys.stdout.write(f"ric {__version__}\n")
        return 0
    if args and args[0] == "--write-bootstrap" and len(args) <= 2:
        return _write_bootstrap(args[1] if len(args) == 2 else ".")
    try:
        if len(args) > 1 or (args and args[0].startswith("-")):
            raise ConfigError(f"unexpected arguments: {' '.join(args)} (see --help)")
        config = RuntimeConfig.from_environ(os.environ, args[0] if args else None, os.getcwd())
        sink = _sink(config)
        client = _client(config.runtime_api, sink)
    except ConfigError as exc:
        sys.stderr.write(f"ric: error: {exc.message}\n")
        return 2
    # Output must reach the log before the environment is frozen or killed.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if config.max_concurrency > 1:  # Lambda Managed Instances: one runtime per worker
        return _supervise(config, sink)
    return _serve(config, client, sink)


def _write_bootstrap(folder: str) -> int:
    """Copy the ``bootstrap`` shipped in this package, for a provided.al2023 zip or a layer."""
    import shutil

    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bootstrap")
    target = os.path.join(folder, "bootstrap")
    try:
        shutil.copyfile(source, target)
        os.chmod(target, 0o755)
    except OSError as exc:
        sys.stderr.write(f"ric: error: cannot write {target}: {exc.strerror}\n")
        return 2
    sys.stdout.write(f"{target}\n")
    return 0


def _supervise(config: RuntimeConfig, sink: LogSink) -> int:
    from ric.pool import INIT_FAILED
    from ric.workers import supervise

    # The supervisor passes SIGTERM on to the workers, whose on_shutdown hooks
    # it cannot know of (they import the function after the fork): it asks for
    # SIGTERM itself, once for all of them, during init.
    _register_extension(config, sink)
    # Frames of several processes on one descriptor could interleave: workers
    # write to stdout, or to the descriptor the provider socket gives them.
    worker_sink = LogSink(json=sink.json)

    def serve() -> int:
        client = _client(config.runtime_api, worker_sink)
        return _serve(config, client, worker_sink, init_failed=INIT_FAILED)

    return supervise(config, serve, os.environ)


def _sink(config: RuntimeConfig) -> LogSink:
    fd = config.telemetry_fd
    if fd is not None:
        # Read once; the function's own child processes must not inherit it.
        os.environ.pop(TELEMETRY_FD, None)
        try:
            os.fstat(fd)
        except OSError as exc:
            raise ConfigError(f"{TELEMETRY_FD}: descriptor {fd}: {exc.strerror}") from None
    return LogSink(fd, json=config.log_format == "JSON")


def _client(runtime_api: str, sink: LogSink) -> RuntimeClient:
    try:
        host, port = parse_address(runtime_api)
    except ValueError as exc:
        raise ConfigError(f"AWS_LAMBDA_RUNTIME_API: {exc}") from None
    user_agent = f"ric/{__version__} python/{sys.version.split()[0]}"
    requests = RequestBuilder(runtime_api, user_agent)
    return RuntimeClient(Connection(host, port), requests, sink.text)


def _serve(
    config: RuntimeConfig, client: RuntimeClient, sink: LogSink, init_failed: int = 1
) -> int:
    scope = Scope(sink.text)
    when_imported("logging", lambda _: _install_logging(sink, scope, config.log_level))
    try:
        handler = load_handler(config.handler, config.task_root)
    except InitError as exc:
        _report_init_error(client, sink, exc)
        return init_failed
    codec = Codec()
    if config.initialization_type != "on-demand":
        # Init runs ahead of any caller here, so pay for orjson now, not later.
        codec.load_orjson()
    if "ric.shutdown" in sys.modules:  # only a function that imported it can have hooks
        _prepare_shutdown(config, sink)  # during init: before a snapshot is taken
    if config.initialization_type == "snap-start":
        from ric.snapstart import snapshot

        if (status := snapshot(client, sink)) is not None:
            return status
    processor = Processor(
        handler, config, codec, os.environ, os.getcwd(), log=sink.error, scope=scope
    )
    try:
        run(client, processor)
    except RuntimeApiError as exc:
        sink.text(runtime_line("ERROR", exc.message))
        return 1
    return 0


def _prepare_shutdown(config: RuntimeConfig, sink: LogSink) -> None:
    from ric.shutdown import HOOKS, take_sigterm

    if HOOKS:
        if config.max_concurrency == 1:  # else the supervisor has registered
            _register_extension(config, sink)
        take_sigterm(HOOKS, config.shutdown_budget_s, sink.text)


def _register_extension(config: RuntimeConfig, sink: LogSink) -> None:
    from ric.extensions import ExtensionRequests
    from ric.shutdown import register

    host, port = parse_address(config.runtime_api)
    register(ExtensionRequests(config.runtime_api), Connection(host, port), sink.text)


def _install_logging(sink: LogSink, scope: Scope, level: int | None) -> None:
    from ric.applog import install

    install(sink, scope.current, level)


def _report_init_error(client: RuntimeClient, sink: LogSink, error: InitError) -> None:
    from ric.report import init_report

    report = init_report(error)
    sink.error(report.log)
    try:
        client.post_init_error(report)
    except RuntimeApiError as exc:
        sink.text(runtime_line("ERROR", f"init/error not delivered: {exc.message}"))


if __name__ == "__main__":
    sys.exit(main())
