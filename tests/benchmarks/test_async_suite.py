"""The async suite's harness serves real runtimes: counts and shapes, never speeds."""

from __future__ import annotations

import json

import pytest
from async_suite import (
    ASGI_REFERENCE,
    ASYNC_RUN,
    AsgiPlan,
    ConcurrencyPlan,
    async_tables,
    measure_async,
)
from clients import HERE, default_clients
from fake_concurrent_api import ConcurrentApi, tree

pytestmark = pytest.mark.integration
RIC, REFERENCE = default_clients()[:2]


def test_every_slot_is_served_and_the_tree_is_measured() -> None:
    api = ConcurrentApi(json.dumps({"wait_ms": 1}).encode(), invocations=6, slots=3)
    env = {**RIC.env(), "AWS_LAMBDA_MAX_CONCURRENCY": "3", "RIC_CONCURRENCY_MODE": "process"}
    run = api.run(RIC.argv("handlers.wait_echo"), env, str(HERE))
    assert (run.invocations, run.processes) == (6, 4)  # the supervisor and 3 workers
    assert run.cpu_ns > 0 and run.wall_s > 0
    assert run.rss_kib > run.pss_kib > 0


def test_the_process_tree_holds_the_process_itself() -> None:
    import os

    assert tree(os.getpid())[0] == os.getpid()


def test_the_suite_measures_each_case_and_renders_its_tables() -> None:
    plan = ConcurrencyPlan(slots=2, wait_ms=1, rounds=2, reps=1)
    asgi = AsgiPlan(reps=1, invocations=4, starts=1)
    results = measure_async(RIC, REFERENCE, 1, 20, plan=plan, asgi=asgi)
    figures = results["handlers"]["figures"]
    assert list(figures) == ["ric sync", "ric async", "ric async, asyncio loop", ASYNC_RUN]
    assert all(f["cpu_us"] > 0 for f in figures.values())
    modes = results["concurrency"]["figures"]
    assert (modes["async mode"]["processes"], modes["process mode"]["processes"]) == (1, 3)
    servers = results["asgi"]["figures"]
    assert list(servers) == ["ric.asgi", ASGI_REFERENCE]
    assert all(f["cpu_us"] > 0 and f["init_ms"] > 0 for f in servers.values())
    tables = async_tables(results, [])
    assert len(tables) == 3
    text = "\n".join("\n".join(section) for section in tables)
    assert "| client CPU per invocation, µs |" in text
    assert (
        "| invocations/s |" in text and "| processes | 1.0 (0.33x) | 3.0 (1.00x) | 0.33x |" in text
    )
    assert "| figure | ric.asgi | awslambdaric + Mangum |" in text
    assert "| client CPU per request, µs |" in text and "| Init Duration, ms |" in text
