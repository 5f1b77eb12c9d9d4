"""The Lambda context object handed to handlers (awslambdaric-compatible), and ``_X_AMZN_TRACE_ID``.

Attribute names and types follow the Python runtime's documented context
(https://docs.aws.amazon.com/lambda/latest/dg/python-context.html).
The invocation in progress is kept in a ``ContextVar`` (:data:`CURRENT`) so it
stays right under asyncio tasks (each copies its creator's context) and
threads started in a copy of it (``contextvars.copy_context().run``);
:func:`current_context` (``ric.current_context()``) reads it from anywhere,
as Node's InvokeStore does: a library gets the request id, tenant id and trace
id without being handed the context.
"""

from __future__ import annotations

import sys
import time
from _contextvars import ContextVar  # what `contextvars` re-exports, one import less

from ric.errors import ContextUnmarshalError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping
    from typing import Any

    from ric.config import RuntimeConfig
    from ric.protocol import Invocation

__all__ = [
    "CURRENT",
    "Client",
    "ClientContext",
    "CognitoIdentity",
    "LambdaContext",
    "Scope",
    "TraceId",
    "current_context",
    "make_context",
]

CURRENT: ContextVar[LambdaContext | None] = ContextVar("ric_current_context", default=None)


def current_context() -> LambdaContext | None:
    """The context of the invocation the caller runs in; None outside one.

    Right in the handler, in asyncio tasks it starts (they copy its context),
    and in threads that run in ``contextvars.copy_context()``; a thread
    started plainly begins with an empty context, so None there.
    """
    return CURRENT.get()


class CognitoIdentity:
    """``context.identity``: set for invocations through the AWS Mobile SDK."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, fields: dict[str, Any] | None = None) -> None:
        fields = fields or {}
        self.cognito_identity_id = fields.get("cognitoIdentityId")
        self.cognito_identity_pool_id = fields.get("cognitoIdentityPoolId")

    def __repr__(self) -> str:
        return f"CognitoIdentity({_fields(self)})"


class Client:
    """``context.client_context.client``: the calling mobile application."""

    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )

    def __init__(self, fields: dict[str, Any]) -> None:
        self.installation_id = fields.get("installation_id")
        self.app_title = fields.get("app_title")
        self.app_version_name = fields.get("app_version_name")
        self.app_version_code = fields.get("app_version_code")
        self.app_package_name = fields.get("app_package_name")

    def __repr__(self) -> str:
        return f"Client({_fields(self)})"


class ClientContext:
    """``context.client_context``: what the caller passed in ``X-Amz-Client-Context``."""

    __slots__ = ("client", "custom", "env")

    def __init__(self, fields: dict[str, Any]) -> None:
        client = fields.get("client")
        self.client = Client(client) if isinstance(client, dict) else None
        self.custom = fields.get("custom")
        self.env = fields.get("env")

    def __repr__(self) -> str:
        return f"ClientContext({_fields(self)})"


class LambdaContext:
    """The second argument of every handler."""

    __slots__ = (
        "_deadline_ms",
        "_log",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "tenant_id",
        "trace_id",
    )

    def __init__(
        self,
        invocation: Invocation,
        config: RuntimeConfig,
        identity: CognitoIdentity,
        client_context: ClientContext | None,
        log: Callable[[str], None],
    ) -> None:
        self._log = log
        self.aws_request_id = invocation.request_id
        self.invoked_function_arn = invocation.function_arn
        self.tenant_id = invocation.tenant_id
        # Lambda-Runtime-Trace-Id (runtimes-api.html, "Next invocation"): the
        # X-Ray trace header, also in _X_AMZN_TRACE_ID; None when not sent.
        # Not an awslambdaric attribute: an addition, as Node's context has it.
        self.trace_id = invocation.trace_id
        self._deadline_ms = invocation.deadline_ms
        self.function_name = config.function_name
        self.function_version = config.function_version
        self.memory_limit_in_mb = config.memory_limit_in_mb
        self.log_group_name = config.log_group_name
        self.log_stream_name = config.log_stream_name
        self.identity = identity
        self.client_context = client_context

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation's deadline, never negative."""
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message: object) -> None:
        """Write ``message`` to the function's log as it is (no newline added)."""
        self._log(str(message))

    def __repr__(self) -> str:
        return f"LambdaContext({_fields(self)})"


