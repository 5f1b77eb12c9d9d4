"""The control plane's routes in front of the Invoke API, on the same port.

Lambda serves its whole API on one endpoint, so boto3's ``lambda`` client
(and the AWS CLI) reach every operation at ``--endpoint-url``: each
operation is a method and a path template of botocore's service model
(``lambda/2015-03-31/service-2.json``, its ``http.requestUri``). A
:class:`Route` is one of them; :class:`ControlPlane` matches a request to its
route, answers what the route's handler returns, and turns an
:class:`~emulator.errors.ApiError` into Lambda's error answer (status,
``X-Amzn-ErrorType``, ``{"Type", "message"}``). A request no route takes goes
to the Invoke API's frontend, which answers unknown paths itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from emulator.errors import ApiError
from emulator.http import BodyTooLarge, Request, Response, json_response
from emulator.protocols.invoke_api import error_body

__all__ = ["ControlPlane", "Route", "json_body", "ok", "read_json"]

Handler = Callable[[Request, "re.Match[str]"], Awaitable[Response]]
Fallback = Callable[[Request], Awaitable[Response]]
# A request's JSON body may be this large: the control plane's documents are small.
_BODY_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class Route:
    """``method`` and a path pattern (a regular expression, matched whole) to a handler."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler

    @classmethod
    def of(cls, method: str, template: str, handler: Handler) -> Route:
        """A route from a service model's ``requestUri`` (``{Name}`` for a path segment)."""
        path = template.split("?", 1)[0]
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
        return cls(method, re.compile(f"^{regex}/?$"), handler)


class ControlPlane:
    """Routes the control plane's requests; hands the rest to ``fallback``."""

    def __init__(self, routes: Iterable[Route], fallback: Fallback, request_id: Callable[[], str]):
        self._routes = list(routes)
        self._fallback = fallback
        self._request_id = request_id

    async def handle(self, request: Request) -> Response:
        path = request.path
        allowed: list[str] = []
        for route in self._routes:
            match = route.pattern.match(path)
            if match is None:
                continue
            if route.method != request.method:
                allowed.append(route.method)
                continue
            return await self._answer(route, request, match)
        if allowed:
            return self._error(
                ApiError(405, "MethodNotAllowedException", f"{request.method} is not allowed here")
            )
        return await self._fallback(request)

    async def _answer(self, route: Route, request: Request, match: re.Match[str]) -> Response:
        try:
            response = await route.handler(request, match)
        except ApiError as exc:
            return self._error(exc)
        response.headers.append(("X-Amzn-RequestId", self._request_id()))
        return response

    def _error(self, error: ApiError) -> Response:
        return json_response(
            error.status,
            error_body(error),
            ("X-Amzn-ErrorType", error.error_type),
            ("X-Amzn-RequestId", self._request_id()),
        )


async def read_json(request: Request, limit: int = _BODY_LIMIT) -> dict[str, Any]:
    """The request's JSON object body (``limit`` bytes at most); an empty body is ``{}``;
    else a 400 as Lambda's."""
    try:
        body = await request.read(limit)
    except BodyTooLarge:
        raise ApiError(
            413,
            "RequestEntityTooLargeException",
            f"Request must be smaller than {limit // (1024 * 1024)} MiB",
        ) from None
    if not body.strip():
        return {}
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise ApiError(
            400, "InvalidRequestContentException", f"Could not parse request body: {exc}"
        ) from None
    if not isinstance(document, dict):
        raise ApiError(
            400, "InvalidRequestContentException", "The request body must be a JSON object"
        )
    return document


def json_body(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def ok(document: object, status: int = 200) -> Response:
    """A JSON answer (``None``: an empty body, as Lambda's 204s have)."""
    if document is None:
        return Response(status, [])
    return json_response(status, json_body(document))
