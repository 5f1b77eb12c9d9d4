"""The Extensions API requests of an internal extension, without I/O.

Extensions API reference: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html
An internal extension runs in the runtime process. Registering one, even for
no events, tells the platform to end the environment with SIGTERM and a
shutdown phase (500 ms with internal extensions only) instead of SIGKILL
("Shutdown phase" in lambda-runtime-environment.html).
"""

from __future__ import annotations

from ric.errors import MalformedResponse, UnexpectedStatus
from ric.wire import request_head

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ric.wire import Response

__all__ = [
    "EXTENSION_PREFIX",
    "H_EXTENSION_ID",
    "H_EXTENSION_NAME",
    "ExtensionRequests",
    "identifier",
]

EXTENSION_PREFIX = "/2020-01-01/extension"
# "Register": the request names the extension; the answer identifies it.
H_EXTENSION_NAME = "Lambda-Extension-Name"
H_EXTENSION_ID = "lambda-extension-identifier"
# No events: an internal extension cannot receive SHUTDOWN, and needs no INVOKE.
_NO_EVENTS = b'{"events":[]}'


class ExtensionRequests:
    """The two requests of an extension registered for no events."""

    __slots__ = ("_host",)

    def __init__(self, host: str) -> None:
        self._host = host

    def register(self, name: str) -> tuple[bytes, bytes]:
        """``POST /extension/register`` ("Register")."""
        fields = (
            f"Host: {self._host}\r\n{H_EXTENSION_NAME}: {name}\r\n"
            "Content-Type: application/json\r\n"
        )
        start = f"POST {EXTENSION_PREFIX}/register HTTP/1.1"
        return request_head(start, fields, len(_NO_EVENTS)), _NO_EVENTS

    def next_event(self, identifier: str) -> bytes:
        """``GET /extension/event/next`` ("Next event"): the extension is ready."""
        return (
            f"GET {EXTENSION_PREFIX}/event/next HTTP/1.1\r\nHost: {self._host}\r\n"
            f"Lambda-Extension-Identifier: {identifier}\r\n\r\n"
        ).encode()


def identifier(response: Response) -> str:
    """The extension's identifier in a 200 answer to ``register``."""
    if response.status != 200:
        message = f"extension/register answered {response.status}"
        raise UnexpectedStatus(message, response.status, response.body)
    value = response.headers.get(H_EXTENSION_ID)
    if not value:
        raise MalformedResponse(f"extension/register answer has no {H_EXTENSION_ID}")
    return value
