"""The results render as the README's tables: ratios to awslambdaric, ric over its baseline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from report import count_label, grid, size_label, suite_markdown, write_latest

META = {
    "quick": False,
    "started": "2026-12-01 10:00 UTC",
    "seconds": 12.0,
    "load_before": 0.5,
    "load_after": 0.75,
}


def _results(suite: str, clients: list[str], **tables: Any) -> dict[str, Any]:
    return {"suite": suite, "clients": {c: c for c in clients}, "meta": META, "goals": [], **tables}


@pytest.mark.parametrize(
    ("size", "label"), [("64", "64 B"), ("102400", "100 KB"), ("6291456", "6 MB")]
)
def test_size_label(size: str, label: str) -> None:
    assert size_label(size) == label


@pytest.mark.parametrize(
    ("count", "label"), [(500, "500"), (1500, "1.5k"), (50_000, "50k"), (1_000_000, "1M")]
)
def test_count_label(count: int, label: str) -> None:
    assert count_label(count) == label


def test_grid_gives_ratios_to_awslambdaric() -> None:
    lines = grid(
        "Title",
        "figure",
        ["ric", "awslambdaric"],
        [("cpu", {"ric": 50.0, "awslambdaric": 200.0}), ("rss", {"ric": 1234.5})],
    )
    assert lines == [
        "Title",
        "",
        "| figure | ric | awslambdaric |",
        "|---|---|---|",
        "| cpu | 50.0 (0.25x) | 200.0 (1.00x) |",
        "| rss | 1,234.5 | n/a |",
    ]


def test_grid_adds_ric_over_its_baseline() -> None:
    names = ["ric", "ric@baseline", "awslambdaric"]
    lines = grid(
        "T", "figure", names, [("cpu", {"ric": 45.0, "ric@baseline": 50.0, "awslambdaric": 100.0})]
    )
    assert lines[2] == "| figure | ric | ric@baseline | awslambdaric | ric / ric@baseline |"
    assert lines[4] == "| cpu | 45.0 (0.45x) | 50.0 (0.50x) | 100.0 (1.00x) | 0.90x |"


def test_grid_adds_a_pair_asked_for() -> None:
    values = {"ric": 30.0, "ric buffered": 60.0, "node-ric": 120.0}
    lines = grid(
        "T",
        "figure",
        list(values),
        [("x", values)],
        reference="node-ric",
        pair=("ric", "ric buffered"),
    )
    assert lines[2] == "| figure | ric | ric buffered | node-ric | ric / ric buffered |"
    assert lines[4] == "| x | 30.0 (0.25x) | 60.0 (0.50x) | 120.0 (1.00x) | 0.50x |"


def _hot() -> dict[str, Any]:
    figures = {
        "cpu_us": 10.0,
        "per_second": 5000.0,
        "cycle_p50_us": 100.0,
        "cycle_p99_us": 300.0,
        "rss_kib": 10240.0,
        "server_cpu_us": 30.0,
    }
    reference = {key: value * 2 for key, value in figures.items()}
    warm = {"64": {"ric": figures, "awslambdaric": reference}}
    return _results("hot", ["ric", "awslambdaric"], warm=warm)


def test_hot_tables() -> None:
    text = suite_markdown(_hot())
    assert text.startswith("Run of 2026-12-01 10:00 UTC, 12 s, load average 0.50 before, 0.75")
    assert "| 64 B | 10.0 (0.50x) | 20.0 (1.00x) |" in text
    assert "| invocations/s | 5,000.0 (0.50x) | 10,000.0 (1.00x) |" in text
    assert "Quick run" not in text


def test_a_quick_run_says_so() -> None:
    results = _hot()
    results["meta"] = {**META, "quick": True}
    assert "**Quick run: a check of the harness, not a measurement.**" in suite_markdown(results)


def test_cold_tables() -> None:
    cold = {
        "ric": {"first_next_ms": 20.0, "first_response_ms": 21.0, "rss_first_next_kib": 10240},
        "awslambdaric": {
            "first_next_ms": 40.0,
            "first_response_ms": 42.0,
            "rss_first_next_kib": 20480,
        },
        "python -c pass": {"process_ms": 15.0},
    }
    imports = [{"module": "ric.client", "self_us": 100, "cumulative_us": 900}]
    text = suite_markdown(_results("cold", ["ric", "awslambdaric"], cold=cold, ric_imports=imports))
    assert "Cold start (bare `python -c pass`: 15.0 ms)" in text
    assert "| start to first `GET /next`, ms | 20.0 (0.50x) | 40.0 (1.00x) |" in text
    assert "| RSS at first `GET /next`, MiB | 10.0 (0.50x) | 20.0 (1.00x) |" in text
    assert "| `ric.client` | 100 | 900 |" in text


def test_apps_tables_leave_out_clients_that_served_none() -> None:
    figures = {
        "init_ms": 300.0,
        "first_response_ms": 310.0,
        "rss_first_next_kib": 40960,
        "runs": 20,
    }
    apps = {"Powertools": {"ric": figures, "awslambdaric": {**figures, "init_ms": 330.0}}}
    gc = {
        "Powertools": {
            "ric": {
                "init_ms": 301.0,
                "gc_ms": 18.5,
                "gc_share": 0.0615,
                "collections": [87, 8, 0],
                "collected": 490,
                "runs": 5,
            }
        }
    }
    text = suite_markdown(_results("apps", ["ric", "awslambdaric", "floor"], apps=apps, gc=gc))
    assert "20 starts each" in text
    assert "| figure | ric | awslambdaric |" in text
    assert "| Powertools: Init Duration, ms | 300.0 (0.91x) | 330.0 (1.00x) |" in text
    assert "| Powertools | ric | 301.0 | 18.5 | 6.2% | 87/8/0 | 490 |" in text


def test_rss_table_and_samples() -> None:
    run = {
        "invocations": 150_000,
        "every": 50_000,
        "warmup": 50_000,
        "samples": [[0, 10000], [50_000, 10100], [100_000, 10100], [150_000, 10100]],
        "growth_kib_per_100k": 0.0,
        "per_second": 8000.0,
        "cpu_us": 60.0,
    }
    leaky = {**run, "growth_kib_per_100k": 14_648.4375}
    text = suite_markdown(
        _results("rss", ["ric", "awslambdaric"], rss={"ric": run, "awslambdaric": leaky})
    )
    assert "| ric | 150,000 | 10,000 | 10,100 | 0.0 | 0.0 |" in text
    assert "| awslambdaric | 150,000 | 10,000 | 10,100 | 14,648.4 | 150.0 |" in text
    assert "- ric: 0: 10,000, 50k: 10,100, 100k: 10,100, 150k: 10,100" in text


def test_emulator_table() -> None:
    table = {
        "ric": {"one_caller_p50_ms": 3.0, "per_second": 300.0},
        "awslambdaric": {"one_caller_p50_ms": 4.0, "per_second": 250.0},
    }
    text = suite_markdown(_results("emulator", ["ric", "awslambdaric"], end_to_end=table))
    assert "| one caller p50 ms | 3.0 (0.75x) | 4.0 (1.00x) |" in text
    assert "| per second | 300.0 (1.20x) | 250.0 (1.00x) |" in text


def _stream_figures(scale: float) -> dict[str, float]:
    figures = {
        "first_byte_us": 100.0,
        "last_byte_us": 400.0,
        "mb_per_s": 1000.0,
        "cpu_us_per_invocation": 500.0,
        "cpu_us_per_mb": 1500.0,
        "server_cpu_us_per_mb": 500.0,
        "peak_rss_kib": 20480.0,
        "chunks": 16.0,
    }
    return {key: value * scale for key, value in figures.items()}


def test_stream_tables_give_ratios_to_their_reference() -> None:
    scenario = {
        "invocations": 200,
        "reps": 7,
        "figures": {"ric": _stream_figures(0.5), "node-ric": _stream_figures(1.0)},
    }
    results = _results(
        "stream",
        ["ric", "node-ric"],
        reference="node-ric",
        node_ric="aws-lambda-ric 4.0.2 on node v20.20.2",
        first_byte={**scenario, "chunks": 16, "size": 1024},
        throughput={**scenario, "chunks": 1024, "size": 65536},
    )
    text = suite_markdown(results)
    assert (
        "Streaming to the fake Runtime API: 16 chunks of 1 KB (200 streams a run, "
        "median of 7 runs; ratios to node-ric)"
    ) in text
    assert "1,024 chunks of 64 KB" in text
    assert "| figure | ric | node-ric |" in text
    assert "| first yield to first byte, µs | 50.0 (0.50x) | 100.0 (1.00x) |" in text
    assert "| MB/s, first yield to last byte | 500.0 (0.50x) | 1,000.0 (1.00x) |" in text
    assert "| peak RSS, MiB | 10.0 (0.50x) | 20.0 (1.00x) |" in text
    assert "Node's client: aws-lambda-ric 4.0.2 on node v20.20.2." in text


def _through(scale: float, raw: bool = True) -> dict[str, float]:
    figures = {
        "first_byte_us": 1000.0,
        "last_byte_us": 2000.0,
        "mb_per_s": 300.0,
        "caller_cpu_us_per_invocation": 500.0,
        "caller_cpu_us_per_mb": 900.0,
        "emulator_cpu_us_per_invocation": 2000.0,
        "emulator_cpu_us_per_mb": 3000.0,
        "chunks": 16.0,
        **({"first_read_us": 1100.0} if raw else {}),
    }
    return {key: value * scale for key, value in figures.items()}


def _emulator_results() -> dict[str, Any]:
    names = ["ric", "ric buffered", "node-ric"]
    scales = {"ric": 0.5, "ric buffered": 0.25, "node-ric": 1.0}

    def paths(*found: str, skip: str = "") -> dict[str, Any]:
        return {
            path: {"figures": {n: _through(scales[n], path != "boto3") for n in names if n != skip}}
            for path in found
        }

    spec = {"invocations": 100, "reps": 7}
    emulator = {
        "flags": ["--port", "0", "--stream-rate", "0"],
        "paths": ["boto3", "invoke", "url"],
        "skipped": [],
        "reference": "node-ric",
        "first_byte": {
            **spec,
            "chunks": 16,
            "size": 1024,
            "paths": paths("boto3", "invoke", "url"),
        },
        "whole": {**spec, "chunks": 64, "size": 65536, "paths": paths("invoke")},
        "long": {
            **spec,
            "chunks": 1024,
            "size": 65536,
            "paths": paths("invoke", skip="ric buffered"),
        },
        "overhead": {
            "invoke": {n: {"added_us": 1000.0 * s, "ratio": 2.0} for n, s in scales.items()},
            "url": {n: {"added_us": 900.0 * s, "ratio": 2.0} for n, s in scales.items()},
        },
    }
    fake = {"invocations": 200, "reps": 7, "chunks": 16, "size": 1024}
    return _results(
        "stream",
        names,
        reference="node-ric",
        first_byte={**fake, "figures": {n: _stream_figures(scales[n]) for n in names}},
        throughput={**fake, "figures": {n: _stream_figures(scales[n]) for n in names}},
        emulator=emulator,
    )


def test_stream_tables_through_the_emulator() -> None:
    text = suite_markdown(_emulator_results())
    assert (
        "Through the emulator, first yield to first byte at the caller, µs: 16 chunks of 1 KB "
        "(100 streams a run, median of 7 runs; ratios to node-ric)"
    ) in text
    header = "| figure | ric | ric buffered | node-ric | ric / ric buffered |"
    assert text.count(header) == 3
    assert "| fake Runtime API, no emulator: arrived | 50.0 (0.50x) | 25.0 (0.25x) |" in text
    assert "| raw: arrived | 500.0 (0.50x) | 250.0 (0.25x) | 1,000.0 (1.00x) | 2.00x |" in text
    assert "| URL: read by the caller | 550.0 (0.50x) |" in text
    assert "| boto3: first `PayloadChunk` handed over | 500.0 (0.50x) |" in text
    assert "| the emulator's part: raw arrived minus fake API | 500.0 (0.50x) |" in text
    assert "| the emulator's part: URL arrived minus fake API | 450.0 (0.50x) |" in text
    long = text[text.index("1,024 chunks of 64 KB (100 streams") :]
    assert "| MB/s, first yield to last byte | 150.0 (0.50x) | n/a | 300.0 (1.00x) | n/a |" in long
    assert "`--port 0 --stream-rate 0`" in text and "Skipped" not in text


def test_a_path_skipped_is_left_out_and_said() -> None:
    results = _emulator_results()
    emulator = results["emulator"]
    del emulator["first_byte"]["paths"]["boto3"]
    emulator["skipped"] = ["boto3: not installed"]
    text = suite_markdown(results)
    assert "boto3: first" not in text
    assert "Skipped: boto3: not installed." in text


def test_goals_table() -> None:
    results = _hot()
    results["goals"] = [
        {"goal": "a <= 1.00", "measured": 1.0004, "met": False},
        {"goal": "b <= 64.00", "measured": None, "met": False},
    ]
    text = suite_markdown(results)
    assert "| a <= 1.00 | 1.000 | no |" in text
    assert "| b <= 64.00 | n/a | no |" in text


def test_latest_gathers_every_suite_and_all_goals_at_the_end(tmp_path: Path) -> None:
    hot = _hot()
    hot["goals"] = [{"goal": "hot goal <= 1.00", "measured": 0.5, "met": True}]
    emulator = _results("emulator", ["ric"], end_to_end={"ric": {"per_second": 300.0}})
    emulator["goals"] = [{"goal": "emulator goal <= 1.00", "measured": 2.0, "met": False}]
    (tmp_path / "hot.json").write_text(json.dumps(hot))
    (tmp_path / "emulator.json").write_text(json.dumps(emulator))
    assert write_latest(tmp_path)  # no chart without a cold suite, and no error
    text = (tmp_path / "latest.md").read_text()
    assert text.index("Warm: client CPU") < text.index("End to end") < text.index("hot goal")
    assert text.count("| goal | measured | met |") == 1
    assert text.rstrip().endswith("| emulator goal <= 1.00 | 2.000 | no |")
    assert not (tmp_path / "latest.png").exists()
