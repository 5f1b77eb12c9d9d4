"""An async function: a client opened once during init, used by every invocation.

    python -m emulator async_app.handler --code-dir examples
    python -m emulator async_app.handler --code-dir examples \\
        --max-concurrency 8 --env RIC_CONCURRENCY_MODE=async

The second serves up to 8 invocations at once, in one process, on one event
loop: invoke it from several shells at once and every answer has the same
``pid``. ``Backend`` stands for an ``httpx.AsyncClient``, an asyncpg pool or
an aiobotocore client: made on the runtime's loop during init, it works in
every invocation after.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import ric


class Backend:
    """A client bound to the event loop it was made on (its lock is)."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.calls = 0

    async def fetch(self) -> int:
        await asyncio.sleep(0.1)  # the I/O call: other invocations run meanwhile
        async with self.lock:
            self.calls += 1
            return self.calls


class Clients:
    """What init opens, for every invocation to use."""

    backend: Backend


clients = Clients()


@ric.on_init
async def connect() -> None:
    """Runs once, before the first event, on the loop every invocation runs on."""
    clients.backend = Backend()


async def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    calls = await clients.backend.fetch()
    current = ric.current_context()  # this invocation's, from any function it calls
    assert current is context
    return {"requestId": current.aws_request_id, "pid": os.getpid(), "callsSoFar": calls}
