"""Our bytes on the wire against awslambdaric's, for the same handler and event.

awslambdaric (from PyPI) runs as the reference with ``AWS_EXECUTION_ENV`` of a
python3.12 managed runtime, where it sends non-ASCII as UTF-8 as we do. Where
it is wrong we differ on purpose, and the test says so: it shows importlib's
frames in an init traceback, and words JSON errors as simplejson does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TaskRoot
from tests.integration.runtime_api import (
    Recorded,
    RuntimeProcess,
    ScriptedRuntimeApi,
    awslambdaric_command,
    lambda_env,
    ric_command,
)

pytest.importorskip("awslambdaric")

Command = Callable[[str], list[str]]
RUNTIMES = [
    pytest.param(ric_command, id="ric"),
    pytest.param(awslambdaric_command, id="awslambdaric"),
]
REFERENCE_ENV = {"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"}

APP = """
def fail(event, context):
    def inner():
        raise ValueError("h\\u00e9llo \\u2713")
    inner()

def unserialisable(event, context):
    return {1, 2}

def values(event, context):
    return {
        "aws_request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "name": context.function_name,
        "version": context.function_version,
        "memory": context.memory_limit_in_mb,
        "group": context.log_group_name,
        "stream": context.log_stream_name,
        "tenant": context.tenant_id,
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "client_context": [context.client_context.custom, context.client_context.env,
                           context.client_context.client.installation_id],
        "event": event,
    }
"""


def one_post(
    api: ScriptedRuntimeApi,
    root: Path,
    command: Command,
    handler: str,
    kind: str,
    headers: dict[str, str],
) -> Recorded:
    """Serve one event with ``command`` and return what it posted (to ``kind``)."""
    api.event("req-1", b'{"k": "v\\u00e9"}', **headers)
    api.post(f"invocation/req-1/{kind}")
    api.park()
    runtime = RuntimeProcess(command(handler), lambda_env(api.address, root, **REFERENCE_ENV), root)
    reached = api.parked.wait(30)
    runtime.stop()
    assert reached, (runtime.stdout, runtime.stderr)
    (post,) = api.posts()
    return post


@pytest.fixture
def app(task_root: TaskRoot) -> Path:
    return task_root.write("app.py", APP).parent


def compare(
    runtime_api: ScriptedRuntimeApi,
    app: Path,
    handler: str,
    kind: str = "error",
    **headers: str,
) -> tuple[Recorded, Recorded]:
    ours = one_post(runtime_api, app, ric_command, handler, kind, headers)
    runtime_api.release.set()
    runtime_api.server.clear()
    runtime_api.parked.clear()
    runtime_api.release.clear()
    theirs = one_post(runtime_api, app, awslambdaric_command, handler, kind, headers)
    return ours, theirs


@pytest.mark.parametrize(
    ("handler", "headers"),
    [
        ("app.fail", {}),
        ("app.unserialisable", {}),
        ("app.values", {"Lambda-Runtime-Client-Context": "{not json"}),
    ],
    ids=["handler-exception", "marshal-error", "context-unmarshal-error"],
)
def test_invocation_error_bytes_match(
    runtime_api: ScriptedRuntimeApi, app: Path, handler: str, headers: dict[str, str]
) -> None:
    ours, theirs = compare(runtime_api, app, handler, **headers)
    assert ours.path == theirs.path
    assert ours.body == theirs.body
    cause = "lambda-runtime-function-xray-error-cause"
    assert ours.headers[cause] == theirs.headers[cause]
    assert ours.headers["content-type"] == theirs.headers["content-type"]
    # awslambdaric leaves the optional errorType header out; the Runtime API documents it.
    assert ours.headers["lambda-runtime-function-error-type"] == json.loads(ours.body)["errorType"]


def test_context_values_match(runtime_api: ScriptedRuntimeApi, app: Path) -> None:
    client_context = {
        "custom": {"k": "v"},
        "env": {"e": "1"},
        "client": {"installation_id": "i", "app_title": "t"},
    }
    ours, theirs = compare(
        runtime_api,
        app,
        "app.values",
        "response",
        **{
            "Lambda-Runtime-Client-Context": json.dumps(client_context),
            "Lambda-Runtime-Cognito-Identity": '{"cognitoIdentityId":"cid","cognitoIdentityPoolId":"pid"}',
            "Lambda-Runtime-Aws-Tenant-Id": "tenant-42",
        },
    )
    assert json.loads(ours.body) == json.loads(theirs.body)
    assert json.loads(ours.body)["event"] == {"k": "vé"}


INIT_CASES = {
    "malformed": ("nodot", None),
    "no-module": ("missing.handler", None),
    "import-inside": ("app.handler", "import nonexistent_pkg\n"),
    "syntax": ("app.handler", "def handler(event, context):\n    return 1 +\n"),
    "indentation": ("app.handler", "def handler(event, context):\nreturn 1\n"),
    "not-found": ("app.nothere", "def handler(event, context):\n    return 1\n"),
    "builtin": ("sys.handler", None),
}


def init_post(
    api: ScriptedRuntimeApi, root: Path, command: Command, handler: str
) -> tuple[Recorded, int]:
    api.post("init/error")
    runtime = RuntimeProcess(command(handler), lambda_env(api.address, root), root)
    status = runtime.wait()
    (post,) = api.posts()
    api.server.clear()
    return post, status


@pytest.mark.parametrize("case", list(INIT_CASES))
def test_init_error_bytes_match(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot, tmp_path: Path, case: str
) -> None:
    handler, source = INIT_CASES[case]
    if source is not None:
        task_root.write("app.py", source)
    ours, our_status = init_post(runtime_api, tmp_path, ric_command, handler)
    theirs, their_status = init_post(runtime_api, tmp_path, awslambdaric_command, handler)
    assert ours.body == theirs.body
    error_type = "lambda-runtime-function-error-type"
    assert ours.headers[error_type] == theirs.headers[error_type]
    assert our_status == their_status == 1


def test_init_exception_differs_only_by_importlib_frames(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot, tmp_path: Path
) -> None:
    task_root.write("app.py", "def f():\n    raise ValueError('boom')\n\nf()\n")
    ours, _ = init_post(runtime_api, tmp_path, ric_command, "app.handler")
    theirs, _ = init_post(runtime_api, tmp_path, awslambdaric_command, "app.handler")
    our_body, their_body = json.loads(ours.body), json.loads(theirs.body)
    user_frames = [e for e in their_body.pop("stackTrace") if "importlib" not in e]
    assert our_body.pop("stackTrace") == user_frames
    assert our_body == their_body


MARSHAL_APP = """
import dataclasses, datetime, decimal, enum, uuid


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Named(str, enum.Enum):
    A = "a"


