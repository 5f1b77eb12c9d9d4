"""The Lambda Runtime API (2018-06-01) without I/O: request bytes and parsed invocations.

Reference: AWS Lambda Developer Guide, "Using the Lambda runtime API for custom
runtimes" (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
Each builder returns ``(head, body)`` so the transport can send both in one
write without copying a large body.
"""

from __future__ import annotations

from ric.errors import MalformedResponse
from ric.wire import chunked_head, request_head

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ric.records import ErrorLog
    from ric.wire import Response

__all__ = [
    "ErrorReport",
    "Invocation",
    "RequestBuilder",
    "parse_invocation",
    "stream_error_trailers",
]

API_PREFIX = "/2018-06-01/runtime"

# runtimes-api.html, "Next invocation": response headers.
H_REQUEST_ID = "lambda-runtime-aws-request-id"
H_DEADLINE_MS = "lambda-runtime-deadline-ms"
H_FUNCTION_ARN = "lambda-runtime-invoked-function-arn"
H_TRACE_ID = "lambda-runtime-trace-id"
H_CLIENT_CONTEXT = "lambda-runtime-client-context"
H_COGNITO_IDENTITY = "lambda-runtime-cognito-identity"
# Tenant isolation mode ("Lambda tenant isolation" in the developer guide).
H_TENANT_ID = "lambda-runtime-aws-tenant-id"
# Sent by the platform per invocation; echoed on the response and error posts.
H_INVOCATION_ID = "lambda-runtime-invocation-id"
# runtimes-api.html, "Invocation error" and "Initialization error": request headers.
H_ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"
H_XRAY_ERROR_CAUSE = "Lambda-Runtime-Function-XRay-Error-Cause"
# runtimes-custom.html, "Implementing response streaming in a custom runtime"
# (#runtimes-custom-response-streaming): a streamed response says so, and an
# error raised after its first chunk is sent in these trailers, announced in
# the head's Trailer field, the body as base64 of the JSON an error post carries.
H_RESPONSE_MODE = "Lambda-Runtime-Function-Response-Mode"
H_ERROR_BODY = "Lambda-Runtime-Function-Error-Body"
STREAM_TRAILERS = (H_ERROR_TYPE, H_ERROR_BODY)
# The X-Ray SDK drops a cause header of 1 MiB or more, so we do not send one.
XRAY_CAUSE_LIMIT = 1024 * 1024


class Invocation:
    """One event handed out by ``GET /runtime/invocation/next``."""

    __slots__ = (
        "body",
        "client_context",
        "cognito_identity",
        "content_type",
        "deadline_ms",
        "function_arn",
        "invocation_id",
        "request_id",
        "tenant_id",
        "trace_id",
    )

    def __init__(self, request_id: str, body: bytes, headers: dict[str, str]) -> None:
        self.request_id = request_id
        self.body = body
        self.deadline_ms = _int_or_zero(headers.get(H_DEADLINE_MS))
        self.function_arn = headers.get(H_FUNCTION_ARN, "")
        self.trace_id = headers.get(H_TRACE_ID)
        self.client_context = headers.get(H_CLIENT_CONTEXT)
        self.cognito_identity = headers.get(H_COGNITO_IDENTITY)
        self.tenant_id = headers.get(H_TENANT_ID)
        self.invocation_id = headers.get(H_INVOCATION_ID)
        # A missing Content-Type is tolerated; awslambdaric crashes on it.
        self.content_type = headers.get("content-type", "")


class ErrorReport:
    """A failure: the errorType header, the JSON body, the X-Ray cause and its log record."""

    __slots__ = ("body", "error_type", "log", "xray_cause")

    def __init__(
        self,
        error_type: str,
        body: bytes,
        xray_cause: bytes | None = None,
        log: ErrorLog | None = None,
    ) -> None:
        self.error_type = error_type
        self.body = body
        self.xray_cause = xray_cause
        if log is None:
            from ric.records import ErrorLog

            log = ErrorLog(error_type, "", "", [])
        self.log = log

    @property
    def log_text(self) -> str:
        """The log record as standard output shows it."""
        from ric.records import error_text

        return error_text(self.log)


def parse_invocation(response: Response) -> Invocation:
    """The invocation in a 200 answer to ``/next``."""
    request_id = response.headers.get(H_REQUEST_ID)
    if not request_id:
        raise MalformedResponse("invocation/next answer has no Lambda-Runtime-Aws-Request-Id")
    return Invocation(request_id, response.body, response.headers)


