"""SnapStart: the runtime hooks around the snapshot, and the restore handshake.

With ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``, once the handler is loaded
the runtime runs the before-snapshot hooks, sends ``GET /runtime/restore/next``
(answered only after Lambda has restored the snapshot), runs the after-restore
hooks and then serves invocations. References, AWS Lambda Developer Guide:

- "Lambda SnapStart runtime hooks for Python" (snapstart-runtime-hooks-python.html):
  before-snapshot hooks run in the reverse order of registration, after-restore
  hooks in the order of registration.
- "Implementing SnapStart hooks for container images" (snapstart-runtime-hooks-custom.html).
- "Using the Lambda runtime API for custom runtimes" (runtimes-api.html),
  "After restore (SnapStart only)" and "Restore error (SnapStart only)".

A hook that raises is logged and reported (before the snapshot to
``/runtime/init/error``, after the restore to ``/runtime/restore/error``, with
the error type in the header and the hook's exception in the body), and the
runtime exits with 64 or 65, as awslambdaric does. A restore/next that fails
for good ends the runtime like a failed ``/next``: a log line and status 1
(awslambdaric instead posts it to init/error as a BeforeSnapshotError and
exits 64, but no hook failed, and the Runtime API is what is failing). Hooks
raising SystemExit or KeyboardInterrupt are not caught (awslambdaric's bare
``except`` reports those too): like in a handler, they end the process.

Hooks come from two registries: ric's own (this module, for code that does not
ship ``snapshot_restore_py``) and ``snapshot_restore_py``'s (what AWS documents).
Registration order across the two cannot be known, so they are treated as if
all of ``snapshot_restore_py``'s hooks had been registered first: before the
snapshot, ric's hooks run (last first), then ``snapshot_restore_py``'s (last
first); after the restore, the exact reverse. This module is only imported in
snap-start mode or by user code that registers hooks, never on the on-demand
path, and it imports nothing at import time.
"""

from __future__ import annotations

import sys

from ric.errors import AfterRestoreError, BeforeSnapshotError, RuntimeApiError
from ric.log import LogSink, runtime_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any, TypeVar

    from ric.client import RuntimeClient
    from ric.errors import HookError
    from ric.protocol import ErrorReport

    F = TypeVar("F", bound=Callable[..., object])
    Hook = tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]

__all__ = [
    "Hooks",
    "package_hooks",
    "register_after_restore",
    "register_before_snapshot",
    "registry",
    "snapshot",
]


class Hooks:
    """Before-snapshot and after-restore hooks, each with its arguments, in registration order."""

    __slots__ = ("after_restore", "before_snapshot")

    def __init__(
        self, before_snapshot: list[Hook] | None = None, after_restore: list[Hook] | None = None
    ) -> None:
        # The lists are kept, not copied: snapshot_restore_py's stay live.
        self.before_snapshot: list[Hook] = [] if before_snapshot is None else before_snapshot
        self.after_restore: list[Hook] = [] if after_restore is None else after_restore

    def register_before_snapshot(self, func: F, *args: Any, **kwargs: Any) -> F:
        self.before_snapshot.append((func, args, kwargs))
        return func

    def register_after_restore(self, func: F, *args: Any, **kwargs: Any) -> F:
        self.after_restore.append((func, args, kwargs))
        return func


# Process-wide by nature, like atexit's: user modules register hooks while they
# are imported, before the runtime could hand them anything. This one object is
# the only state; the runtime reads it through snapshot(), which tests call with
# their own Hooks instead.
_REGISTRY = Hooks()


def registry() -> Hooks:
    """The process-wide hooks that :func:`register_before_snapshot` and co. fill."""
    return _REGISTRY


def register_before_snapshot(func: F, *args: Any, **kwargs: Any) -> F:
    """Have ``func(*args, **kwargs)`` run before Lambda takes the snapshot.

    Usable as a decorator. The last registered hook runs first.
    """
    return _REGISTRY.register_before_snapshot(func, *args, **kwargs)


def register_after_restore(func: F, *args: Any, **kwargs: Any) -> F:
    """Have ``func(*args, **kwargs)`` run after Lambda restores the snapshot.

    Usable as a decorator. The first registered hook runs first.
    """
    return _REGISTRY.register_after_restore(func, *args, **kwargs)


def package_hooks() -> Hooks:
    """The hooks registered through ``snapshot_restore_py``, if the user imported it.

    Registering needs the module imported, so an absent module means no hooks:
    looking in ``sys.modules`` costs nothing and never imports it.
    """
    module = sys.modules.get("snapshot_restore_py")
    if module is None:
        return Hooks()
    return Hooks(module.get_before_snapshot(), module.get_after_restore())


def snapshot(
    client: RuntimeClient, sink: LogSink, registries: Sequence[Hooks] | None = None
) -> int | None:
    """Run the before-snapshot hooks, wait for the restore, run the after-restore hooks.

    ``registries`` are taken as registered one after the other (default:
    ``snapshot_restore_py``'s, then ric's). Returns None to go on serving, or the
    exit status after a failure, which is reported and logged first.
    """
    if registries is None:
        registries = (package_hooks(), _REGISTRY)
    try:
        _run(reversed([hook for hooks in registries for hook in hooks.before_snapshot]))
    except Exception as exc:
        return _fail(BeforeSnapshotError(exc), client.post_init_error, sink)
    try:
        client.restore_next()
    except RuntimeApiError as exc:
        # As when /next fails for good: nothing to report it to.
        sink.text(runtime_line("ERROR", exc.message))
        return 1
    try:
        _run([hook for hooks in registries for hook in hooks.after_restore])
    except Exception as exc:
        return _fail(AfterRestoreError(exc), client.post_restore_error, sink)
    return None


def _run(hooks: Iterable[Hook]) -> None:
    for func, args, kwargs in hooks:
        func(*args, **kwargs)


def _fail(error: HookError, post: Callable[[ErrorReport], object], sink: LogSink) -> int:
    from ric.report import hook_report

    report = hook_report(error)
    sink.error(report.log)
    try:
        post(report)
    except RuntimeApiError as exc:
        sink.text(runtime_line("ERROR", f"{error.error_type} not delivered: {exc.message}"))
    return error.exit_code
