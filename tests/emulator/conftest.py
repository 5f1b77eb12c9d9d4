"""One emulator per session serving every test function, checked alive after each test."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.emulator.harness import FUNCTIONS, OPEN_CLIENTS, EmulatorProcess, toml_config

HERE = Path(__file__).resolve().parent
# In the emulator's own environment only: a runtime must not see it.
LEAK = ("LEAK_ME", "1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def code_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The functions' code, written once: handlers.py and a module that exits on import."""
    folder = tmp_path_factory.mktemp("emulator") / "code"
    folder.mkdir()
    shutil.copy(HERE / "handlers.py", folder / "handlers.py")
    (folder / "exits_on_import.py").write_text("import sys\n\nsys.exit(1)\n")
    return folder


@pytest.fixture(scope="session")
def session_emulator(code_dir: Path) -> Iterator[EmulatorProcess]:
    config = code_dir.parent / "functions.toml"
    config.write_text(toml_config(FUNCTIONS, str(code_dir)))
    env = {**os.environ, LEAK[0]: LEAK[1]}
    emulator = EmulatorProcess(
        ["--port", "0", "--config", str(config), "--async-retry-delays", "0.05,0.05"],
        cwd=code_dir.parent,
        env=env,
    )
    yield emulator
    assert emulator.stop(signal.SIGTERM) == 0, emulator.stderr


@pytest.fixture
def emulator(session_emulator: EmulatorProcess) -> Iterator[EmulatorProcess]:
    yield session_emulator
    assert session_emulator.process.poll() is None, (
        f"the emulator died during the test: {session_emulator.stderr[-20:]}"
    )


@pytest.fixture
def client(emulator: EmulatorProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, timeout=30) as client:
        yield client


@pytest.fixture(autouse=True)
def close_boto3_clients() -> Iterator[None]:
    yield
    while OPEN_CLIENTS:
        OPEN_CLIENTS.pop().close()
