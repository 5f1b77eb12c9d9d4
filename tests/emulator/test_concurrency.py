"""Concurrency limits: throttling beyond them, overlap within them, callers that hang up.

"Lambda function scaling" and the 429 of "Invoke":
https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.emulator.harness import EmulatorProcess, HeldInvoke, invoke_path, wait_until


def test_an_invoke_beyond_the_limit_is_throttled(
    client: httpx.Client, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    with HeldInvoke(emulator.url, "solo", tmp_path) as held:
        response = client.post(invoke_path("solo"), json={})
        assert response.status_code == 429
        assert response.headers["x-amzn-errortype"] == "TooManyRequestsException"
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert isinstance(body["message"], str)
        assert body["message"]
        first = held.release()
    assert first.status_code == 200
    assert first.json() == {"pid": held.pid, "released": True}


def test_the_limit_frees_up_when_the_invocation_ends(
    client: httpx.Client, emulator: EmulatorProcess, tmp_path: Path
) -> None:
    with HeldInvoke(emulator.url, "solo", tmp_path, tag="first") as first:
        assert first.release().status_code == 200
    with HeldInvoke(emulator.url, "solo", tmp_path, tag="second") as second:
        assert second.release().status_code == 200
    assert second.pid == first.pid  # the warm environment served it


def test_invokes_within_the_limit_overlap(emulator: EmulatorProcess, tmp_path: Path) -> None:
    # Each invocation waits at a barrier for the other: both return "met" only if
    # they ran at the same time, in two environments.
    event = {"dir": str(tmp_path), "parties": 2}
    url = emulator.url + invoke_path("duo")
    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(lambda _: httpx.post(url, json=event, timeout=30), range(2)))
    assert [r.status_code for r in responses] == [200, 200]
    bodies = [r.json() for r in responses]
    assert all(body["met"] for body in bodies), bodies
    assert bodies[0]["pid"] != bodies[1]["pid"]


def hang_up_on_timeout(url: str, event: dict[str, str]) -> None:
    # The handler cannot return before the release file exists: the timeout fires first.
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url, json=event, timeout=0.5)


def hang_up_once_running(url: str, event: dict[str, str]) -> None:
    # A raw socket closed once the handler runs: no timeout in the way.
    address = urlsplit(url)
    body = json.dumps(event).encode()
    head = (
        f"POST {address.path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    host, port = address.hostname or "127.0.0.1", address.port or 80
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(head.encode() + body)
        assert wait_until(Path(event["running"]).exists)


@pytest.mark.parametrize("hang_up", [hang_up_on_timeout, hang_up_once_running])
def test_a_caller_that_hangs_up_does_not_wedge_the_function(
    client: httpx.Client,
    emulator: EmulatorProcess,
    tmp_path: Path,
    hang_up: Callable[[str, dict[str, str]], None],
) -> None:
    running, release = tmp_path / "running", tmp_path / "release"
    hang_up(
        emulator.url + invoke_path("hangup"), {"running": str(running), "release": str(release)}
    )
    assert wait_until(running.exists)
    release.touch()  # the handler answers after its caller left
    event = {"running": str(tmp_path / "next.running"), "release": str(release)}
    responses: list[httpx.Response] = []

    def answered() -> bool:
        responses.append(client.post(invoke_path("hangup"), json=event))
        return responses[-1].status_code != 429

    # concurrency 1: throttled until the abandoned invocation has ended
    assert wait_until(answered), "still throttled"
    response = responses[-1]
    assert response.status_code == 200
    assert response.json() == {"pid": int(running.read_text()), "released": True}  # reused


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(5))
def test_many_more_callers_than_the_limit_all_get_an_answer(
    emulator: EmulatorProcess, round_: int
) -> None:
    url = emulator.url + invoke_path("stress")
    callers = 3 * 2  # three times the function's concurrency of 2

    def call(_: int) -> int:
        return httpx.post(url, json={"seconds": 0.3}, timeout=30).status_code

    with ThreadPoolExecutor(callers) as pool:
        statuses = list(pool.map(call, range(callers)))
    assert set(statuses) <= {200, 429}, statuses
    assert 200 in statuses