@dataclasses.dataclass
class Point:
    x: int = 1


VALUES = {
    "datetime": datetime.datetime(2024, 1, 2, 3, 4, 5),
    "date": datetime.date(2024, 1, 2),
    "time": datetime.time(1, 2),
    "uuid": uuid.UUID(int=1),
    "enum": Colour.RED,
    "dataclass": Point(),
    "set": {1},
    "object": object(),
    "enum-key": {Colour.RED: 1},
    "date-key": {datetime.date(2024, 1, 2): 1},
    "decimal-key": {decimal.Decimal(1): 1},
    "tuple-key": {(1, 2): 1},
    "decimal": decimal.Decimal("1.50"),
    "int-enum": Level.HIGH,
    "str-enum": Named.A,
    "int-key": {1: "one"},
}


def result(event, context):
    value = VALUES[event["kind"]]
    # From 64 KiB on, ric encodes with orjson.
    return {"pad": "x" * 70000, "v": [value]} if event["large"] else value
"""
REFUSED_KINDS = [
    "datetime", "date", "time", "uuid", "enum", "dataclass", "set", "object",
    "enum-key", "date-key", "decimal-key", "tuple-key",
]  # fmt: skip
ACCEPTED_KINDS = ["decimal", "int-enum", "str-enum", "int-key"]


def marshal_posts(
    api: ScriptedRuntimeApi, root: Path, command: Command, events: list[tuple[str, bool, bool]]
) -> list[Recorded]:
    """Serve each (kind, large result, large event) and return the posts."""
    for index, (kind, large, pad_event) in enumerate(events):
        body = {"kind": kind, "large": large, "pad": "x" * (70000 if pad_event else 0)}
        api.event(f"req-{index}", json.dumps(body).encode())
        api.post(f"invocation/req-{index}/{'response' if kind in ACCEPTED_KINDS else 'error'}")
    api.park()
    env = lambda_env(api.address, root, **REFERENCE_ENV)
    runtime = RuntimeProcess(command("marshal_app.result"), env, root)
    reached = api.parked.wait(60)
    runtime.stop()
    assert reached, (runtime.stdout[-2000:], runtime.stderr[-2000:])
    posts = api.posts()
    api.release.set()
    api.server.clear()
    api.parked.clear()
    api.release.clear()
    return posts


def test_marshal_errors_and_values_match(
    runtime_api: ScriptedRuntimeApi, task_root: TaskRoot
) -> None:
    task_root.write("marshal_app.py", MARSHAL_APP)
    kinds = REFUSED_KINDS + ACCEPTED_KINDS
    # Small results by the C encoder, large ones by orjson, then small ones
    # again once a large event has made ric load orjson for good.
    events = [(k, False, False) for k in kinds] + [(k, True, False) for k in kinds]
    events += [(k, False, True) for k in kinds]
    ours = marshal_posts(runtime_api, task_root.path, ric_command, events)
    theirs = marshal_posts(runtime_api, task_root.path, awslambdaric_command, events)
    assert len(ours) == len(theirs) == len(events)
    for (kind, large, _), mine, reference in zip(events, ours, theirs, strict=True):
        assert mine.path == reference.path, kind
        if kind in ACCEPTED_KINDS:  # ric writes compact JSON: compared as values
            assert json.loads(mine.body) == json.loads(reference.body), kind
        else:
            assert mine.body == reference.body, (kind, large)
    decimals = [
        post.body for (kind, _, _), post in zip(events, ours, strict=True) if kind == "decimal"
    ]
    assert all(b"1.50" in body for body in decimals)
