"""The hot loop: wait for an event, run the handler, post the outcome.

:class:`Processor` turns one invocation into its outcome and does no I/O but
the user's; :func:`run` drives it against a :class:`~ric.client.RuntimeClient`
and can be bounded to a number of invocations.
"""

from __future__ import annotations

from ric.context import Scope, current_context, make_context
from ric.errors import InvocationError
from ric.outcome import Buffered, Failed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping
    from typing import Any

    from ric.client import RuntimeClient
    from ric.config import RuntimeConfig
    from ric.marshal import Codec
    from ric.outcome import Outcome
    from ric.protocol import ErrorReport, Invocation
    from ric.records import ErrorLog

    Handler = Callable[[Any, Any], Any]

__all__ = ["Processor", "run"]

# Set per invocation from Lambda-Runtime-Trace-Id for the X-Ray SDK
# (runtimes-api.html, "Next invocation").
TRACE_ENV = "_X_AMZN_TRACE_ID"


class Processor:
    """Runs the handler for one invocation and returns what to post."""

    __slots__ = ("_codec", "_config", "_cwd", "_environ", "_handler", "_log", "_scope")

    def __init__(
        self,
        handler: Handler,
        config: RuntimeConfig,
        codec: Codec,
        environ: MutableMapping[str, str],
        cwd: str,
        *,
        log: Callable[[ErrorLog], None],
        scope: Scope | None = None,
    ) -> None:
        self._log = log
        self._scope = scope or Scope()
        self._handler = handler
        self._config = config
        self._codec = codec
        self._environ = environ
        self._cwd = cwd

    def handle(self, invocation: Invocation) -> Outcome:
        """What to post; a failure is logged first."""
        trace_id = invocation.trace_id
        if trace_id is None:
            self._environ.pop(TRACE_ENV, None)
        else:
            self._environ[TRACE_ENV] = trace_id
        try:
            scope = self._scope
            context = make_context(invocation, self._config, scope.log)
            scope.latest = context
            token = current_context.set(context)
            try:
                return self._call(invocation, context)
            finally:
                current_context.reset(token)
        except InvocationError as exc:
            from ric.report import fault_report  # error path only

            return self._failed(fault_report(exc, invocation.request_id, self._cwd))

    def _call(self, invocation: Invocation, context: Any) -> Outcome:
        event = self._codec.decode(invocation.body, invocation.content_type)
        try:
            result = self._handler(event, context)
        except Exception as exc:
            from ric.report import user_report  # error path only

            return self._failed(user_report(exc, invocation.request_id, self._cwd))
        return Buffered(*self._codec.encode(result))

    def _failed(self, report: ErrorReport) -> Failed:
        self._log(report.log)
        return Failed(report)


def run(client: RuntimeClient, processor: Processor, max_invocations: int | None = None) -> None:
    """Serve invocations until the Runtime API fails or ``max_invocations`` are done."""
    if max_invocations == 0:
        return
    invocation = client.next_invocation()
    served = 1
    while True:
        outcome = processor.handle(invocation)
        if served == max_invocations:
            client.complete_last(invocation, outcome)
            return
        invocation = client.complete(invocation, outcome)
        served += 1
