"""The ``async`` suite: async handlers, and async concurrency mode against worker processes.

- handlers: client CPU per invocation, 64 B events against the fake Runtime
  API, of ric's sync echo, ric's ``async def`` echo (on uvloop, and on
  asyncio's loop), and awslambdaric serving the same coroutine through
  ``asyncio.run`` per invocation (what its users write); ratios to the last.
- concurrency: ``AWS_LAMBDA_MAX_CONCURRENCY=N`` slots serving a handler that
  awaits ``wait_ms`` (an I/O call), in async mode (one process, N tasks) and
  in process mode (N worker processes), against :mod:`fake_concurrent_api`:
  invocations/s, the tree's CPU per invocation, its RSS and PSS at the end.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from clients import HERE, Client
from fake_api import FakeRuntimeApi
from fake_concurrent_api import ConcurrentApi
from stats import median, rotated
from tables import grid

__all__ = ["ASYNC_RUN", "ConcurrencyPlan", "async_tables", "measure_async"]

ASYNC_RUN = "awslambdaric asyncio.run"
_EVENT = b'{"payload":"' + b"x" * 50 + b'"}'


@dataclass(frozen=True)
class ConcurrencyPlan:
    slots: int = 64
    wait_ms: int = 100
    rounds: int = 10  # invocations per slot
    reps: int = 3


@dataclass(frozen=True)
class _Case:
    name: str
    client: Client
    handler: str
    env: tuple[tuple[str, str], ...] = ()

    def run(self, count: int) -> Any:
        api = FakeRuntimeApi(_EVENT, count, warmup=max(count // 10, 2))
        env = {**self.client.env(), **dict(self.env)}
        return api.run(self.client.argv(self.handler), env, str(HERE))


def _cases(ric: Client, reference: Client) -> list[_Case]:
    return [
        _Case("ric sync", ric, "handlers.echo"),
        _Case("ric async", ric, "handlers.async_echo"),
        _Case(
            "ric async, asyncio loop", ric, "handlers.async_echo", (("RIC_EVENT_LOOP", "asyncio"),)
        ),
        _Case(ASYNC_RUN, reference, "handlers.asyncio_run_echo"),
    ]


def measure_handlers(ric: Client, reference: Client, reps: int, count: int) -> dict[str, Any]:
    """Each case's median client CPU per invocation and invocations/s, interleaved."""
    cases = _cases(ric, reference)
    runs: dict[str, list[Any]] = {case.name: [] for case in cases}
    for rep in range(reps):
        for case in rotated(cases, rep):
            result = case.run(count)
            if result.error_posts:
                raise RuntimeError(f"{case.name}: {result.error_posts} errors: {result.stderr}")
            runs[case.name].append(result)
    return {
        name: {
            "cpu_us": median([r.cpu_us_per_invocation for r in results]),
            "per_second": median([r.per_second for r in results]),
        }
        for name, results in runs.items()
    }


def measure_concurrency(ric: Client, plan: ConcurrencyPlan) -> dict[str, Any]:
    """Async mode against process mode, ``plan.reps`` runs each, interleaved."""
    body = json.dumps({"wait_ms": plan.wait_ms}).encode()
    modes = {
        "async mode": {"RIC_CONCURRENCY_MODE": "async"},
        "process mode": {"RIC_CONCURRENCY_MODE": "process"},
    }
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for rep in range(plan.reps):
        for mode in rotated(list(modes), rep):
            env = {
                **ric.env(),
                **modes[mode],
                "AWS_LAMBDA_MAX_CONCURRENCY": str(plan.slots),
            }
            api = ConcurrentApi(body, plan.slots * plan.rounds, plan.slots)
            run = api.run(ric.argv("handlers.wait_echo"), env, str(HERE))
            runs[mode].append(
                {**asdict(run), "per_second": run.per_second, "cpu_us": run.cpu_us_per_invocation}
            )
    return {
        "plan": asdict(plan),
        "figures": {
            mode: {key: median([r[key] for r in results]) for key in results[0]}
            for mode, results in runs.items()
        },
    }


def measure_async(
    ric: Client, reference: Client, reps: int, count: int, plan: ConcurrencyPlan
) -> dict[str, Any]:
    return {
        "handlers": {
            "invocations": count,
            "reps": reps,
            "figures": measure_handlers(ric, reference, reps, count),
        },
        "concurrency": measure_concurrency(ric, plan),
    }


def async_tables(results: dict[str, Any], names: list[str]) -> list[list[str]]:
    handlers = results["handlers"]
    figures = handlers["figures"]
    cases = list(figures)
    rows = [
        ("client CPU per invocation, µs", {c: f["cpu_us"] for c, f in figures.items()}),
        ("invocations/s", {c: f["per_second"] for c, f in figures.items()}),
    ]
    sections = [
        grid(
            f"Async handlers: 64 B echo against the fake Runtime API "
            f"(median of {handlers['reps']} runs of {handlers['invocations']:,})",
            "figure",
            cases,
            rows,
            reference=ASYNC_RUN,
            pair=("ric async", "ric sync"),
        )
    ]
    concurrency = results["concurrency"]
    plan, by_mode = concurrency["plan"], concurrency["figures"]
    modes = list(by_mode)
    scaled = [
        ("invocations/s", "per_second", 1.0),
        ("CPU per invocation, whole tree, µs", "cpu_us", 1.0),
        ("RSS of the tree at the end, MiB", "rss_kib", 1 / 1024),
        ("PSS of the tree at the end, MiB", "pss_kib", 1 / 1024),
        ("processes", "processes", 1.0),
    ]
    sections.append(
        grid(
            f"Async concurrency: {plan['slots']} slots, a handler awaiting {plan['wait_ms']} ms, "
            f"{plan['slots'] * plan['rounds']:,} invocations (median of {plan['reps']} runs)",
            "figure",
            modes,
            [(label, {m: by_mode[m][key] * scale for m in modes}) for label, key, scale in scaled],
            reference="process mode",
            pair=("async mode", "process mode"),
        )
    )
    return sections
