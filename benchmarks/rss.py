"""RSS over many invocations, each with its own trace id: does the client's memory stay flat?

Lambda sends every invocation a new ``Lambda-Runtime-Trace-Id``, and a runtime
exposes it as ``_X_AMZN_TRACE_ID`` (Lambda, "Defined runtime environment
variables"). Setting it with the C library's ``setenv`` keeps every old value
alive, so a runtime that does grows by about the value's size per invocation.
Each client serves the echo handler for a long run against the fake Runtime
API, which reads the client's VmRSS every ``every`` invocations; growth is
the least-squares slope over the samples from ``warmup`` invocations on.

    python benchmarks/run.py --only rss --rss-invocations 1000000    # the million
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clients import HERE, Client
from fake_api import FakeRuntimeApi
from stats import growth_per_100k

__all__ = ["RssPlan", "measure_rss"]

EVENT = b'{"payload":"' + b"x" * 50 + b'"}'  # 64 bytes, as the hot loop's smallest


@dataclass(frozen=True)
class RssPlan:
    """How long each client runs: ``invocations`` for ric, ``reference`` for the others."""

    invocations: int
    reference: int
    every: int
    warmup: int

    def count(self, client: Client) -> int:
        return self.invocations if client.name == "ric" else self.reference


def measure_rss(clients: list[Client], plan: RssPlan) -> dict[str, Any]:
    """One long run per client, one after the other (a run cannot be interleaved)."""
    figures = {}
    for client in clients:
        count = plan.count(client)
        api = FakeRuntimeApi(EVENT, count, sample_every=plan.every, cycles=False)
        run = api.run(client.argv("handlers.echo"), client.env(), str(HERE))
        if run.invocations != count:
            raise RuntimeError(f"{client.name} stopped after {len(run.rss_samples)} samples")
        figures[client.name] = {
            "invocations": count,
            "every": plan.every,
            "warmup": plan.warmup,
            "samples": run.rss_samples,
            "growth_kib_per_100k": growth_per_100k(run.rss_samples, plan.warmup),
            "per_second": run.per_second,
            "cpu_us": run.cpu_us_per_invocation,
        }
    return figures
