"""`python -m ric` as a real process against a scripted Runtime API."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from werkzeug import Request, Response

from tests.conftest import TaskRoot
from tests.integration.runtime_api import (
    RuntimeProcess,
    ScriptedRuntimeApi,
    lambda_env,
    ric_command,
)

APP = """
import json, os

def echo(event, context):
    return event

def kind(event, context):
    return type(event).__name__

def trace(event, context):
    return os.environ.get("_X_AMZN_TRACE_ID")

def fail(event, context):
    def inner():
        raise ValueError("bad")
    inner()

def context_values(event, context):
    cc = context.client_context
    return {
        "aws_request_id": context.aws_request_id,
        "invoked_function_arn": context.invoked_function_arn,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "tenant_id": context.tenant_id,
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "custom": cc and cc.custom,
        "app_title": cc and cc.client.app_title,
        "remaining_is_int": isinstance(context.get_remaining_time_in_millis(), int),
    }
"""


def serve(api: ScriptedRuntimeApi, task_root: Path, handler: str, **env: str) -> RuntimeProcess:
    """Start the runtime and wait until it has worked through the script."""
    runtime = RuntimeProcess(
        ric_command(handler), lambda_env(api.address, task_root, **env), task_root
    )
    if not api.parked.wait(30):
        runtime.stop()
        pytest.fail(
            f"runtime never reached the parked /next: {runtime.stdout!r} {runtime.stderr!r}"
        )
    return runtime


@pytest.fixture
def app(task_root: TaskRoot) -> Path:
    return task_root.write("app.py", APP).parent


def test_echo_response_on_the_wire(runtime_api: ScriptedRuntimeApi, app: Path) -> None:
    runtime_api.event("req-1", b'{"msg": "h\xc3\xa9"}', **{"Lambda-Runtime-Invocation-Id": "inv-1"})
    runtime_api.post("invocation/req-1/response")
    runtime_api.park()
    runtime = serve(runtime_api, app, "app.echo")
    runtime.stop()
    (post,) = runtime_api.posts()
    assert post.body == '{"msg":"hé"}'.encode()
    assert post.headers["content-type"] == "application/json"
    assert post.headers["lambda-runtime-invocation-id"] == "inv-1"
    assert post.headers["user-agent"].startswith("ric/")


def test_chunked_next_answer(runtime_api: ScriptedRuntimeApi, app: Path) -> None:
    chunks = [b'{"a": ', b"[1, 2, ", b"3]}"]
    response = Response(iter(chunks), headers={"Lambda-Runtime-Aws-Request-Id": "req-c"})
    response.headers["Content-Type"] = "application/json"
    runtime_api.next_answer(response)
    runtime_api.post("invocation/req-c/response")
    runtime_api.park()
    serve(runtime_api, app, "app.echo").stop()
    assert runtime_api.posts()[0].body == b'{"a":[1,2,3]}'


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [(None, b'"bytes"'), ("application/octet-stream", b'"bytes"'), ("application/json", b'"dict"')],
)
def test_event_decoding_follows_content_type(
    runtime_api: ScriptedRuntimeApi, app: Path, content_type: str | None, expected: bytes
) -> None:
    runtime_api.event("req-1", b"{}", content_type=content_type)
    runtime_api.post("invocation/req-1/response")
    runtime_api.park()
    serve(runtime_api, app, "app.kind").stop()
    assert runtime_api.posts()[0].body == expected


def test_trace_id_is_set_per_invocation_and_removed(
    runtime_api: ScriptedRuntimeApi, app: Path
) -> None:
    runtime_api.event("req-1", **{"Lambda-Runtime-Trace-Id": "Root=1-abc;Sampled=1"})
    runtime_api.post("invocation/req-1/response")
    runtime_api.event("req-2")
    runtime_api.post("invocation/req-2/response")
    runtime_api.park()
    serve(runtime_api, app, "app.trace", _X_AMZN_TRACE_ID="from-start").stop()
    assert [p.body for p in runtime_api.posts()] == [b'"Root=1-abc;Sampled=1"', b"null"]


def test_context_values(runtime_api: ScriptedRuntimeApi, app: Path) -> None:
    client_context = {"custom": {"k": "v"}, "env": {}, "client": {"app_title": "t"}}
    runtime_api.event(
        "req-ctx",
        **{
            "Lambda-Runtime-Client-Context": json.dumps(client_context),
            "Lambda-Runtime-Cognito-Identity": '{"cognitoIdentityId": "cid", "cognitoIdentityPoolId": "pid"}',
            "Lambda-Runtime-Aws-Tenant-Id": "tenant-42",
        },
    )
    runtime_api.post("invocation/req-ctx/response")
    runtime_api.park()
    serve(runtime_api, app, "app.context_values").stop()
    assert json.loads(runtime_api.posts()[0].body) == {
        "aws_request_id": "req-ctx",
        "invoked_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:fn",
        "function_name": "fn",
        "function_version": "$LATEST",
        "memory_limit_in_mb": "128",
        "log_group_name": "/aws/lambda/fn",
        "log_stream_name": "2026/11/22/[$LATEST]0123456789abcdef",
        "tenant_id": "tenant-42",
        "identity": ["cid", "pid"],
        "custom": {"k": "v"},
        "app_title": "t",
        "remaining_is_int": True,
    }


def test_handler_error_is_posted_and_logged(runtime_api: ScriptedRuntimeApi, app: Path) -> None:
    runtime_api.event("req-e")
    runtime_api.post("invocation/req-e/error")
    runtime_api.park()
    runtime = serve(runtime_api, app, "app.fail")
    runtime.stop()
    (post,) = runtime_api.posts()
    body = json.loads(post.body)
    assert list(body) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert (body["errorMessage"], body["errorType"], body["requestId"]) == (
        "bad",
        "ValueError",
        "req-e",
    )
    assert [entry.split(", in ")[1].split("\n")[0] for entry in body["stackTrace"]] == [
        "fail",
        "inner",
    ]
    assert post.headers["lambda-runtime-function-error-type"] == "ValueError"
    cause = json.loads(post.headers["lambda-runtime-function-xray-error-cause"])
    assert [frame["label"] for frame in cause["exceptions"][0]["stack"]] == ["fail", "inner"]
    assert runtime.stdout.startswith(
        b"[ERROR] ValueError: bad\rTraceback (most recent call last):\r"
    )


def test_retries_a_failing_next_then_serves(runtime_api: ScriptedRuntimeApi, app: Path) -> None:
    runtime_api.next_answer(Response("overloaded", status=503))
    runtime_api.event("req-1")
    runtime_api.post("invocation/req-1/response")
    runtime_api.park()
    runtime = serve(runtime_api, app, "app.echo")
    runtime.stop()
    assert (
        b"LAMBDA_RUNTIME invocation/next failed (HTTP 503: overloaded); retry in" in runtime.stdout
    )
    assert len(runtime_api.posts()) == 1


@pytest.mark.parametrize(("status", "reason"), [(410, b"410 Gone"), (413, b"(413)")])
def test_rejected_post_is_logged_and_the_loop_goes_on(
    runtime_api: ScriptedRuntimeApi, app: Path, status: int, reason: bytes
) -> None:
    runtime_api.event("req-1")
    runtime_api.post("invocation/req-1/response", status=status)
    runtime_api.event("req-2")
    runtime_api.post("invocation/req-2/response")
    runtime_api.park()
    runtime = serve(runtime_api, app, "app.echo")
    runtime.stop()
    assert b"invocation req-1: response rejected" in runtime.stdout
    assert reason in runtime.stdout
    assert [p.path.split("/")[-2] for p in runtime_api.posts()] == ["req-1", "req-2"]


def test_sigterm_while_idle_runs_the_users_handler(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot, tmp_path: Path
) -> None:
    marker = tmp_path / "cleaned-up"
    task_root.write(
        "graceful.py",
        f"""
        import signal, sys

        def on_term(signum, frame):
            open({str(marker)!r}, "w").write("cleaned up")
            sys.exit(0)

        signal.signal(signal.SIGTERM, on_term)

        def handler(event, context):
            return event
        """,
    )
    runtime_api.park()
    runtime = serve(runtime_api, tmp_path, "graceful.handler")
    runtime.process.send_signal(signal.SIGTERM)
    assert runtime.wait() == 0
    assert marker.read_text() == "cleaned up"


def test_output_without_a_newline_is_in_the_log_before_the_result(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot, tmp_path: Path
) -> None:
    task_root.write(
        "partial.py",
        """
        import sys

        def handler(event, context):
            sys.stdout.write("partial out")
            sys.stderr.write("partial err")
            return "done"
        """,
    )
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    seen: list[tuple[str, str]] = []

    def on_post(request: Request) -> Response:
        # What the log holds when the result arrives.
        seen.append((out.read_text(), err.read_text()))
        return Response('{"status":"OK"}', status=202, content_type="application/json")

    runtime_api.event("req-1")
    runtime_api.server.expect_ordered_request(
        "/2018-06-01/runtime/invocation/req-1/response", method="POST"
    ).respond_with_handler(on_post)
    runtime_api.park()
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            ric_command("partial.handler"),
            env=lambda_env(runtime_api.address, tmp_path),
            cwd=tmp_path,
            stdout=stdout,
            stderr=stderr,
        )
        try:
            assert runtime_api.parked.wait(30)
        finally:
            process.kill()
            process.wait()
    assert seen == [("partial out", "partial err")]


UNPRINTABLE = """
class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no str for you")

    def __repr__(self):
        raise RuntimeError("no repr either")


