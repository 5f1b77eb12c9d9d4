"""Shared fixtures: a task root of user modules that leaves no trace behind."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest


class TaskRoot:
    """A directory of user modules; ``name`` is a module name unique to the test."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = str(path)
        # tmp_path names are unique per session and made of word characters only.
        self.name = f"m_{path.name}"

    def write(self, relative: str, source: str) -> Path:
        file = self.path / relative
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(textwrap.dedent(source))
        return file


@pytest.fixture
def task_root(tmp_path: Path) -> Iterator[TaskRoot]:
    """Restores ``sys.path`` and forgets every module imported from the task root."""
    path_before = list(sys.path)
    yield TaskRoot(tmp_path)
    for name, module in list(sys.modules.items()):
        locations = [getattr(module, "__file__", None), *getattr(module, "__path__", [])]
        if any(location and location.startswith(str(tmp_path)) for location in locations):
            del sys.modules[name]
    sys.path[:] = path_before
    sys.path_importer_cache.pop(str(tmp_path), None)
