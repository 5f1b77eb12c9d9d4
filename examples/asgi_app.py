"""An ASGI app (Starlette; a FastAPI app is one too) served in process by ``ric.asgi``.

    pip install starlette
    python -m emulator asgi_app.handler --code-dir examples --function-url RESPONSE_STREAM
    curl 'localhost:9001/hello?name=Lambda'    # {"hello":"Lambda","served":1}, then 2, 3...
    curl -N localhost:9001/ticks               # server-sent events, as the app sends them

Without ``streaming=True`` the response is buffered, for API Gateway, an ALB
or a function URL in BUFFERED mode.

The lifespan runs once, during init: its state (a counter, and the lock
that guards it, bound to the runtime's one event loop) serves every warm
invocation, and its end runs when Lambda shuts the environment down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

import ric


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    yield {"lock": asyncio.Lock(), "served": [0]}  # open clients and pools here
    print("lifespan: shut down")  # at SIGTERM: close them here


async def hello(request: Request) -> JSONResponse:
    async with request.state.lock:
        request.state.served[0] += 1
    name = request.query_params.get("name", "world")
    return JSONResponse({"hello": name, "served": request.state.served[0]})


async def ticks(request: Request) -> StreamingResponse:
    pause = float(request.query_params.get("pause", "0.5"))

    async def events() -> AsyncIterator[str]:
        for tick in range(1, 4):
            yield f"data: tick {tick}\n\n"
            await asyncio.sleep(pause)

    return StreamingResponse(events(), media_type="text/event-stream")


app = Starlette(routes=[Route("/hello", hello), Route("/ticks", ticks)], lifespan=lifespan)
handler = ric.asgi(app, streaming=True)
