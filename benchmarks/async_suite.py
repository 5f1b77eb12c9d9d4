"""The ``async`` suite: async handlers, async concurrency mode, ASGI apps in process.

- handlers: client CPU per invocation, 64 B events against the fake Runtime
  API, of ric's sync echo, ric's ``async def`` echo (on uvloop, and on
  asyncio's loop), and awslambdaric serving the same coroutine through
  ``asyncio.run`` per invocation (what its users write); ratios to the last.
- concurrency: ``AWS_LAMBDA_MAX_CONCURRENCY=N`` slots serving a handler that
  awaits ``wait_ms`` (an I/O call), in async mode (one process, N tasks) and
  in process mode (N worker processes), against :mod:`fake_concurrent_api`:
  invocations/s, the tree's CPU per invocation, its RSS and PSS at the end.
- asgi: a FastAPI hello app served by ``ric.asgi`` (``app_fastapi_ric.py``)
  and by Mangum on awslambdaric (``app_fastapi.py``), the same API Gateway
  REST event each time, every run's answer checked to be a 200: client CPU
  per request and requests/s, then Init Duration over fresh starts, as the
  ``apps`` suite measures it; ratios to Mangum.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from clients import HERE, Client
from fake_api import ClientRun, FakeRuntimeApi
from fake_concurrent_api import ConcurrentApi
from init_duration import FASTAPI, App, serve_app
from stats import median, rotated
from tables import grid

__all__ = [
    "ASGI_REFERENCE",
    "ASYNC_RUN",
    "AsgiPlan",
    "ConcurrencyPlan",
    "async_tables",
    "measure_asgi",
    "measure_async",
]

ASYNC_RUN = "awslambdaric asyncio.run"
ASGI_REFERENCE = "awslambdaric + Mangum"
_EVENT = b'{"payload":"' + b"x" * 50 + b'"}'


@dataclass(frozen=True)
class ConcurrencyPlan:
    slots: int = 64
    wait_ms: int = 100
    rounds: int = 10  # invocations per slot
    reps: int = 3


@dataclass(frozen=True)
class AsgiPlan:
    reps: int = 9  # interleaved runs per server
    invocations: int = 1000  # requests per run, after a tenth of that as warm-up
    starts: int = 20  # fresh starts per server, for Init Duration


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


def _asgi_servers(ric: Client, reference: Client) -> list[tuple[Client, App]]:
    """The same app and event: ric through ``ric.asgi``, awslambdaric through Mangum."""
    return [
        (ric, replace(FASTAPI, name="ric.asgi", handler="app_fastapi_ric.handler")),
        (reference, replace(FASTAPI, name=ASGI_REFERENCE)),
    ]


def measure_asgi(ric: Client, reference: Client, plan: AsgiPlan) -> dict[str, Any]:
    """Each server's median client CPU per request, requests/s and Init Duration, interleaved."""
    servers = _asgi_servers(ric, reference)
    served: dict[str, list[ClientRun]] = {app.name: [] for _, app in servers}
    for rep in range(plan.reps):
        for client, app in rotated(servers, rep):
            warmup = max(plan.invocations // 10, 2)
            served[app.name].append(serve_app(client, app, plan.invocations, warmup=warmup))
    init_ms: dict[str, list[float]] = {app.name: [] for _, app in servers}
    for turn in range(plan.starts):
        for client, app in rotated(servers, turn):
            init_ms[app.name].append(serve_app(client, app).first_next_s * 1000)
    return {
        "plan": asdict(plan),
        "figures": {
            name: {
                "cpu_us": median([r.cpu_us_per_invocation for r in runs]),
                "per_second": median([r.per_second for r in runs]),
                "init_ms": median(init_ms[name]),
            }
            for name, runs in served.items()
        },
    }


def measure_async(
    ric: Client,
    reference: Client,
    reps: int,
    count: int,
    *,
    plan: ConcurrencyPlan,
    asgi: AsgiPlan,
) -> dict[str, Any]:
    return {
        "handlers": {
            "invocations": count,
            "reps": reps,
            "figures": measure_handlers(ric, reference, reps, count),
        },
        "concurrency": measure_concurrency(ric, plan),
        "asgi": measure_asgi(ric, reference, asgi),
    }


def async_tables(results: dict[str, Any], names: list[str]) -> list[list[str]]:
    return [
        _handlers_table(results["handlers"]),
        _concurrency_table(results["concurrency"]),
        _asgi_table(results["asgi"]),
    ]


def _handlers_table(handlers: dict[str, Any]) -> list[str]:
    figures = handlers["figures"]
    rows = [
        ("client CPU per invocation, µs", {c: f["cpu_us"] for c, f in figures.items()}),
        ("invocations/s", {c: f["per_second"] for c, f in figures.items()}),
    ]
    return grid(
        f"Async handlers: 64 B echo against the fake Runtime API "
        f"(median of {handlers['reps']} runs of {handlers['invocations']:,})",
        "figure",
        list(figures),
        rows,
        reference=ASYNC_RUN,
        pair=("ric async", "ric sync"),
    )


def _concurrency_table(concurrency: dict[str, Any]) -> list[str]:
    plan, by_mode = concurrency["plan"], concurrency["figures"]
    modes = list(by_mode)
    scaled = [
        ("invocations/s", "per_second", 1.0),
        ("CPU per invocation, whole tree, µs", "cpu_us", 1.0),
        ("RSS of the tree at the end, MiB", "rss_kib", 1 / 1024),
        ("PSS of the tree at the end, MiB", "pss_kib", 1 / 1024),
        ("processes", "processes", 1.0),
    ]
    return grid(
        f"Async concurrency: {plan['slots']} slots, a handler awaiting {plan['wait_ms']} ms, "
        f"{plan['slots'] * plan['rounds']:,} invocations (median of {plan['reps']} runs)",
        "figure",
        modes,
        [(label, {m: by_mode[m][key] * scale for m in modes}) for label, key, scale in scaled],
        reference="process mode",
        pair=("async mode", "process mode"),
    )


def _asgi_table(asgi: dict[str, Any]) -> list[str]:
    plan, figures = asgi["plan"], asgi["figures"]
    rows = [
        ("client CPU per request, µs", "cpu_us"),
        ("requests/s", "per_second"),
        ("Init Duration, ms", "init_ms"),
    ]
    return grid(
        f"ASGI: a FastAPI app, one API Gateway REST event, against the fake Runtime API "
        f"(median of {plan['reps']} runs of {plan['invocations']:,} requests; "
        f"Init Duration: median of {plan['starts']} starts)",
        "figure",
        list(figures),
        [(label, {s: f[key] for s, f in figures.items()}) for label, key in rows],
        reference=ASGI_REFERENCE,
    )
