"""The stream suite's parts: its runtimes, its plan, Node's client found or skipped, its run."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from clients import default_clients
from fake_stream import StreamSpec
from run import main, parse_args
from stream_timing import stamp
from streaming import (
    BUFFERED,
    NODE,
    STREAMING,
    Plan,
    find_node_ric,
    measure_streams,
    plan,
    streamers,
    time_callers,
)

RIC = default_clients()[0]


def test_time_callers_invokes_with_the_event_each_time() -> None:
    events: list[bytes] = []

    def invoke(event: bytes) -> Iterator[bytes]:
        events.append(event)
        yield stamp(100) + b"z" * 30

    ticks = iter(range(1000, 2000, 10))
    records = time_callers(invoke, StreamSpec(2, 25), 3, ticks.__next__)
    assert events == [b'{"chunks": 2, "size": 25}'] * 3
    assert [(r.stamp_ns, r.data_bytes, r.first_byte_ns, r.last_byte_ns) for r in records] == [
        (100, 50, 1000, 1010),
        (100, 50, 1020, 1030),
        (100, 50, 1040, 1050),
    ]


def test_the_runtimes_measured() -> None:
    node, _ = find_node_ric(None)
    assert [(s.name, s.handler) for s in streamers(RIC, node, streams=False)] == [
        (BUFFERED, "handlers.stream_buffered")
    ]
    both = streamers(RIC, RIC, streams=True)
    assert [s.name for s in both] == [STREAMING, BUFFERED, NODE]
    assert both[0].argv()[-1] == "handlers.stream"


def test_plans() -> None:
    full = plan(reps=7, mib=64, quick=False)
    assert full.throughput == StreamSpec(1024, 65536)
    assert (full.first_byte, full.reps) == (StreamSpec(16, 1024), 7)
    quick = plan(reps=7, mib=64, quick=True)
    assert quick.reps == 1 and quick.throughput.total < full.throughput.total


def test_node_is_skipped_with_a_reason(tmp_path: Path) -> None:
    assert find_node_ric(None) == (None, "no --node-ric PATH (nor RIC_BENCH_NODE_RIC)")
    client, reason = find_node_ric(tmp_path)
    assert client is None and "no aws-lambda-ric there" in reason


@pytest.mark.parametrize("where", ["", "node_modules/aws-lambda-ric"])
def test_node_is_found_in_a_prefix_or_its_package(tmp_path: Path, where: str) -> None:
    if shutil.which("node") is None:
        pytest.skip("no node on PATH")
    package = tmp_path / where
    package.mkdir(parents=True, exist_ok=True)
    (package / "index.mjs").write_text("")
    (package / "package.json").write_text('{"version": "9.9.9"}')
    client, shown = find_node_ric(tmp_path)
    assert client is not None and client.name == NODE
    assert shown.startswith("aws-lambda-ric 9.9.9 on node v")
    argv = client.argv("stream_handler.handler")
    assert argv[:2] == ["env", "_HANDLER=stream_handler.handler"]
    assert argv[-1] == str(package / "index.mjs")


def test_command_line() -> None:
    args = parse_args(["--only", "stream", "--stream-reps", "3", "--node-ric", "/x"], {})
    assert (args.only, args.stream_reps, args.stream_mib, args.node_ric) == (
        "stream",
        3,
        64,
        Path("/x"),
    )
    assert parse_args([], {"RIC_BENCH_NODE_RIC": "/from/env"}).node_ric == Path("/from/env")
    assert parse_args([], {}).node_ric is None


@pytest.mark.integration
def test_each_repetition_runs_what_it_was_given_too() -> None:
    seen: list[int] = []
    tiny = Plan(StreamSpec(2, 64), 2, StreamSpec(2, 1024), 1, reps=2, warmup=1)
    buffered = streamers(RIC, None, streams=False)
    results = measure_streams(buffered, tiny, seen.append)
    assert seen == [0, 1]
    for scenario in ("first_byte", "throughput"):
        assert results[scenario]["reps"] == 2
        assert results[scenario]["figures"][BUFFERED]["chunks"] == 1.0


@pytest.mark.integration
def test_a_quick_stream_run_writes_json_and_tables(tmp_path: Path) -> None:
    assert (
        main(["--only", "stream", "--quick", "--node-ric", str(tmp_path), "--out", str(tmp_path)])
        == 0
    )
    results = json.loads((tmp_path / "stream.json").read_text())
    assert results["reference"] == BUFFERED
    assert "no aws-lambda-ric there" in results["node_ric"]
    for scenario in ("first_byte", "throughput"):
        figures = results[scenario]["figures"][BUFFERED]
        assert figures["streamed"] == 0.0 and figures["errors"] == 0.0
        assert results[scenario]["ratios"][BUFFERED]["first_byte_us"] == 1.0
    through = results["emulator"]
    assert (through["reference"], through["paths"]) == (BUFFERED, ["boto3", "invoke", "url"])
    names = {STREAMING, BUFFERED}
    for path in through["paths"]:
        table = through["first_byte"]["paths"][path]["figures"]
        assert set(table) == names
        assert table[STREAMING]["chunks"] >= 1.0 and table[BUFFERED]["chunks"] == 1.0
    for scenario in ("whole", "long"):  # quick: both under the buffered limit
        assert set(through[scenario]["paths"]["invoke"]["figures"]) == names
    assert set(through["overhead"]) == {"boto3", "invoke", "url"}
    assert set(through["overhead"]["url"]) == names
    text = (tmp_path / "stream.md").read_text()
    assert "Quick run" in text
    assert "| first yield to first byte, µs |" in text
    assert "| raw: arrived |" in text and "| URL: arrived |" in text
    assert "| boto3: first `PayloadChunk` handed over |" in text
    assert "Through the emulator, throughput" in text
    assert "Streaming to the fake Runtime API" in (tmp_path / "latest.md").read_text()
