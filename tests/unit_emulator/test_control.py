"""emulator.frontends.control: routes by method and path template, Lambda's error answers."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from emulator.errors import ApiError
from emulator.frontends.control import ControlPlane, Route, ok, read_json
from emulator.http import Request, Response


async def echo(request: Request, match: re.Match[str]) -> Response:
    return ok({"name": match["FunctionName"], "body": await read_json(request)})


async def missing(request: Request, match: re.Match[str]) -> Response:
    raise ApiError(404, "ResourceNotFoundException", f"Function not found: {match['FunctionName']}")


async def deleted(request: Request, match: re.Match[str]) -> Response:
    return ok(None, 204)


async def invoke_api(request: Request) -> Response:
    return Response(200, [("X-Fallback", "yes")], b"invoked")


ROUTES = [
    Route.of("PUT", "/2019-09-25/functions/{FunctionName}/event-invoke-config", echo),
    Route.of("GET", "/2019-09-25/functions/{FunctionName}/event-invoke-config", missing),
    Route.of("DELETE", "/2019-09-25/functions/{FunctionName}/event-invoke-config?x", deleted),
]


def answer(method: str, target: str, body: bytes = b"") -> Response:
    plane = ControlPlane(ROUTES, invoke_api, lambda: "rid-1")
    return asyncio.run(plane.handle(Request(method, target, {}, body)))


def test_a_route_answers_with_its_path_parameters_and_a_request_id() -> None:
    response = answer("PUT", "/2019-09-25/functions/fn/event-invoke-config", b'{"a": 1}')
    assert response.status == 200
    assert json.loads(bytes(response.body)) == {"name": "fn", "body": {"a": 1}}  # type: ignore[arg-type]
    assert ("X-Amzn-RequestId", "rid-1") in response.headers


def test_an_api_error_is_lambdas_error_answer() -> None:
    response = answer("GET", "/2019-09-25/functions/fn/event-invoke-config/")
    assert response.status == 404
    assert ("X-Amzn-ErrorType", "ResourceNotFoundException") in response.headers
    assert json.loads(bytes(response.body)) == {  # type: ignore[arg-type]
        "Type": "User",
        "message": "Function not found: fn",
    }


def test_an_empty_answer_and_the_query_left_out_of_the_template() -> None:
    response = answer("DELETE", "/2019-09-25/functions/fn/event-invoke-config?Qualifier=1")
    assert (response.status, response.body) == (204, b"")


def test_a_known_path_with_another_method_is_405() -> None:
    response = answer("POST", "/2019-09-25/functions/fn/event-invoke-config")
    assert response.status == 405
    assert ("X-Amzn-ErrorType", "MethodNotAllowedException") in response.headers


def test_other_paths_go_to_the_invoke_api() -> None:
    response = answer("POST", "/2015-03-31/functions/fn/invocations")
    assert (response.status, response.body) == (200, b"invoked")


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"{nope", "Could not parse request body"), (b"[1]", "must be a JSON object")],
)
def test_a_body_that_is_no_json_object_is_a_400(body: bytes, message: str) -> None:
    response = answer("PUT", "/2019-09-25/functions/fn/event-invoke-config", body)
    assert response.status == 400
    assert ("X-Amzn-ErrorType", "InvalidRequestContentException") in response.headers
    assert message in json.loads(bytes(response.body))["message"]  # type: ignore[arg-type]
