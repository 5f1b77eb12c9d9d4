"""``X-Amz-Invocation-Type``: DryRun validates only; Event runs in the background.

"Asynchronous invocation":
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

from tests.emulator.harness import (
    EmulatorProcess,
    HeldInvoke,
    containing,
    invoke_path,
    wait_until,
)

DRY_RUN = {"X-Amz-Invocation-Type": "DryRun"}
EVENT = {"X-Amz-Invocation-Type": "Event"}


def runs(folder: Path) -> list[str]:
    """The request ids of the runs ``handlers.record`` left in ``folder``."""
    return [run.name.split(".")[0] for run in folder.iterdir()] if folder.exists() else []


def test_dry_run_answers_204_and_runs_nothing(
    client: httpx.Client, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    dry, real = tmp_path / "dry", tmp_path / "real"
    response = client.post(invoke_path("dryrun"), json={"runs": str(dry)}, headers=DRY_RUN)
    assert response.status_code == 204
    assert response.content == b""
    assert "x-amzn-requestid" in response.headers
    # "dryrun" has concurrency 1 and no other test uses it: had the dry run started
    # anything, these invocations would be throttled or come second.
    for _ in range(2):
        response = client.post(invoke_path("dryrun"), json={"runs": str(real)})
        assert response.status_code == 200
    assert len(runs(real)) == 2
    assert runs(dry) == []
    last = response.headers["x-amzn-requestid"]
    emulator.wait_for_report("dryrun", last)
    starts = [line for line in emulator.function_lines("dryrun") if line.startswith("START ")]
    assert len(starts) == 2


def test_dry_run_still_validates(client: httpx.Client) -> None:
    response = client.post(invoke_path("record"), content=b"{", headers=DRY_RUN)
    assert response.status_code == 400
    assert client.post(invoke_path("nosuch"), json={}, headers=DRY_RUN).status_code == 404


def test_event_answers_202_before_the_handler_ends(
    client: httpx.Client, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    event = {
        "running": str(tmp_path / "running"),
        "release": str(tmp_path / "release"),
        "done": str(tmp_path / "done"),
    }
    # The handler cannot end before the release file exists, so the 202 came first.
    response = client.post(invoke_path("solo"), json=event, headers=EVENT)
    assert response.status_code == 202
    assert response.content == b""
    assert "x-amzn-requestid" in response.headers
    assert not (tmp_path / "done").exists()
    assert wait_until((tmp_path / "running").exists), "the event never ran"
    (tmp_path / "release").touch()
    assert wait_until((tmp_path / "done").exists), "the event never finished"
    emulator.wait_for_report("solo", (tmp_path / "done").read_text())  # solo is free again


def test_an_event_runs_once_in_the_background(client: httpx.Client, tmp_path: Path) -> None:
    folder = tmp_path / "runs"
    response = client.post(invoke_path("record"), json={"runs": str(folder)}, headers=EVENT)
    assert response.status_code == 202
    assert wait_until(lambda: runs(folder)), "the event never ran"
    assert len(runs(folder)) == 1


def test_a_failed_event_is_retried_twice(
    client: httpx.Client, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    folder = tmp_path / "runs"
    event = {"runs": str(folder), "fail": True}
    assert client.post(invoke_path("record"), json=event, headers=EVENT).status_code == 202
    assert wait_until(lambda: len(runs(folder)) >= 3), runs(folder)
    for attempt in (1, 2):
        emulator.wait_for_line(containing(f"retry {attempt} of 2"))


@pytest.mark.parametrize(("fail", "attempts"), [(False, 1), (True, 3)], ids=["ok", "retried"])
def test_an_event_keeps_its_request_id(
    client: httpx.Client, tmp_path: Path, fail: bool, attempts: int
) -> None:
    folder = tmp_path / "runs"
    event = {"runs": str(folder), "fail": fail}
    response = client.post(invoke_path("record"), json=event, headers=EVENT)
    assert response.status_code == 202
    assert wait_until(lambda: len(runs(folder)) >= attempts), runs(folder)
    assert set(runs(folder)) == {response.headers["x-amzn-requestid"]}


def test_an_event_waits_for_capacity_instead_of_being_throttled(
    client: httpx.Client, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    queued = {
        "running": str(tmp_path / "queued.running"),
        "release": str(tmp_path / "queued.release"),
        "done": str(tmp_path / "queued.done"),
    }
    (tmp_path / "queued.release").touch()  # it may end as soon as it runs
    with HeldInvoke(emulator.url, "solo", tmp_path) as held:
        response = client.post(invoke_path("solo"), json=queued, headers=EVENT)
        assert response.status_code == 202
        # concurrency 1, and its one environment is held: the event cannot run yet
        assert not (tmp_path / "queued.running").exists()
        assert held.release().status_code == 200
    assert wait_until((tmp_path / "queued.done").exists), "the queued event never ran"
    emulator.wait_for_report("solo", (tmp_path / "queued.done").read_text())
    assert int((tmp_path / "queued.running").read_text()) == held.pid  # the warm environment


CLIENT_CONTEXT = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()


@pytest.mark.parametrize(
    ("header", "value", "seen"),
    [
        # "ClientContext information is returned only if you use the synchronous
        # (RequestResponse) invocation type" (API_Invoke).
        ("X-Amz-Client-Context", CLIENT_CONTEXT, {"custom": None}),
        pytest.param(
            "X-Amz-Tenant-Id",
            "t-1",
            {"tenant_id": "t-1"},
        ),
    ],
    ids=["client-context", "tenant-id"],
)
def test_an_events_headers_reach_the_context(
    client: httpx.Client, tmp_path: Path, header: str, value: str, seen: dict[str, object]
) -> None:
    file = tmp_path / "context.json"
    response = client.post(
        invoke_path("context"), json={"file": str(file)}, headers={**EVENT, header: value}
    )
    assert response.status_code == 202
    assert wait_until(file.exists), "the event never ran"
    info = json.loads(file.read_text())
    assert {key: info[key] for key in seen} == seen
