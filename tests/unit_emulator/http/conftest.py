"""Socket-level tests of emulator.http run on asyncio's loop and on uvloop's."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["asyncio", "uvloop"])
def loop(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind
