"""The Invoke API (2015-03-31), answered as Lambda answers it.

``POST /2015-03-31/functions/{name}/invocations`` (the name may carry a
``:qualifier`` or be an ARN): see "Invoke" in the Lambda API reference
(https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html) for the
headers, limits and error types used here.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import uuid

from emulator.errors import ApiError
from emulator.http import BodyTooLarge, Request, Response, json_response
from emulator.logs import tail
from emulator.service import FunctionService
from emulator.state import Invocation

__all__ = ["ASYNC_LIMIT", "SYNC_LIMIT", "InvokeApi"]

SYNC_LIMIT = 6 * 1024 * 1024
ASYNC_LIMIT = 1024 * 1024
_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
_TYPES = ("RequestResponse", "Event", "DryRun")


class InvokeApi:
    """Routes Invoke API requests to the functions' services."""

    def __init__(self, services: dict[str, FunctionService]) -> None:
        self._services = services
        self._background: set[asyncio.Task[None]] = set()

    async def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        try:
            return await self._invoke(request, request_id)
        except ApiError as exc:
            body = {"Type": "User", "message": exc.message}
            if exc.status == 429:
                body["Reason"] = "ReservedFunctionConcurrentInvocationLimitExceeded"
            return json_response(
                exc.status,
                json.dumps(body).encode(),
                ("X-Amzn-ErrorType", exc.error_type),
                ("X-Amzn-RequestId", request_id),
            )

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def _invoke(self, request: Request, request_id: str) -> Response:
        service, qualifier = self._service(request)
        invocation_type = request.headers.get("x-amz-invocation-type", "RequestResponse")
        if invocation_type not in _TYPES:
            raise _invalid("X-Amz-Invocation-Type", invocation_type, _TYPES)
        log_type = request.headers.get("x-amz-log-type", "None")
        if log_type not in ("None", "Tail"):
            raise _invalid("X-Amz-Log-Type", log_type, ("None", "Tail"))
        payload = await _payload(request, ASYNC_LIMIT if invocation_type == "Event" else SYNC_LIMIT)
        client_context = _client_context(request.headers.get("x-amz-client-context"))
        common = [("X-Amzn-RequestId", request_id), ("X-Amz-Executed-Version", "$LATEST")]
        if invocation_type == "DryRun":
            return Response(204, common)
        invocation = Invocation(
            payload,
            client_context,
            request.headers.get("x-amz-tenant-id"),
            request_id,
            function_arn=_invoked_arn(service.function.arn, qualifier),
        )
        if invocation_type == "Event":
            task = asyncio.ensure_future(service.invoke_async(invocation))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return Response(202, common)
        # Shielded: a caller that hangs up never leaves an environment wedged.
        outcome, lines = await asyncio.shield(asyncio.ensure_future(service.invoke(invocation)))
        headers = [("Content-Type", outcome.content_type), *common]
        if outcome.function_error:
            headers.append(("X-Amz-Function-Error", outcome.function_error))
        if log_type == "Tail":
            headers.append(("X-Amz-Log-Result", tail(lines)))
        return Response(200, headers, outcome.body)

    def _service(self, request: Request) -> tuple[FunctionService, str | None]:
        """The function's service and the qualifier (version or alias) invoked, if any."""
        match = _PATH.match(request.path)
        if match is None or request.method != "POST":
            raise ApiError(
                404,
                "UnknownOperationException",
                f"Unknown operation {request.method} {request.path}",
            )
        name, qualifier = _function_name(match.group("name"))
        qualifier = request.query.get("Qualifier", qualifier)
        service = self._services.get(name)
        if service is None:
            arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
            raise ApiError(404, "ResourceNotFoundException", f"Function not found: {arn}")
        return service, qualifier


def _function_name(identifier: str) -> tuple[str, str | None]:
    """``name``, ``name:qualifier``, a partial ARN or a full ARN, to name and qualifier."""
    if ":function:" in identifier:
        identifier = identifier.split(":function:", 1)[1]
    name, _, qualifier = identifier.partition(":")
    return name, qualifier or None


def _invoked_arn(arn: str, qualifier: str | None) -> str:
    # The ARN the caller used: qualified when it named a version or an alias.
    return f"{arn}:{qualifier}" if qualifier else arn


async def _payload(request: Request, limit: int) -> bytes:
    try:
        body = await request.read(limit)  # refused before it is buffered
    except BodyTooLarge:
        raise ApiError(
            413,
            "RequestEntityTooLargeException",
            f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
        ) from None
    if not body:
        return b"{}"  # an invoke without a payload hands the function an empty object
    try:
        json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError(
            400, "InvalidRequestContentException", f"Could not parse request body into json: {exc}"
        ) from None
    return body


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _client_context(header: str | None) -> str | None:
    """The JSON text of ``X-Amz-Client-Context`` (base64 of a JSON object)."""
    if header is None:
        return None
    try:
        value = json.loads(base64.b64decode(header, validate=True).decode("utf-8"))
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
    except (binascii.Error, ValueError, RecursionError) as exc:
        raise ApiError(
            400,
            "InvalidRequestContentException",
            f"Client context must be a base64-encoded JSON object: {exc}",
        ) from None
    # One line of ASCII, whatever the caller's layout: it travels in a header.
    return json.dumps(value, separators=(",", ":"))


def _invalid(header: str, value: str, allowed: tuple[str, ...]) -> ApiError:
    return ApiError(
        400,
        "InvalidParameterValueException",
        f"{header} must be one of {', '.join(allowed)}; got {value!r}",
    )
