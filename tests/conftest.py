"""Fixtures shared by the unit and integration tests."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

WriteModule = Callable[[str, str], Path]


@pytest.fixture
def write_module(tmp_path: Path) -> Iterator[WriteModule]:
    """Write a module into a fresh task root; forget every module imported from it after."""
    before = set(sys.modules)
    path_before = list(sys.path)

    def write(relative: str, source: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        return path

    yield write
    for name in set(sys.modules) - before:
        del sys.modules[name]
    sys.path[:] = path_before
