"""The benchmark harness works: it starts a client, counts invocations, writes results.

Tiny runs only; nothing here asserts a speed. A whole quick run of every suite
is marked slow (``pytest -m slow tests/benchmarks``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from clients import HERE, Client, default_clients
from fake_api import FakeRuntimeApi
from run import main

pytestmark = pytest.mark.integration
RIC, _, FLOOR = default_clients()


@pytest.mark.parametrize("client", [RIC, FLOOR], ids=["ric", "floor"])
def test_fake_api_serves_and_measures_a_client(client: Client) -> None:
    api = FakeRuntimeApi(b'{"n": 1}', invocations=5, warmup=2, sample_every=3, keep_first_post=True)
    run = api.run(client.argv("handlers.echo"), client.env(), str(HERE))
    assert run.invocations == 5
    assert len(run.cycles_us) == 5  # one GET /next to the next, per measured invocation
    assert run.cpu_ns > 0
    assert run.first_next_s > 0
    assert run.first_response_s >= run.first_next_s
    assert run.rss_first_next_kib > 0
    assert [n for n, _ in run.rss_samples] == [0, 3, 6]
    assert run.first_post.endswith(b"/req-00000000/response HTTP/1.1")
    assert json.loads(run.first_post_body) == {"n": 1}
    assert run.error_posts == 0


def test_fake_api_answers_an_extension_then_serves_the_runtime(tmp_path: Path) -> None:
    # A shutdown hook makes ric register an internal extension, on a connection
    # of its own, before its first GET /next.
    (tmp_path / "hooked.py").write_text(
        "import ric\n\nric.on_shutdown(print)\n\ndef handler(event, context):\n    return event\n"
    )
    api = FakeRuntimeApi(b'{"n": 1}', invocations=2, keep_first_post=True)
    env = {**RIC.env(), "LAMBDA_TASK_ROOT": str(tmp_path)}
    run = api.run(RIC.argv("hooked.handler"), env, str(tmp_path))
    assert run.invocations == 2
    assert run.first_post.endswith(b"/req-00000000/response HTTP/1.1")
    assert json.loads(run.first_post_body) == {"n": 1}


@pytest.mark.slow
def test_a_quick_run_of_every_suite_writes_json_and_tables(tmp_path: Path) -> None:
    baseline = Path(__file__).resolve().parents[2]  # this tree, as its own baseline
    args = ["--quick", "--reps", "1", "--cold-runs", "1", "--sizes", "64"]
    assert main([*args, "--baseline", str(baseline), "--out", str(tmp_path)]) == 0
    for suite in ("hot", "cold", "apps", "rss", "emulator"):
        results = json.loads((tmp_path / f"{suite}.json").read_text())
        assert results["meta"]["quick"]
        assert "ric@baseline" in results["clients"]
        assert "Quick run" in (tmp_path / f"{suite}.md").read_text()
    hot = json.loads((tmp_path / "hot.json").read_text())
    assert hot["warm"]["64"]["ric"]["invocations"] == 30
    rss = json.loads((tmp_path / "rss.json").read_text())
    assert [n for n, _ in rss["rss"]["ric"]["samples"]] == [0, 500, 1000, 1500, 2000]
    latest = (tmp_path / "latest.md").read_text()
    assert "| 64 B |" in latest
    assert "ric / ric@baseline" in latest
    assert sys.executable in results["clients"]["ric"]
