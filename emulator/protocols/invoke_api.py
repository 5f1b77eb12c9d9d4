"""The Invoke API (2015-03-31) without I/O: what a request asks for, or why it is refused.

``POST /2015-03-31/functions/{FunctionName}/invocations``: see "Invoke" in the
Lambda API reference (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html)
for the headers, limits and error types used here; the name and qualifier
patterns are those of botocore's service model for ``Invoke``.
``POST /2021-11-15/functions/{FunctionName}/response-streaming-invocations``
("InvokeWithResponseStream") takes the same, but no ``Event`` invocation type.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from emulator.core.placement import Throttled
from emulator.errors import ApiError

__all__ = [
    "ASYNC_LIMIT",
    "CLIENT_CONTEXT_LIMIT",
    "SYNC_LIMIT",
    "InvocationType",
    "InvokeRequest",
    "error_body",
    "function_name",
    "not_found",
    "parse",
    "payload",
    "throttled",
    "too_large",
]

SYNC_LIMIT = 6 * 1024 * 1024
ASYNC_LIMIT = 1024 * 1024
# "Up to 3,583 bytes of base64-encoded data about the invoking client".
CLIENT_CONTEXT_LIMIT = 3583
_PATH = re.compile(
    r"^/(?:(?P<invoke>2015-03-31)/functions/(?P<name>[^/]+)/invocations"
    r"|2021-11-15/functions/(?P<streamed>[^/]+)/response-streaming-invocations)/?$"
)
# FunctionName: a name, a partial ARN or an ARN, optionally qualified (1 to 170 characters).
_FUNCTION = re.compile(
    r"^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
    r"(?P<name>[a-zA-Z0-9-_\.]+)(:(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$"
)
_QUALIFIER = re.compile(r"^[a-zA-Z0-9$_-]{1,128}$")


class InvocationType(enum.Enum):
    REQUEST_RESPONSE = "RequestResponse"
    EVENT = "Event"
    DRY_RUN = "DryRun"


@dataclass(frozen=True)
class InvokeRequest:
    """What an Invoke request asks for, validated."""

    name: str
    qualifier: str | None
    invocation_type: InvocationType
    tail: bool
    client_context: str | None  # JSON text; passed on for synchronous invocations only
    tenant_id: str | None
    streaming: bool = False  # InvokeWithResponseStream

    @property
    def limit(self) -> int:
        return ASYNC_LIMIT if self.invocation_type is InvocationType.EVENT else SYNC_LIMIT


def parse(
    method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
) -> InvokeRequest:
    """The request's intent, or the ApiError Lambda answers it with."""
    match = _PATH.match(path)
    if match is None or method != "POST":
        raise ApiError(404, "UnknownOperationException", f"Unknown operation {method} {path}")
    streaming = match.group("invoke") is None
    identifier = match.group("streamed") if streaming else match.group("name")
    name, qualifier = function_name(identifier, query.get("Qualifier"))
    types = [t for t in InvocationType if not (streaming and t is InvocationType.EVENT)]
    invocation_type = _one_of(
        "X-Amz-Invocation-Type",
        headers.get("x-amz-invocation-type", "RequestResponse"),
        [t.value for t in types],
    )
    log_type = _one_of("X-Amz-Log-Type", headers.get("x-amz-log-type", "None"), ["None", "Tail"])
    kind = InvocationType(invocation_type)
    client_context = _client_context(headers.get("x-amz-client-context"))
    sync = kind is InvocationType.REQUEST_RESPONSE
    # ClientContext "is returned only if you use the synchronous invocation type";
    # LogType "applies to synchronously invoked functions only".
    return InvokeRequest(
        name,
        qualifier,
        kind,
        log_type == "Tail" and sync,
        client_context if sync else None,
        headers.get("x-amz-tenant-id"),
        streaming,
    )


def not_found(name: str, qualifier: str | None, region: str = "us-east-1") -> ApiError:
    arn = f"arn:aws:lambda:{region}:123456789012:function:{name}"
    if qualifier is not None:
        arn += f":{qualifier}"
    return ApiError(404, "ResourceNotFoundException", f"Function not found: {arn}")


def payload(body: bytes) -> bytes:
    """The event: the body when it is JSON, ``{}`` when there is none."""
    if not body:
        return b"{}"  # an invoke without a payload hands the function an empty object
    try:
        json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError(
            400, "InvalidRequestContentException", f"Could not parse request body into json: {exc}"
        ) from None
    return body


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "RequestEntityTooLargeException",
        f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
    )


def error_body(error: ApiError) -> bytes:
    """Lambda's error document: ``{"Type": "User", "message": ...}`` (+ ``Reason`` on 429)."""
    body = {"Type": "User" if error.status < 500 else "Service", "message": error.message}
    if error.reason is not None:
        body["Reason"] = error.reason
    return json.dumps(body).encode()


def throttled(limit: Throttled) -> ApiError:
    """Lambda's 429 (TooManyRequestsException), its Reason saying whose limit it is."""
    return ApiError(
        429,
        "TooManyRequestsException",
        f"Rate Exceeded. The function is at its concurrency limit of {limit.limit}",
        limit.reason,
    )


def function_name(identifier: str, query_qualifier: str | None) -> tuple[str, str | None]:
    """The function's name and qualifier from a FunctionName (name, ARN or partial ARN)
    and a Qualifier parameter; a ValidationException when malformed."""
    if len(identifier) > 170 or (match := _FUNCTION.match(identifier)) is None:
        raise _validation(identifier, "functionName", _FUNCTION.pattern)
    name, qualifier = match.group("name"), match.group("qualifier")
    if query_qualifier is not None:
        if not _QUALIFIER.match(query_qualifier):
            raise _validation(query_qualifier, "qualifier", "(|[a-zA-Z0-9$_-]+)")
        if qualifier is not None and qualifier != query_qualifier:
            raise ApiError(
                400,
                "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified "
                "qualifier.",
            )
        qualifier = query_qualifier
    return name, qualifier


def _validation(value: str, member: str, pattern: str) -> ApiError:
    shown = value.encode("unicode_escape").decode("ascii")[:200]
    return ApiError(
        400,
        "ValidationException",
        f"1 validation error detected: Value '{shown}' at '{member}' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {pattern}",
    )


def _one_of(header: str, value: str, allowed: list[str]) -> str:
    if value not in allowed:
        raise ApiError(
            400,
            "InvalidParameterValueException",
            f"{header} must be one of {', '.join(allowed)}; got {value!r}",
        )
    return value


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _client_context(header: str | None) -> str | None:
    """The JSON text of ``X-Amz-Client-Context`` (base64 of a JSON object)."""
    if header is None:
        return None
    if len(header) > CLIENT_CONTEXT_LIMIT:
        raise ApiError(
            400,
            "InvalidRequestContentException",
            f"Client context must be at most {CLIENT_CONTEXT_LIMIT} bytes of base64, "
            f"got {len(header)}",
        )
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
