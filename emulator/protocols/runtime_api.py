"""The Runtime API (2018-06-01) as the emulator serves it: routes, headers, answers.

Reference: "Using the Lambda runtime API for custom runtimes"
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from emulator.core.effects import PostAnswer
from emulator.core.invocation import Invocation

__all__ = [
    "ACCEPTED_BODY",
    "H_ERROR_BODY",
    "H_ERROR_TYPE",
    "PREFIX",
    "STREAM_CONTENT_TYPE",
    "Route",
    "RouteKind",
    "answer",
    "error_body",
    "event_headers",
    "is_streamed",
    "route",
    "streamed_error",
]

PREFIX = "/2018-06-01/runtime"
_POST = re.compile(rf"^{PREFIX}/invocation/([^/]+)/(response|error)$")
# "Invocation error", "Initialization error": the request header naming the error.
H_ERROR_TYPE = "lambda-runtime-function-error-type"
H_ERROR_BODY = "lambda-runtime-function-error-body"
ACCEPTED_BODY = b'{"status":"OK"}'
# "Response streaming": the mode a runtime may announce, and the default type.
H_RESPONSE_MODE = "lambda-runtime-function-response-mode"
STREAM_CONTENT_TYPE = "application/octet-stream"


class RouteKind(enum.Enum):
    NEXT = "next"  # GET invocation/next ("Next invocation")
    RESPONSE = "response"  # POST invocation/{id}/response ("Invocation response")
    ERROR = "error"  # POST invocation/{id}/error ("Invocation error")
    INIT_ERROR = "init_error"  # POST init/error ("Initialization error")
    RESTORE_NEXT = "restore_next"  # GET restore/next ("After restore", SnapStart)
    OTHER = "other"  # not the Runtime API's


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    request_id: str = ""


def route(method: str, path: str) -> Route:
    """Which Runtime API endpoint ``method path`` is."""
    if method == "GET" and path == f"{PREFIX}/invocation/next":
        return Route(RouteKind.NEXT)
    if method == "POST" and (match := _POST.match(path)):
        kind = RouteKind.RESPONSE if match.group(2) == "response" else RouteKind.ERROR
        return Route(kind, match.group(1))
    if method == "POST" and path == f"{PREFIX}/init/error":
        return Route(RouteKind.INIT_ERROR)
    if method == "GET" and path == f"{PREFIX}/restore/next":
        return Route(RouteKind.RESTORE_NEXT)
    return Route(RouteKind.OTHER)


def event_headers(
    invocation: Invocation, deadline_ms: int, function_arn: str
) -> list[tuple[str, str]]:
    """The answer to ``GET /next``: "Next invocation", response headers."""
    headers = [
        ("Content-Type", "application/json"),
        ("Lambda-Runtime-Aws-Request-Id", invocation.request_id),
        ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
        ("Lambda-Runtime-Invoked-Function-Arn", invocation.function_arn or function_arn),
        ("Lambda-Runtime-Trace-Id", invocation.trace_id),
        ("Lambda-Runtime-Invocation-Id", invocation.invocation_id),
    ]
    if invocation.client_context is not None:
        headers.append(("Lambda-Runtime-Client-Context", invocation.client_context))
    if invocation.tenant_id is not None:
        # Tenant isolation mode ("Lambda tenant isolation" in the developer guide).
        headers.append(("Lambda-Runtime-Aws-Tenant-Id", invocation.tenant_id))
    return headers


def is_streamed(headers: Mapping[str, str]) -> bool:
    """Whether a ``/response`` post streams its body.

    Runtimes announce it differently: Node's sends
    ``Lambda-Runtime-Function-Response-Mode: streaming``; Go's sends no mode,
    only a chunked body with its ``Trailer`` fields. Either is a stream.
    """
    if headers.get(H_RESPONSE_MODE, "").lower() == "streaming":
        return True
    return "chunked" in headers.get("transfer-encoding", "").lower()


def streamed_error(trailers: Mapping[str, str]) -> bytes | None:
    """The error a streamed response reported in its trailers, if it did.

    "Response streaming" (runtimes-custom.html#runtimes-custom-response-streaming):
    an error after the first bytes goes in the Lambda-Runtime-Function-Error-Type
    and -Error-Body trailers, the body base64-encoded.
    """
    error_type = trailers.get(H_ERROR_TYPE)
    if error_type is None:
        return None
    try:
        body = base64.b64decode(trailers.get(H_ERROR_BODY, ""), validate=True)
    except binascii.Error:
        message = "the error body in the response's trailers is not base64"
    else:
        if body:
            return body
        message = ""  # a type without a body: the caller still learns the type
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def error_body(error_type: str, message: str) -> bytes:
    """The Runtime API's own error answers: ``{"errorMessage", "errorType"}``."""
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


_REFUSALS = {
    PostAnswer.UNKNOWN_REQUEST_ID: (400, "InvalidRequestID", "Invalid request ID: {id!r}"),
    PostAnswer.ALREADY_ENDED: (403, "InvalidStateTransition", "State transition is not allowed"),
    PostAnswer.TIMED_OUT: (410, "InvocationTimedOut", "Invocation has already timed out"),
}


def answer(post: PostAnswer, request_id: str, limit: int) -> tuple[int, bytes]:
    """Status and body of the Runtime API's answer to a post."""
    if post is PostAnswer.ACCEPTED:
        return 202, ACCEPTED_BODY
    if post is PostAnswer.TOO_LARGE:
        message = f"Exceeded maximum allowed payload size ({limit} bytes)."
        return 413, error_body("RequestEntityTooLarge", message)
    status, error_type, message = _REFUSALS[post]
    return status, error_body(error_type, message.format(id=request_id))
