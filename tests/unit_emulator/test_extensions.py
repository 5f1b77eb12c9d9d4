"""emulator.extensions: registration rules of extensions that take no events."""

from __future__ import annotations

import asyncio
import json

import pytest

from emulator.config import FunctionConfig
from emulator.errors import ApiError
from emulator.extensions import EXTENSION_PREFIX, Extensions
from emulator.http import Request, Response

FUNCTION = FunctionConfig(name="fn", command=("true",), code_dir="/tmp", handler="app.handler")


def register(body: bytes, initialized: bool = False, **headers: str) -> Response | None:
    headers = {"lambda-extension-name": "helper", **headers}
    request = Request("POST", f"{EXTENSION_PREFIX}/register", headers, body)
    return asyncio.run(Extensions(FUNCTION).route(request, initialized))


def body_of(answer: Response) -> bytes:
    assert isinstance(answer.body, bytes)
    return answer.body


def test_register_for_no_events() -> None:
    answer = register(b'{"events": []}')
    assert answer is not None
    assert answer.status == 200
    assert json.loads(body_of(answer)) == {
        "functionName": "fn",
        "functionVersion": "$LATEST",
        "handler": "app.handler",
    }
    assert [name for name, _ in answer.headers] == ["Content-Type", "Lambda-Extension-Identifier"]


@pytest.mark.parametrize(
    ("body", "initialized", "status", "error_type"),
    [
        (b'{"events": ["INVOKE"]}', False, 400, "InvalidEventType"),
        (b"not json", False, 400, "InvalidRequest"),
        (b'{"events": []}', True, 403, "InvalidStateTransition"),
    ],
)
def test_register_refusals(body: bytes, initialized: bool, status: int, error_type: str) -> None:
    with pytest.raises(ApiError) as info:
        register(body, initialized)
    assert (info.value.status, info.value.error_type) == (status, error_type)


def test_next_event_of_an_unknown_extension_is_refused() -> None:
    request = Request("GET", f"{EXTENSION_PREFIX}/event/next", {"lambda-extension-identifier": "x"})
    with pytest.raises(ApiError) as info:
        asyncio.run(Extensions(FUNCTION).route(request, True))
    assert info.value.status == 403


def test_next_event_waits_until_the_environment_closes() -> None:
    async def scenario() -> Response | None:
        extensions = Extensions(FUNCTION)
        head = {"lambda-extension-name": "helper"}
        answer = await extensions.route(
            Request("POST", f"{EXTENSION_PREFIX}/register", head, b'{"events": []}'), False
        )
        assert answer is not None
        identifier = dict(answer.headers)["Lambda-Extension-Identifier"]
        waiting = asyncio.ensure_future(
            extensions.route(
                Request(
                    "GET",
                    f"{EXTENSION_PREFIX}/event/next",
                    {"lambda-extension-identifier": identifier},
                ),
                True,
            )
        )
        await asyncio.sleep(0)
        assert not waiting.done()
        extensions.close()
        return await waiting

    answer = asyncio.run(scenario())
    assert answer is not None
    assert json.loads(body_of(answer))["eventType"] == "SHUTDOWN"


def test_other_paths_are_not_the_extensions_api() -> None:
    request = Request("GET", "/2018-06-01/runtime/invocation/next", {})
    assert asyncio.run(Extensions(FUNCTION).route(request, True)) is None