# Milliseconds since the epoch fit in 13 digits for centuries; int() would
# refuse a value of more than 4300 digits with a ValueError.
_MAX_DEADLINE_DIGITS = 19


def _int_or_zero(value: str | None) -> int:
    """The deadline, or 0 (none known) for anything but a plain number."""
    if value and value.isascii() and value.isdigit() and len(value) <= _MAX_DEADLINE_DIGITS:
        return int(value)
    return 0


class RequestBuilder:
    """Builds the requests of one runtime; the constant parts are encoded once."""

    __slots__ = ("_common", "_next")

    def __init__(self, host: str, user_agent: str) -> None:
        self._common = f"Host: {host}\r\nUser-Agent: {user_agent}\r\n"
        self._next = f"GET {API_PREFIX}/invocation/next HTTP/1.1\r\n{self._common}\r\n".encode()

    @property
    def next(self) -> bytes:
        """``GET /runtime/invocation/next`` (runtimes-api.html, "Next invocation")."""
        return self._next

    def response(
        self, invocation: Invocation, body: bytes, content_type: str
    ) -> tuple[bytes, bytes]:
        """``POST /runtime/invocation/{id}/response`` ("Invocation response")."""
        extra = f"Content-Type: {content_type}\r\n{_invocation_id(invocation)}"
        return self._post(f"invocation/{invocation.request_id}/response", extra, body)

    def streaming_response(self, invocation: Invocation, content_type: str) -> bytes:
        """The head of a streamed ``POST /runtime/invocation/{id}/response``.

        A chunked body follows; its trailers may carry an error.
        """
        fields = (
            f"{self._common}Content-Type: {content_type}\r\n"
            f"{H_RESPONSE_MODE}: streaming\r\n{_invocation_id(invocation)}"
        )
        start = f"POST {API_PREFIX}/invocation/{invocation.request_id}/response HTTP/1.1"
        return chunked_head(start, fields, STREAM_TRAILERS)

    def error(self, invocation: Invocation, report: ErrorReport) -> tuple[bytes, bytes]:
        """``POST /runtime/invocation/{id}/error`` ("Invocation error")."""
        extra = _error_headers(report) + _invocation_id(invocation)
        return self._post(f"invocation/{invocation.request_id}/error", extra, report.body)

    def init_error(self, report: ErrorReport) -> tuple[bytes, bytes]:
        """``POST /runtime/init/error`` ("Initialization error")."""
        return self._post("init/error", _error_headers(report), report.body)

    @property
    def restore_next(self) -> bytes:
        """``GET /runtime/restore/next`` ("After restore (SnapStart only)",
        runtimes-api.html#runtimes-api-after-restore).

        Sent once, when init is done; Lambda answers it after restoring the snapshot.
        """
        return f"GET {API_PREFIX}/restore/next HTTP/1.1\r\n{self._common}\r\n".encode()

    def restore_error(self, report: ErrorReport) -> tuple[bytes, bytes]:
        """``POST /runtime/restore/error`` ("Restore error (SnapStart only)").

        runtimes-api.html#runtimes-api-restore-error; sent when an after-restore hook fails.
        """
        return self._post("restore/error", _error_headers(report), report.body)

    def _post(self, path: str, extra: str, body: bytes) -> tuple[bytes, bytes]:
        return request_head(
            f"POST {API_PREFIX}/{path} HTTP/1.1", self._common + extra, len(body)
        ), body


def _invocation_id(invocation: Invocation) -> str:
    if invocation.invocation_id is None:
        return ""
    return f"Lambda-Runtime-Invocation-Id: {invocation.invocation_id}\r\n"


def stream_error_trailers(report: ErrorReport) -> dict[str, str]:
    """The trailers that end a streamed response with an error."""
    import binascii

    body = binascii.b2a_base64(report.body, newline=False).decode("ascii")
    return {H_ERROR_TYPE: _one_line(report.error_type), H_ERROR_BODY: body}


def _one_line(value: str) -> str:
    # An error type is a class name, which type() lets hold anything: a line
    # break in it must not end the header and start another.
    return value.replace("\r", " ").replace("\n", " ").replace("\x00", " ")


def _error_headers(report: ErrorReport) -> str:
    headers = (
        f"{H_ERROR_TYPE}: {_one_line(report.error_type)}\r\nContent-Type: application/json\r\n"
    )
    cause = report.xray_cause
    if cause is not None and len(cause) < XRAY_CAUSE_LIMIT:
        headers += f"{H_XRAY_ERROR_CAUSE}: {cause.decode('utf-8')}\r\n"
    return headers
