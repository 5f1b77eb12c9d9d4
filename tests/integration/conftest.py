"""Integration fixtures: a scripted Runtime API per test, on a server of its own."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.integration.raw_api import Signal
from tests.integration.runtime_api import ScriptedRuntimeApi


@pytest.fixture
def make_httpserver() -> Iterator[HTTPServer]:
    """pytest-httpserver's server, but one per test, threaded, on 127.0.0.1.

    One per test: a request a killed runtime sent just before it died can wait
    in the listening socket's backlog until after its test ended, and on a
    shared server it would take the next test's event. Threaded, so a parked
    ``GET /next`` never blocks another runtime.
    """
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    # Stopping waits out werkzeug's half-second poll: let it do so in the background.
    threading.Thread(target=server.stop, daemon=True).start()


@pytest.fixture
def runtime_api(httpserver: HTTPServer) -> Iterator[ScriptedRuntimeApi]:
    api = ScriptedRuntimeApi(httpserver)
    yield api
    api.release.set()
    httpserver.clear()


@pytest.fixture
def signal(tmp_path: Path) -> Iterator[Signal]:
    """A FIFO a handler waits on: the test sends one byte for each step it allows."""
    fifo = Signal(tmp_path / "signal")
    yield fifo
    fifo.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in str(item.path):
            item.add_marker(pytest.mark.integration)
