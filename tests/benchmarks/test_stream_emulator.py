"""The emulator's part of the stream suite: its config, its banner, its figures."""

from __future__ import annotations

import sys
from pathlib import Path

from clients import HERE, ROOT, Client, default_clients
from fake_stream import StreamSpec
from stream_callers import Timed
from stream_emulator import (
    BUFFERED_LIMIT,
    FLAGS,
    Endpoints,
    able,
    emulator_plan,
    function_table,
    overhead,
    parse_banner,
    run_figures,
    runtime_command,
)
from stream_timing import StreamRecord
from streaming import BUFFERED, NODE, STREAMING, Streamer, plan, streamers

from emulator.config import load_toml

RIC = default_clients()[0]
NODE_CLIENT = Client(
    NODE, ("env", "_HANDLER={handler}", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "node", "i.mjs")
)


def test_the_banner_gives_the_invoke_api_and_every_url() -> None:
    lines = [
        "emulator: listening on http://127.0.0.1:41000 (functions: ric, node-ric)",
        "emulator: function URL of ric: http://127.0.0.1:41001/",
    ]
    assert parse_banner("\n".join(lines), ["ric", "node-ric"]) is None  # not every URL yet
    lines.append("emulator: function URL of node-ric: http://127.0.0.1:41002/")
    lines.append("[ric] START RequestId: r-1 Version: $LATEST")
    assert parse_banner("\n".join(lines), ["ric", "node-ric"]) == Endpoints(
        "http://127.0.0.1:41000",
        {"ric": "http://127.0.0.1:41001/", "node-ric": "http://127.0.0.1:41002/"},
    )
    assert parse_banner("", []) is None


def test_a_runtime_command_leaves_the_variables_to_the_emulator() -> None:
    node = Streamer(NODE, NODE_CLIENT, "stream_handler.handler").argv()
    assert runtime_command(node, "/tree") == ["env", "PYTHONPATH=/tree", "node", "i.mjs"]
    assert runtime_command(RIC.argv("handlers.stream"), "/tree") == [
        "env",
        "PYTHONPATH=/tree",
        sys.executable,
        "-m",
        "ric",
        "handlers.stream",
    ]


def test_each_runtime_is_a_function_the_emulator_reads(tmp_path: Path) -> None:
    runtimes = [*streamers(RIC, None, streams=True), Streamer(NODE, NODE_CLIENT, "s.handler")]
    config = tmp_path / "functions.toml"
    tables = [function_table(f"f{i}", s, HERE) for i, s in enumerate(runtimes)]
    config.write_text("".join(tables))
    functions = load_toml(config)
    assert [f.name for f in functions] == ["f0", "f1", "f2"]
    ric, buffered, node = functions
    assert ric.command == (
        "env",
        f"PYTHONPATH={ROOT}",
        sys.executable,
        "-m",
        "ric",
        "handlers.stream",
    )
    assert (buffered.handler, node.handler) == ("handlers.stream_buffered", "s.handler")
    assert ric.code_dir == str(HERE) and ric.concurrency == 1 and ric.memory_mb == 2048
    assert ric.url is not None and (ric.url.port, ric.url.invoke_mode) == (0, "RESPONSE_STREAM")
    assert "--stream-rate" in FLAGS and FLAGS[FLAGS.index("--stream-rate") + 1] == "0"


def test_the_plans_through_the_emulator() -> None:
    full = emulator_plan(plan(7, 64, quick=False), quick=False)
    assert (full.first_byte, full.long) == (StreamSpec(16, 1024), StreamSpec(1024, 65536))
    assert full.whole.total <= BUFFERED_LIMIT < full.long.total
    quick = emulator_plan(plan(7, 64, quick=True), quick=True)
    assert quick.first_byte_invocations < full.first_byte_invocations
    assert quick.long.total < full.long.total


def test_a_buffered_answer_over_6_mb_is_left_out() -> None:
    runtimes = streamers(RIC, None, streams=True)
    assert [s.name for s in able(runtimes, StreamSpec(64, 65536))] == [STREAMING, BUFFERED]
    assert [s.name for s in able(runtimes, StreamSpec(1024, 65536))] == [STREAMING]


def _record(first: int, last: int, size: int = 2_000_000) -> StreamRecord:
    return StreamRecord(size, 4, 1_000, 1_000 + first, 1_000 + last)


def test_a_runs_figures_from_raw_and_boto3_streams() -> None:
    raw = [Timed(_record(100_000, 1_000_000), _record(150_000, 1_100_000)) for _ in range(2)]
    figures = run_figures(raw, caller_cpu_ns=8_000_000, emulator_cpu_ns=20_000_000)
    assert figures == {
        "first_byte_us": 100.0,
        "first_read_us": 150.0,
        "last_byte_us": 1000.0,
        "mb_per_s": 2000.0,
        "caller_cpu_us_per_invocation": 4000.0,
        "caller_cpu_us_per_mb": 2000.0,
        "emulator_cpu_us_per_invocation": 10_000.0,
        "emulator_cpu_us_per_mb": 5000.0,
        "chunks": 4.0,
    }
    boto3 = run_figures([_record(300_000, 1_000_000)], 1_000_000, 0)
    assert boto3["first_byte_us"] == 300.0 and "first_read_us" not in boto3


def test_the_emulators_share_of_the_first_byte() -> None:
    fake = {"ric": {"first_byte_us": 20.0}, "node-ric": {"first_byte_us": 100.0}}
    through = {
        "invoke": {"ric": {"first_byte_us": 1020.0}, "node-ric": {"first_byte_us": 1100.0}},
        "boto3": {"ric": {"first_byte_us": 1520.0}, "other": {"first_byte_us": 1.0}},
    }
    assert overhead(fake, through) == {
        "invoke": {
            "ric": {"added_us": 1000.0, "ratio": 51.0},
            "node-ric": {"added_us": 1000.0, "ratio": 11.0},
        },
        "boto3": {"ric": {"added_us": 1500.0, "ratio": 76.0}},
    }