def make_context(
    invocation: Invocation, config: RuntimeConfig, log: Callable[[str], None] | None = None
) -> LambdaContext:
    """The context of ``invocation``; bad Client-Context or Cognito JSON raises.

    ``context.log`` writes through ``log`` (standard output by default).
    """
    client_context = None
    if invocation.client_context:
        client_context = ClientContext(_object(invocation.client_context, "Client Context"))
    identity = CognitoIdentity()
    if invocation.cognito_identity:
        identity = CognitoIdentity(_object(invocation.cognito_identity, "Cognito Identity"))
    return LambdaContext(invocation, config, identity, client_context, log or _stdout)


def _stdout(text: str) -> None:
    sys.stdout.write(text)


class Scope:
    """Where an invocation's records look up their request id and write ``context.log``.

    The ContextVar is right under threads and asyncio tasks that inherit it; a
    thread the handler starts begins with an empty context, and its records
    get the latest invocation the loop started, as the managed runtime's do.
    """

    __slots__ = ("latest", "log")

    def __init__(self, log: Callable[[str], None] | None = None) -> None:
        self.latest: LambdaContext | None = None
        self.log = log or _stdout

    def current(self) -> LambdaContext | None:
        """The context of the invocation this code runs for, if any."""
        return CURRENT.get() or self.latest


# Set per invocation from Lambda-Runtime-Trace-Id for the X-Ray SDK
# (runtimes-api.html, "Next invocation").
TRACE_ENV = "_X_AMZN_TRACE_ID"


class TraceId:
    """``_X_AMZN_TRACE_ID`` in ``environ``, the invocation's, or none.

    In ``os.environ`` the value is kept in the mapping only. Its setter calls
    the C library's ``setenv``, and glibc never frees a value it replaces (a
    pointer to it may still be held), so a new trace id per invocation grew
    the process by about 150 bytes each time. Python code (the X-Ray SDK,
    OpenTelemetry, ``os.getenv``) reads the mapping and sees each invocation's
    id. The C environment holds none (one there at start is removed), so a
    child process started with the inherited environment, as ``subprocess``
    does by default, sees no trace id; one started with ``env=os.environ``
    sees the invocation's.
    """

    __slots__ = ("_data", "_encode", "_environ", "_key")

    def __init__(self, environ: MutableMapping[str, Any]) -> None:
        self._environ = environ
        environ.pop(TRACE_ENV, None)  # os.environ: unsetenv(), once
        # os._Environ keeps its values, encoded, in _data behind putenv().
        data = getattr(environ, "_data", None)
        encode_key = getattr(environ, "encodekey", None)
        self._encode = getattr(environ, "encodevalue", None)
        usable = isinstance(data, dict) and callable(encode_key) and callable(self._encode)
        self._data: dict[Any, Any] | None = data if usable else None
        self._key = encode_key(TRACE_ENV) if usable and encode_key is not None else TRACE_ENV

    def set(self, value: str | None) -> None:
        data = self._data
        if data is None:  # a plain mapping
            if value is None:
                self._environ.pop(TRACE_ENV, None)
            else:
                self._environ[TRACE_ENV] = value
        elif value is None:
            data.pop(self._key, None)
        else:
            data[self._key] = self._encode(value)  # type: ignore[misc]


def _object(text: str, what: str) -> dict[str, Any]:
    # Rare headers: the stdlib parser gives the messages awslambdaric users know.
    import json

    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ContextUnmarshalError(f"Unable to parse {what} JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ContextUnmarshalError(f"Unable to parse {what} JSON: not a JSON object")
    return value


def _fields(obj: object) -> str:
    names = [name for name in type(obj).__slots__ if not name.startswith("_")]  # type: ignore[attr-defined]
    return ", ".join(f"{name}={getattr(obj, name)!r}" for name in sorted(names))
