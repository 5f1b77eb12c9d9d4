"""ric.wsgi behind the emulator's function URLs, buffered and RESPONSE_STREAM, in real processes.

Incrementality is proven with gates, never with timing: the app yields
event ``i`` only once the file ``{gate}/{i}`` exists, and the test creates it
only after it has read event ``i - 1``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.emulator.harness import (
    EmulatorProcess,
    gated_events,
    non_http_error,
    url_of,
    web_app_emulator,
)

APP = textwrap.dedent(
    """
    import pathlib
    import time
    from urllib.parse import parse_qs

    import ric


    def app(environ, start_response):
        if environ["PATH_INFO"] == "/events":
            return events(environ, start_response)
        seen = [environ[key] for key in ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING")]
        seen.append(environ["HTTP_COOKIE"])
        seen.append(environ["wsgi.input"].read().decode())
        fields = [("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
        start_response("201 Created", [*fields, ("X-Many", "1"), ("X-Many", "2")])
        return [" ".join(seen).encode()]


    def events(environ, start_response):
        gate = pathlib.Path(parse_qs(environ["QUERY_STRING"])["gate"][0])
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        yield b""
        for index in range(3):
            while not (gate / str(index)).exists():
                time.sleep(0.005)
            yield f"data: {index}\\n\\n".encode()


    buffered = ric.wsgi(app)
    streamed = ric.wsgi(app, streaming=True)
    """
)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with web_app_emulator(tmp_path_factory.mktemp("web"), "webapp", APP) as emulator:
        yield emulator


@pytest.mark.parametrize("name", ["flat", "live"])
def test_a_request_reaches_the_app_and_its_answer_the_caller(
    emulator: EmulatorProcess, name: str
) -> None:
    response = httpx.post(
        url_of(emulator, name) + "a%20b/c?x=1&x=2",
        content=b"hello",
        headers={"Cookie": "k=v; k2=v2"},
        timeout=30,
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "text/plain"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers["x-many"] == "1,2"
    assert response.text == "POST /a b/c x=1&x=2 k=v;k2=v2 hello"


def test_server_sent_events_stream_as_the_app_yields_them(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    assert gated_events(emulator, tmp_path) == "text/event-stream"


def test_a_non_http_event_is_a_function_error(emulator: EmulatorProcess) -> None:
    error = non_http_error(emulator)
    assert '"errorType": "NotAnHttpEvent"' in error or '"errorType":"NotAnHttpEvent"' in error
