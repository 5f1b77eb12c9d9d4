"""``AWS_LAMBDA_MAX_CONCURRENCY`` > 1: N forked worker processes under a light supervisor.

Lambda Managed Instances send up to ``AWS_LAMBDA_MAX_CONCURRENCY`` concurrent
``GET /next`` requests per environment; the Python runtime answers with one
process per request slot, each a whole runtime with its own init
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-python-runtime.html,
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html). Processes give
each invocation its own ``os.environ`` (``_X_AMZN_TRACE_ID``) and context.

The parent forks before anything of the user's is imported: threads, sockets,
random state and SDK clients made at import time do not survive a fork, and
the platform expects each worker to init, and to report its init error, itself
(the Runtime API answers the second and later reports 403, see
:meth:`ric.client.RuntimeClient.post_init_error`). awslambdaric 4.2 forks at
the same point. The parent then only reaps and replaces workers
(:class:`ric.pool.Pool` decides) and passes SIGTERM and SIGINT on to them.

This module is imported only in that mode, so the single-runtime cold start
never pays for ``signal``, ``ctypes`` or ``socket``.
"""

from __future__ import annotations

import _socket
import os
import signal
import sys
import time
from contextlib import suppress

from ric.log import runtime_line, write
from ric.pool import Pool

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, MutableMapping
    from typing import NoReturn

    from ric.config import RuntimeConfig

__all__ = ["PROVIDER_ENV", "Supervisor", "log_descriptor", "redirect_output", "supervise"]

# The Unix socket the platform hands each worker its log descriptor through.
PROVIDER_ENV = "_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_FORWARDED = {signal.SIGTERM, signal.SIGINT}


def supervise(
    config: RuntimeConfig, serve: Callable[[], int], environ: MutableMapping[str, str]
) -> int:
    """Run ``config.max_concurrency`` workers, each calling ``serve``; the exit status.

    The provider variable is taken out of ``environ`` so that no worker (nor
    anything the user's code starts) sees it; the supervisor keeps the path.
    """
    provider = environ.pop(PROVIDER_ENV, "")
    return Supervisor(Pool(config.max_concurrency), serve, provider).run()


def log_descriptor(path: str) -> int:
    """A new log descriptor from the provider socket at ``path``.

    The descriptor is the connected socket itself: the worker sends and
    receives nothing on connecting, and no descriptor is passed back (no
    SCM_RIGHTS); what it writes to the socket is the log. awslambdaric 4.2
    (``MultiConcurrentRunner._redirect_stream_to_fd``) connects once per stream.
    """
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock.detach()


def redirect_output(path: str, targets: Iterable[int] = (1, 2)) -> None:
    """Point each of ``targets`` (stdout and stderr) at its own log descriptor."""
    for target in targets:
        fd = log_descriptor(path)
        os.dup2(fd, target)
        os.close(fd)


class Supervisor:
    """Forks the workers, reaps them, replaces the dead, stops them all on a signal."""

    __slots__ = ("_parent", "_pool", "_prctl", "_provider", "_serve")

    def __init__(self, pool: Pool, serve: Callable[[], int], provider: str = "") -> None:
        self._pool = pool
        self._serve = serve
        self._provider = provider
        self._parent = os.getpid()
        self._prctl = _load_prctl()

    def run(self) -> int:
        for signum in _FORWARDED:
            signal.signal(signum, self._forward)
        for slot in self._pool.slots:
            self._start(slot)
        pool = self._pool
        while (code := pool.exit_code()) is None:
            pid, status = os.wait()  # resumed after a signal handler (PEP 475)
            verdict = pool.exited(pid, os.waitstatus_to_exitcode(status), time.monotonic())
            if verdict is None:
                continue
            write(runtime_line(verdict.level, verdict.message))
            if verdict.delay is not None:
                # At most Pool's max_delay; a SIGTERM meanwhile is seen after it.
                time.sleep(verdict.delay)
                if pool.stopping is None:
                    self._start(verdict.slot)
        return code

    def _forward(self, signum: int, frame: object) -> None:
        for pid in self._pool.stop(signum):
            with suppress(ProcessLookupError):  # dead already, not reaped yet
                os.kill(pid, signum)

    def _start(self, slot: int) -> None:
        _flush()  # or the child would write the parent's buffered output again
        # Blocked across the fork, so a SIGTERM cannot land between fork() and
        # the pool knowing the new pid, and miss that worker.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _FORWARDED)
        try:
            pid = os.fork()
            if pid == 0:
                self._child(mask)
            self._pool.started(slot, pid, time.monotonic())
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def _child(self, mask: Iterable[int]) -> NoReturn:
        code = 70  # EX_SOFTWARE: crashed in the runtime itself; replaced
        try:
            self._die_with_parent()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            if self._provider:
                redirect_output(self._provider)
            code = self._serve()
        except SystemExit as exc:
            code = _status(exc.code)
        except KeyboardInterrupt:  # SIGINT, passed on by the supervisor: no traceback each
            code = 128 + signal.SIGINT
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            _flush()
            os._exit(code)

    def _die_with_parent(self) -> None:
        """Have the kernel SIGKILL this worker when the supervisor dies, however it dies.

        Linux sends the signal when the *thread* that forked exits: the
        supervisor forks from its only thread, so that is when the process dies.
        """
        if self._prctl is not None and self._prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            write(runtime_line("WARNING", "prctl(PR_SET_PDEATHSIG) failed"))
        # The supervisor may have died before prctl() ran: nothing would kill us then.
        if os.getppid() != self._parent:
            os._exit(1)


def _load_prctl() -> Callable[[int, int], int] | None:
    """libc's prctl(2) on Linux, loaded once in the parent; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl: Callable[[int, int], int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


def _status(code: object) -> int:
    """The exit status ``sys.exit(code)`` would give."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(f"{code}\n")
    return 1


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        # A closed or broken stream must not keep a process from exiting.
        with suppress(OSError, ValueError):
            stream.flush()
