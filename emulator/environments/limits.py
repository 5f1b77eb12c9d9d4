"""What one environment runs under: its lifecycle's limits and its Runtime API's."""

from __future__ import annotations

from emulator.config import FunctionConfig
from emulator.core.lifecycle import Limits
from emulator.http import Limits as HttpLimits

__all__ = ["lifecycle_limits", "runtime_api_limits"]

# The Runtime API's HTTP timeouts end this long after the lifecycle's own would.
_SLACK_S = 10.0
_ON_DEMAND_INIT_S = 10.0


def lifecycle_limits(function: FunctionConfig, provisioned: bool) -> Limits:
    """The function's limits; a provisioned environment's init may last longer: "The
    10-second timeout doesn't apply to functions that use provisioned concurrency [...]
    the time limit is 130 seconds or the configured function timeout (maximum 900
    seconds), whichever is higher" ("Init phase", lambda-runtime-environment.html)."""
    return Limits(
        function.timeout_s,
        function.memory_mb,
        function.max_concurrency,
        init_limit_s=max(130.0, function.timeout_s) if provisioned else _ON_DEMAND_INIT_S,
        provisioned=provisioned,
    )


def runtime_api_limits(function: FunctionConfig) -> HttpLimits:
    """The Runtime API's HTTP limits: its timeouts never come before the lifecycle's.

    Lambda bounds a runtime by the function's timeout only (and, with
    max_concurrency above 1, as long again to come back), so a handler may
    work that long before its post, and a stream pause that long between
    chunks; the HTTP server's own 120 s would cut them short.
    """
    defaults = HttpLimits()
    wait = 2 * function.timeout_s + _SLACK_S
    return HttpLimits(
        idle_timeout_s=max(defaults.idle_timeout_s, wait),
        body_timeout_s=max(defaults.body_timeout_s, wait),
    )