class NoSource:
    # linecache asks a module's loader for the source of a file it cannot read.
    def get_source(self, name):
        raise ValueError("no source for you")


scope = {"__name__": "virtual", "__loader__": NoSource()}
exec(compile("def fail():\\n    raise KeyError('k')\\n", "/nonexistent/virtual.py", "exec"), scope)


def unprintable(event, context):
    raise Unprintable()


def sourceless(event, context):
    scope["fail"]()

"""


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        ("unprintable", "Unprintable", "<exception str() failed>"),
        ("sourceless", "KeyError", "'k'"),
    ],
    ids=["str-raises", "traceback-raises"],
)
def test_an_exception_that_cannot_be_described_is_still_reported(
    runtime_api: ScriptedRuntimeApi,
    task_root: TaskRoot,
    tmp_path: Path,
    handler: str,
    error_type: str,
    message: str,
) -> None:
    task_root.write("bad.py", UNPRINTABLE)
    runtime_api.event("req-1")
    runtime_api.post("invocation/req-1/error")
    runtime_api.event("req-2")  # the runtime lives on to serve it
    runtime_api.post("invocation/req-2/error")
    runtime_api.park()
    runtime = serve(runtime_api, tmp_path, f"bad.{handler}")
    runtime.stop()
    error, again = runtime_api.posts()
    body = json.loads(error.body)
    assert (body["errorType"], body["errorMessage"], body["requestId"]) == (
        error_type,
        message,
        "req-1",
    )
    assert error.headers["lambda-runtime-function-error-type"] == error_type
    assert runtime.stdout.startswith(f"[ERROR] {error_type}: {message}\r".encode())
    assert json.loads(again.body)["requestId"] == "req-2"
