"""The harness's parts without a benchmark run: clients, heads, answers, the gc probe's record."""

from __future__ import annotations

import http.client
import io
import os
import sys
import threading
import time
from pathlib import Path

import pytest
from clients import BASELINE, ROOT, Client, baseline_client, default_clients, named_client
from end_to_end import function_name
from fake_api import ClientRun, cpu_ns, next_head, rss_kib, trace_id
from gc_probe import GcTally
from init_duration import APPS, check_answer, probe_command
from run import parse_args
from stats import parse_gc_record


def _parsed(head: bytes) -> http.client.HTTPResponse:
    class _Socket:
        def makefile(self, _mode: str) -> io.BytesIO:
            return io.BytesIO(head)

    response = http.client.HTTPResponse(_Socket())  # type: ignore[arg-type]
    response.begin()
    return response


def test_every_event_has_its_own_request_and_trace_id() -> None:
    first, second = (_parsed(next_head(i, b"{}", 1_700_000_000, 5_000)) for i in (0, 1))
    assert first.status == 200
    assert first.getheader("Lambda-Runtime-Aws-Request-Id") == "req-00000000"
    assert first.getheader("Lambda-Runtime-Deadline-Ms") == str(5_000 + 900_000)
    assert first.getheader("Content-Length") == "2"
    ids = {r.getheader("Lambda-Runtime-Trace-Id") for r in (first, second)}
    assert len(ids) == 2
    assert trace_id(1_700_000_000, 1) == (
        b"Root=1-6553f100-000000000000000000000001;Parent=0000000000000001;Sampled=0"
    )


def test_trace_ids_of_a_million_invocations_are_distinct() -> None:
    assert len({trace_id(0, i) for i in range(0, 1_000_000, 997)}) == len(range(0, 1_000_000, 997))


def test_client_commands_and_environment() -> None:
    ric = default_clients()[0]
    assert ric.argv("handlers.echo") == [sys.executable, "-m", "ric", "handlers.echo"]
    assert ric.module_form() == ("ric", ["{handler}"])
    env = ric.env()
    assert env["PYTHONPATH"] == str(ROOT)
    assert env["LAMBDA_TASK_ROOT"].endswith("benchmarks")
    floor = default_clients()[2]
    assert floor.module_form() is None
    assert floor.shown() == " ".join(floor.template)


def test_named_client() -> None:
    client = named_client("mine=python -m mine '{handler}'")
    assert client == Client("mine", ("python", "-m", "mine", "{handler}"))
    for bad in ("mine", "=python", "mine= "):
        with pytest.raises(ValueError, match="NAME=COMMAND"):
            named_client(bad)


def test_the_baseline_is_a_compiled_copy_that_leaves_the_tree_alone(tmp_path: Path) -> None:
    tree, work = tmp_path / "tree", tmp_path / "work"
    (tree / "ric").mkdir(parents=True)
    (tree / "ric" / "__main__.py").write_text("print('old ric')\n")
    work.mkdir()
    client = baseline_client(tree, work)
    assert client.name == BASELINE
    assert client.env()["PYTHONPATH"] == str(work)
    assert client.shown().startswith(f"PYTHONPATH={work} ")
    assert (work / "ric" / "__main__.py").read_text() == "print('old ric')\n"
    assert list((work / "ric" / "__pycache__").glob("__main__.*.pyc"))
    assert sorted(p.name for p in (tree / "ric").iterdir()) == ["__main__.py"]
    with pytest.raises(ValueError, match=r"no ric/__main__\.py"):
        baseline_client(tmp_path / "nowhere", work)


def test_probe_command_wraps_module_and_script_forms(tmp_path: Path) -> None:
    ric, _, floor = default_clients()
    record = tmp_path / "gc"
    probe = [sys.executable, str(ROOT / "benchmarks" / "gc_probe.py"), str(record)]
    assert probe_command(ric, "app.handler", record) == [*probe, "-m", "ric", "app.handler"]
    assert probe_command(floor, "app.handler", record) == [
        *probe,
        str(ROOT / "benchmarks" / "floor.py"),
        "app.handler",
    ]


def test_the_gc_tally_writes_a_record_that_parses(tmp_path: Path) -> None:
    path = tmp_path / "record"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        tally = GcTally(fd)
        for generation, collected in ((0, 10), (0, 5), (1, 100), (0, 0)):
            tally("start", {"generation": generation})
            tally("stop", {"generation": generation, "collected": collected})
    finally:
        os.close(fd)
    record = parse_gc_record(path.read_text())
    assert record.collections == (3, 1, 0)
    assert record.collected == 115
    assert record.gc_ns == tally.gc_ns > 0


def _posted(line: bytes, body: bytes, errors: int = 0) -> ClientRun:
    return ClientRun(first_post=line, first_post_body=body, error_posts=errors)


RESPONSE = b"POST /2018-06-01/runtime/invocation/req-00000000/response HTTP/1.1"


def test_an_answer_counts_only_as_a_200_response() -> None:
    assert check_answer(_posted(RESPONSE, b'{"statusCode": 200, "body": "{}"}')) is None
    error = b"POST /2018-06-01/runtime/invocation/req-00000000/error HTTP/1.1"
    assert "posted" in str(check_answer(_posted(error, b'{"errorType": "KeyError"}', 1)))
    assert "posted" in str(check_answer(_posted(b"", b"")))
    assert "answered" in str(check_answer(_posted(RESPONSE, b'{"statusCode": 500}')))
    assert "answered" in str(check_answer(_posted(RESPONSE, b"[1]")))
    assert "answered" in str(check_answer(_posted(RESPONSE, b"not json")))


def test_apps_are_api_gateway_events_for_their_handlers() -> None:
    assert [app.handler for app in APPS] == ["app_powertools.handler", "app_fastapi.handler"]
    assert all(b'"httpMethod": "GET"' in app.event for app in APPS)


def test_function_names_the_emulator_accepts() -> None:
    assert function_name("ric@baseline") == "ric-baseline"
    assert function_name("awslambdaric") == "awslambdaric"


def test_command_line() -> None:
    args = parse_args(["--only", "rss", "--rss-invocations", "1000000"])
    assert (args.only, args.rss_invocations, args.rss_every) == ("rss", 1_000_000, 50_000)
    with pytest.raises(SystemExit):
        parse_args(["--only", "hot,speed"])


def test_cpu_time_counts_every_thread_of_the_process() -> None:
    # /proc/PID/schedstat alone is the main thread's: a runtime's worker
    # threads (Node's) would go uncounted.
    burned = 30_000_000
    busy, release = threading.Event(), threading.Event()

    def burn() -> None:
        while time.thread_time_ns() < burned:
            pass
        busy.set()
        release.wait()  # alive while measured: an ended thread is no longer listed

    before = cpu_ns(os.getpid())
    worker = threading.Thread(target=burn)
    worker.start()
    busy.wait()
    during = cpu_ns(os.getpid())
    release.set()
    worker.join()
    assert during - before >= burned


def test_peak_rss_is_at_least_the_current_one() -> None:
    assert rss_kib(os.getpid(), "VmHWM") >= rss_kib(os.getpid()) > 0
