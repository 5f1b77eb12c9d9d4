"""The README's examples run as written: each served by the emulator and invoked."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.emulator.harness import EmulatorProcess, boto3_lambda

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AUDIT = "arn:aws:lambda:us-east-1:123456789012:function:audit"


def invoke(url: str, name: str = "function") -> httpx.Response:
    return httpx.post(f"{url}/2015-03-31/functions/{name}/invocations", content=b"{}", timeout=60)


def test_the_async_example_serves_concurrently_in_one_process(tmp_path: Path) -> None:
    args = [
        "--port", "0", "--code-dir", str(EXAMPLES), "--concurrency", "1",
        "--max-concurrency", "4", "--env", "RIC_CONCURRENCY_MODE=async", "async_app.handler",
    ]  # fmt: skip
    with EmulatorProcess(args, cwd=tmp_path) as emulator, ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: invoke(emulator.url), range(4)))
    bodies = [answer.json() for answer in answers]
    assert len({body["pid"] for body in bodies}) == 1
    assert sorted(body["callsSoFar"] for body in bodies) == [1, 2, 3, 4]
    assert [body["requestId"] for body in bodies] == [
        answer.headers["x-amzn-requestid"] for answer in answers
    ]


def test_the_async_example_serves_in_the_default_mode_too(tmp_path: Path) -> None:
    args = ["--port", "0", "--code-dir", str(EXAMPLES), "async_app.handler"]
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        first, second = invoke(emulator.url).json(), invoke(emulator.url).json()
    assert (first["callsSoFar"], second["callsSoFar"]) == (1, 2)
    assert first["pid"] == second["pid"]


def test_the_wsgi_example_answers_through_a_function_url(tmp_path: Path) -> None:
    args = ["--port", "0", "--code-dir", str(EXAMPLES), "--function-url", "BUFFERED"]
    args += ["--url-port", "0", "wsgi_app.handler"]
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        line = emulator.wait_for_line(lambda text: "function URL of function: " in text)
        url = line.rsplit(" ", 1)[1]
        page = httpx.get(url + "hello/there?name=reader", timeout=30)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.text == "<!doctype html><h1>Hello, reader</h1><p>/hello/there</p>"


def test_the_async_events_example_ends_with_a_record_at_audit(tmp_path: Path) -> None:
    config = str(EXAMPLES / "async_events.toml")
    with EmulatorProcess(["--port", "0", "--config", config], cwd=tmp_path) as emulator:
        lam = boto3_lambda(emulator.url)
        lam.put_function_event_invoke_config(
            FunctionName="orders",
            MaximumRetryAttempts=2,
            DestinationConfig={"OnFailure": {"Destination": AUDIT}},
        )
        answer = lam.invoke(
            FunctionName="orders", InvocationType="Event", Payload=b'{"quantity": 0}'
        )
        line = emulator.wait_for_line(lambda text: text.startswith("[audit] record: "), 30)
        attempts = [x for x in emulator.function_lines("orders") if x.startswith("attempt of")]
    request_id = answer["ResponseMetadata"]["RequestId"]
    record = json.loads(line.removeprefix("[audit] record: "))
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["requestId"] == request_id
    assert attempts == [f'attempt of {request_id}: {{"quantity": 0}}'] * 3


def test_the_sqs_example_ships_good_orders_and_dead_letters_the_bad_one(tmp_path: Path) -> None:
    args = ["--port", "0", "--code-dir", str(EXAMPLES), "--sqs", "sqs_orders.handler"]
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        line = emulator.wait_for_line(lambda text: text.startswith("emulator: SQS endpoint: "))
        demo = [sys.executable, str(EXAMPLES / "sqs_demo.py"), emulator.url, line.split()[-1]]
        done = subprocess.run(demo, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0].startswith("mapping ")
        assert lines[0].endswith(": Enabled")
        assert lines[1:] == ['dead-lettered: {"order": 2, "qty": 0}']
        shipped = [text for text in emulator.function_lines("function") if "shipped" in text]
    assert sorted(shipped) == ["order 1: 3 shipped", "order 3: 1 shipped"]


def test_the_release_example_routes_an_alias_and_provisions_it(tmp_path: Path) -> None:
    args = ["--port", "0", "--code-dir", str(EXAMPLES), "hello.handler"]
    with EmulatorProcess(args, cwd=tmp_path) as emulator:
        demo = [sys.executable, str(EXAMPLES / "release_demo.py"), emulator.url]
        done = subprocess.run(demo, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == [
        "published versions 1 and 2",
        "alias live ran versions ['1', '2']",
        "provisioned concurrency of live: READY",
    ]
    version, body = lines[3].split(": ", 1)
    assert (version, json.loads(body)["greeting"]) == ("version 2", "Hello, canary!")


def test_the_layers_example_greets_with_the_later_layers_word(tmp_path: Path) -> None:
    config = str(EXAMPLES / "layers" / "layers.toml")
    with EmulatorProcess(["--port", "0", "--config", config], cwd=tmp_path) as emulator:
        answer = boto3_lambda(emulator.url).invoke(
            FunctionName="greet", Payload=b'{"name": "reader"}'
        )
    assert json.loads(answer["Payload"].read()) == "HOWDY, READER!"
