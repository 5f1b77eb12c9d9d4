"""``python -m ric [HANDLER]``: the only place that reads argv and the environment.

argv and the environment make a :class:`~ric.config.RuntimeConfig`, which makes
a :class:`~ric.runtime.Runtime` (or, with ``AWS_LAMBDA_MAX_CONCURRENCY`` above
1, a supervisor of worker processes, each a Runtime); its result is the exit
status.

Exit status: 0 for ``--help``/``--version``/``--write-bootstrap``; 1 when the
handler cannot be loaded (after reporting it to ``/runtime/init/error``) or the
Runtime API fails for good; 2 for a bad command line or environment.
"""

from __future__ import annotations

import os
import sys

from ric import __version__
from ric.config import TELEMETRY_FD, RuntimeConfig
from ric.errors import ConfigError
from ric.log import LogSink
from ric.runtime import Runtime, connect

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = ["USAGE", "main"]

USAGE = """\
usage: python -m ric [HANDLER]
       ric [HANDLER]
       python -m ric --local [HANDLER]
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
                          serve this many invocations at once (default 1)
  RIC_CONCURRENCY_MODE    process (default): one worker process per invocation
                          slot; async: one process, the slots as tasks on its
                          event loop (the handler must be async def)
  RIC_EVENT_LOOP          auto (default: uvloop if installed) or asyncio
  RIC_SHUTDOWN_BUDGET_MS  how long on_shutdown hooks may run (default 500)

options:
  -h, --help              show this help and exit
  --version               show the version and exit
  --local [HANDLER]       no Lambda around (a container run locally): serve the
                          handler under the emulator on port 8080 (or
                          $RIC_EMULATOR_PORT), as AWS's base images do with RIE
  --write-bootstrap [DIR] write the custom-runtime entrypoint to DIR/bootstrap
                          (default: the current directory) and exit
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    status = _option(args)
    if status is not None:
        return status
    try:
        if len(args) > 1 or (args and args[0].startswith("-")):
            raise ConfigError(f"unexpected arguments: {' '.join(args)} (see --help)")
        config = RuntimeConfig.from_environ(os.environ, args[0] if args else None, os.getcwd())
        sink = _sink(config)
        client = connect(config, sink)
    except ConfigError as exc:
        sys.stderr.write(f"ric: error: {exc.message}\n")
        return 2
    # Output must reach the log before the environment is frozen or killed.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if config.max_concurrency > 1 and config.concurrency_mode == "process":
        # Lambda Managed Instances: one runtime per worker (else ric.concurrent's tasks)
        return _supervise(config, sink)
    return Runtime(config, client, sink, os.environ, os.getcwd()).run()


def _option(args: list[str]) -> int | None:
    """The exit status of an option that is all the command does, else None."""
    if args and args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0
    if args and args[0] == "--version":
        sys.stdout.write(f"ric {__version__}\n")
        return 0
    if args and args[0] == "--write-bootstrap" and len(args) <= 2:
        return _write_bootstrap(args[1] if len(args) == 2 else ".")
    if args and args[0] == "--local" and len(args) <= 2:
        handler = args[1] if len(args) == 2 else os.environ.get("_HANDLER", "")
        problem = _local_problem(handler)
        if problem is not None:
            sys.stderr.write(f"ric: error: {problem}\n")
            return 2
        _exec(_emulator_argv(handler))  # replaces this process
    return None


def _local_problem(handler: str) -> str | None:
    """Why ``--local`` cannot serve ``handler``, if it cannot."""
    import importlib.util

    if not handler:
        return "no handler: pass MODULE.FUNCTION or set _HANDLER"
    if importlib.util.find_spec("emulator") is None:
        return "--local needs the emulator: pip install 'ric[emulator]'"
    return None


def _emulator_argv(handler: str) -> list[str]:
    """The emulator serving ``handler``, as the bootstrap starts it where no Lambda is."""
    port = os.environ.get("RIC_EMULATOR_PORT", "8080")
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    return [
        sys.executable, "-m", "emulator", "--host", "0.0.0.0", "--port", port,
        "--no-watch", "--code-dir", task_root, handler,
    ]  # fmt: skip


def _exec(argv: list[str]) -> NoReturn:
    os.execv(argv[0], argv)


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
    from ric.shutdown import register_shutdown_extension
    from ric.workers import supervise

    # The supervisor passes SIGTERM on to the workers, whose on_shutdown hooks
    # it cannot know of (they import the function after the fork): it asks for
    # SIGTERM itself, once for all of them, during init.
    register_shutdown_extension(config, sink)
    # Frames of several processes on one descriptor could interleave: workers
    # write to stdout, or to the descriptor the provider socket gives them.
    worker_sink = LogSink(json=sink.json)

    def serve() -> int:
        runtime = Runtime(
            config, connect(config, worker_sink), worker_sink, os.environ, os.getcwd()
        )
        return runtime.run(init_failed=INIT_FAILED)

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
    return LogSink(fd, json=config.log_format == "JSON", levels=config.log_level is not None)


if __name__ == "__main__":
    sys.exit(main())
