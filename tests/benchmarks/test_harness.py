"""The benchmark harness works: it starts a client, counts invocations, writes results.

Tiny runs only; nothing here asserts a speed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from fake_api import FakeRuntimeApi  # noqa: E402
from run import client_env, main  # noqa: E402

pytestmark = pytest.mark.integration
RIC = [sys.executable, "-m", "ric", "handlers.echo"]


@pytest.mark.parametrize(
    "command",
    [RIC, [sys.executable, str(BENCHMARKS / "floor.py"), "handlers.echo"]],
    ids=["ric", "floor"],
)
def test_fake_api_serves_and_measures_a_client(command: list[str]) -> None:
    run = FakeRuntimeApi(b'{"n": 1}', invocations=5, warmup=2).run(
        command, client_env(), str(BENCHMARKS)
    )
    assert run.invocations == 5
    assert len(run.cycles_us) == 5  # one GET /next to the next, per measured invocation
    assert run.cpu_ns > 0
    assert run.first_next_s > 0
    assert run.first_response_s >= run.first_next_s
    assert run.rss_first_next_kib > 0


def test_run_writes_json_and_table(tmp_path: Path) -> None:
    args = ["--quick", "--reps", "1", "--cold-runs", "1", "--sizes", "64", "--no-emulator"]
    client = f"ric={' '.join(RIC)}"
    assert main([*args, "--client", client, "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "latest.json").read_text())
    assert set(results) >= {"clients", "cold", "warm", "goals", "ric_imports"}
    assert results["warm"]["64"]["ric"]["invocations"] == 30
    assert results["cold"]["ric"]["first_next_ms"] > 0
    rows = results["ric_imports"]
    assert rows
    assert all(row["cumulative_us"] >= row["self_us"] >= 0 and row["module"] for row in rows)
    table = (tmp_path / "latest.md").read_text()
    assert "| 64 B |" in table
