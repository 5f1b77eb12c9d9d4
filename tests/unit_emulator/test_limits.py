"""emulator.environments.limits: an environment's init limit and its Runtime API's timeouts."""

from __future__ import annotations

from emulator.config import FunctionConfig
from emulator.environments.limits import lifecycle_limits, runtime_api_limits


def function(timeout_s: float) -> FunctionConfig:
    return FunctionConfig("f", ("bootstrap",), "/tmp", timeout_s=timeout_s)


def test_a_provisioned_init_may_last_130_seconds_or_the_timeout() -> None:
    assert lifecycle_limits(function(3), provisioned=False).init_limit_s == 10.0
    assert lifecycle_limits(function(3), provisioned=True).init_limit_s == 130.0
    assert lifecycle_limits(function(300), provisioned=True).init_limit_s == 300.0
    assert lifecycle_limits(function(3), provisioned=True).provisioned


def test_the_runtime_apis_timeouts_outlast_the_function() -> None:
    assert runtime_api_limits(function(3)).idle_timeout_s == 120.0
    assert runtime_api_limits(function(900)).body_timeout_s == 2 * 900 + 10
