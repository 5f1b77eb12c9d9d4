"""ric.context: the handler's context object, built from an invocation and the config."""

from __future__ import annotations

import contextvars
import time

import pytest

from ric.config import RuntimeConfig
from ric.context import CURRENT, LambdaContext, make_context
from ric.errors import ContextUnmarshalError
from ric.protocol import Invocation, parse_invocation
from ric.wire import Response

CONFIG = RuntimeConfig(
    "127.0.0.1:9001",
    "app.handler",
    "/var/task",
    {
        "AWS_LAMBDA_FUNCTION_NAME": "my-function",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/my-function",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]abc",
    },
)
CLIENT_CONTEXT = (
    '{"custom":{"k":"v"},"env":{"e":"1"},"client":{"installation_id":"i","app_title":"t",'
    '"app_version_name":"vn","app_version_code":"vc","app_package_name":"p"}}'
)
ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-function"


def invocation(**headers: str) -> Invocation:
    return parse_invocation(Response(200, {"lambda-runtime-aws-request-id": "rid", **headers}, b""))


def context(**headers: str) -> LambdaContext:
    return make_context(invocation(**headers), CONFIG)


def test_attributes() -> None:
    ctx = context(
        **{
            "lambda-runtime-invoked-function-arn": ARN,
            "lambda-runtime-aws-tenant-id": "tenant-7",
        }
    )
    assert (
        ctx.aws_request_id,
        ctx.invoked_function_arn,
        ctx.function_name,
        ctx.function_version,
        ctx.memory_limit_in_mb,
        ctx.log_group_name,
        ctx.log_stream_name,
        ctx.tenant_id,
    ) == (
        "rid",
        ARN,
        "my-function",
        "$LATEST",
        "128",  # a string, as in awslambdaric
        "/aws/lambda/my-function",
        "2024/01/01/[$LATEST]abc",
        "tenant-7",
    )


def test_without_optional_headers() -> None:
    ctx = context()
    assert ctx.tenant_id is None
    assert ctx.client_context is None
    assert ctx.identity is not None
    assert ctx.identity.cognito_identity_id is None
    assert ctx.identity.cognito_identity_pool_id is None


def test_cognito_identity() -> None:
    ctx = context(
        **{
            "lambda-runtime-cognito-identity": (
                '{"cognitoIdentityId":"us-east-1:1","cognitoIdentityPoolId":"us-east-1:pool"}'
            )
        }
    )
    assert ctx.identity.cognito_identity_id == "us-east-1:1"
    assert ctx.identity.cognito_identity_pool_id == "us-east-1:pool"


def test_client_context_fields() -> None:
    client_context = context(**{"lambda-runtime-client-context": CLIENT_CONTEXT}).client_context
    assert client_context is not None
    assert client_context.custom == {"k": "v"}
    assert client_context.env == {"e": "1"}
    client = client_context.client
    assert client is not None
    assert (
        client.installation_id,
        client.app_title,
        client.app_version_name,
        client.app_version_code,
        client.app_package_name,
    ) == ("i", "t", "vn", "vc", "p")


def test_client_context_without_client() -> None:
    client_context = context(**{"lambda-runtime-client-context": "{}"}).client_context
    assert client_context is not None
    assert (client_context.client, client_context.custom, client_context.env) == (None, None, None)


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        (
            "lambda-runtime-client-context",
            "{not json",
            "Unable to parse Client Context JSON: "
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (
            "lambda-runtime-cognito-identity",
            "[1,",
            "Unable to parse Cognito Identity JSON: Expecting value: line 1 column 4 (char 3)",
        ),
        (
            "lambda-runtime-client-context",
            "[1]",
            "Unable to parse Client Context JSON: not a JSON object",
        ),
        (
            "lambda-runtime-cognito-identity",
            '"text"',
            "Unable to parse Cognito Identity JSON: not a JSON object",
        ),
        (
            "lambda-runtime-cognito-identity",
            "null",
            "Unable to parse Cognito Identity JSON: not a JSON object",
        ),
    ],
    ids=["client-invalid", "cognito-invalid", "client-list", "cognito-string", "cognito-null"],
)
def test_bad_json_headers(header: str, value: str, message: str) -> None:
    with pytest.raises(ContextUnmarshalError) as info:
        context(**{header: value})
    assert info.value.message == message
    assert info.value.error_type == "Runtime.LambdaContextUnmarshalError"


def test_remaining_time_for_a_future_deadline() -> None:
    # Bounds from clock readings on both sides of the call: exact, whatever the speed.
    deadline = int(time.time() * 1000) + 60_000
    ctx = context(**{"lambda-runtime-deadline-ms": str(deadline)})
    before = int(time.time() * 1000)
    remaining = ctx.get_remaining_time_in_millis()
    after = int(time.time() * 1000)
    assert type(remaining) is int
    assert deadline - after <= remaining <= deadline - before


@pytest.mark.parametrize("deadline", ["1", "0", None])
def test_remaining_time_is_zero_after_the_deadline(deadline: str | None) -> None:
    headers = {} if deadline is None else {"lambda-runtime-deadline-ms": deadline}
    remaining = context(**headers).get_remaining_time_in_millis()
    assert type(remaining) is int
    assert remaining == 0


@pytest.mark.parametrize(("message", "written"), [("x", "x"), (42, "42"), ("a\nb\n", "a\nb\n")])
def test_log_writes_as_is(
    capsys: pytest.CaptureFixture[str], message: object, written: str
) -> None:
    context().log(message)
    assert capsys.readouterr() == (written, "")


def test_current_context_defaults_to_none() -> None:
    assert contextvars.Context().run(CURRENT.get) is None


def test_repr_names_the_fields() -> None:
    text = repr(context(**{"lambda-runtime-client-context": CLIENT_CONTEXT}))
    assert text.startswith("LambdaContext(aws_request_id='rid', client_context=ClientContext(")
    assert "installation_id='i'" in text
    assert "_deadline_ms" not in text
