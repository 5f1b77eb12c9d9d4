"""Integration fixtures: a scripted Runtime API per test, cleared after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from tests.integration.runtime_api import ScriptedRuntimeApi


@pytest.fixture(scope="session")
def make_httpserver() -> Iterator[HTTPServer]:
    """One server per session (pytest-httpserver's, but threaded on 127.0.0.1).

    Threaded, so a parked ``GET /next`` left by one runtime never blocks the next.
    """
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def runtime_api(httpserver: HTTPServer) -> Iterator[ScriptedRuntimeApi]:
    api = ScriptedRuntimeApi(httpserver)
    yield api
    api.release.set()
    httpserver.clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in str(item.path):
            item.add_marker(pytest.mark.integration)
