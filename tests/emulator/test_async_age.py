"""An event older than its MaximumEventAgeInSeconds is not run again: EventAgeExceeded.

In process, with a wall clock the test moves on: a minute cannot pass in a test.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from emulator.config import FunctionConfig, bootstrap_command
from emulator.core.events import Notice
from tests.emulator.harness import invoke_path, wait_until
from tests.emulator.inprocess import InProcessEmulator

APP = """
import json, os, pathlib, time

def work(event, context):
    pathlib.Path(event["started"]).touch()
    while not os.path.exists(event["release"]):
        time.sleep(0.01)
    raise RuntimeError("too late anyway")

def record(event, context):
    pathlib.Path(event["requestPayload"]["records"]).write_text(json.dumps(event))
"""
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


class MovableClock:
    """The real clocks, the wall one ``ahead`` seconds ahead."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time() + self.ahead


def test_an_event_past_its_maximum_age_ends_event_age_exceeded(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    settings = {
        "MaximumEventAgeInSeconds": 60,
        "DestinationConfig": {"OnFailure": {"Destination": ARN + "record"}},
    }
    work = FunctionConfig(
        name="work",
        command=bootstrap_command("app.work"),
        code_dir=str(tmp_path),
        timeout_s=30,
        event_invoke=settings,
        retry_delays_s=(0.05, 0.05),
    )
    record = FunctionConfig(
        name="record", command=bootstrap_command("app.record"), code_dir=str(tmp_path)
    )
    clock = MovableClock()
    event = {
        "started": str(tmp_path / "started"),
        "release": str(tmp_path / "release"),
        "records": str(tmp_path / "record.json"),
    }
    with InProcessEmulator((work, record), clock=clock) as emulator:
        answer = httpx.post(
            emulator.url + invoke_path("work"),
            json=event,
            headers={"X-Amz-Invocation-Type": "Event"},
            timeout=30,
        )
        assert wait_until((tmp_path / "started").exists)
        clock.ahead = 61.0  # the first attempt took a minute and a second
        (tmp_path / "release").touch()
        assert wait_until((tmp_path / "record.json").exists)
        ended = emulator.wait_for(lambda e: isinstance(e, Notice) and "ended:" in e.text)
        counters = emulator.counters
    document = json.loads((tmp_path / "record.json").read_text())
    request_id = answer.headers["x-amzn-requestid"]
    assert document["requestContext"] == {
        "requestId": request_id,
        "functionArn": ARN + "work",
        "condition": "EventAgeExceeded",
        "approximateInvokeCount": 1,
    }
    assert document["responseContext"] == {  # its one attempt's
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert counters["AsyncEventsReceived"] >= 1  # the record's event for "record" may be on its way
    assert counters["AsyncEventsDropped"] == 1
    assert counters["AsyncEventAgeMaxMs"] < 60_000  # attempts ran young; the age check did not
    assert isinstance(ended, Notice)
    assert ended.text.startswith(f"asynchronous invocation {request_id} ended: EventAgeExceeded")
