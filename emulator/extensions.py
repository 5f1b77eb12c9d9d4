"""The Extensions API (2020-01-01) for extensions that take no events.

Extensions API reference: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html
An internal extension registered for no events (ric's graceful-shutdown
helper, the Rust runtime's) only asks Lambda for a shutdown phase: SIGTERM
and a grace period before SIGKILL, which every environment here gets anyway.
It registers during init, then waits on ``event/next`` until the end. This
emulator delivers no INVOKE or SHUTDOWN events, and says so to an extension
that asks for them rather than leave it waiting for events that never come.
"""

from __future__ import annotations

import asyncio
import json
import uuid

from emulator.errors import ApiError
from emulator.http import BodyTooLarge, Request, Response, json_response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from emulator.config import FunctionConfig

__all__ = ["EXTENSION_PREFIX", "Extensions"]

EXTENSION_PREFIX = "/2020-01-01/extension"
H_NAME = "lambda-extension-name"
H_IDENTIFIER = "lambda-extension-identifier"
# A registration is a short list of event names: anything near this is not one.
_REGISTER_LIMIT = 64 * 1024


class Extensions:
    """The extensions registered in one environment."""

    def __init__(self, function: FunctionConfig) -> None:
        self._function = function
        self._names: dict[str, str] = {}  # identifier -> name
        self._closed = asyncio.Event()

    async def route(self, request: Request, initialized: bool) -> Response | None:
        """The answer to an Extensions API request, or None for another API's path."""
        path, method = request.path, request.method
        if path == f"{EXTENSION_PREFIX}/register" and method == "POST":
            return await self._register(request, initialized)
        if path == f"{EXTENSION_PREFIX}/event/next" and method == "GET":
            self._known(request)
            await self._closed.wait()  # no events: the environment ends first
            return json_response(200, b'{"eventType": "SHUTDOWN", "shutdownReason": "spindown"}')
        return None

    def close(self) -> None:
        self._closed.set()

    async def _register(self, request: Request, initialized: bool) -> Response:
        if initialized:
            raise ApiError(403, "InvalidStateTransition", "Extensions register during init")
        name = request.headers.get(H_NAME, "")
        if not name:
            raise ApiError(400, "InvalidRequest", "Lambda-Extension-Name header is missing")
        try:
            events = json.loads(await request.read(_REGISTER_LIMIT))["events"]
        except (BodyTooLarge, ValueError, KeyError, TypeError):
            raise ApiError(400, "InvalidRequest", 'expected a body like {"events": []}') from None
        if events:
            message = f"this emulator delivers no extension events; {name} asked for {events}"
            raise ApiError(400, "InvalidEventType", message)
        identifier = str(uuid.uuid4())
        self._names[identifier] = name
        body = {
            "functionName": self._function.name,
            "functionVersion": self._function.version,
            "handler": self._function.handler,
        }
        return json_response(
            200, json.dumps(body).encode(), ("Lambda-Extension-Identifier", identifier)
        )

    def _known(self, request: Request) -> None:
        if request.headers.get(H_IDENTIFIER, "") not in self._names:
            raise ApiError(403, "Extension.UnknownExtensionIdentifier", "unknown extension")
