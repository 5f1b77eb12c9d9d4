"""ric.wsgi against apig-wsgi (from PyPI): the same app and event give the same result.

apig-wsgi runs with ``binary_support=True``, which ric.wsgi always has (see
ric.web.events); where ric differs on purpose, a test says so by name.
"""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import flask
import pytest
from apig_wsgi import make_lambda_handler

import ric
from ric.stream import HttpStream
from ric.web.events import NotAnHttpEvent, parse
from ric.web.wsgi import environ, wsgi
from tests.unit.test_web_events import CONTEXT, SAMPLES, sample

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"

StartResponse = Callable[..., Any]
App = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def make_flask() -> flask.Flask:
    app = flask.Flask("differential")

    @app.route("/my/path", methods=["GET", "POST"])
    def echo() -> Any:
        request = flask.request
        return {
            "method": request.method,
            "path": request.path,
            "url": request.url,
            "args": [list(pair) for pair in request.args.items(multi=True)],
            "query": request.query_string.decode(),
            "cookies": dict(request.cookies),
            "header2": request.headers.get("header2"),
            "host": request.host,
            "remote": request.remote_addr,
            "body": request.get_data().decode("latin-1"),
        }

    @app.route("/png")
    def png() -> flask.Response:
        return flask.Response(PNG, mimetype="image/png")

    @app.route("/upload", methods=["POST"])
    def upload() -> flask.Response:
        return flask.Response(flask.request.get_data()[::-1], mimetype="application/octet-stream")

    @app.route("/multi")
    def multi() -> flask.Response:
        response = flask.Response("two cookies", mimetype="text/plain")
        response.set_cookie("a", "1")
        response.set_cookie("b", "2", httponly=True)
        response.headers.add("X-Many", "one")
        return response

    @app.route("/gzip")
    def gzipped() -> flask.Response:
        response = flask.Response(gzip.compress(b"<p>hi</p>", mtime=0), mimetype="text/html")
        response.headers["Content-Encoding"] = "gzip"
        return response

    @app.route("/empty")
    def empty() -> tuple[str, int]:
        return "", 204

    @app.route("/fails")
    def fails() -> str:
        raise ValueError("the view failed")

    return app


FLASK = make_flask()


def broken(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    raise KeyError("the app is broken")


def event_for(name: str, path: str, method: str = "GET", body: bytes | None = None) -> Any:
    event = sample(name)
    if "rawPath" in event:
        event["rawPath"] = path
        event["requestContext"]["http"].update(path=path, method=method)
    else:
        event["path"], event["httpMethod"] = path, method
    if body is not None:
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


def both(app: App, event: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    ours = wsgi(app)(event, CONTEXT)
    theirs = make_lambda_handler(app, binary_support=True)(event, CONTEXT)
    assert isinstance(ours, dict)
    return ours, theirs


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        ("/my/path", "GET", None),
        ("/my/path", "POST", b"caf\xc3\xa9 \xff"),
        ("/png", "GET", None),
        ("/upload", "POST", bytes(range(256))),
        ("/gzip", "GET", None),
        ("/empty", "GET", None),
        ("/fails", "GET", None),
        ("/missing", "GET", None),
    ],
)
def test_flask_answers_as_under_apig_wsgi(
    name: str, path: str, method: str, body: bytes | None
) -> None:
    ours, theirs = both(FLASK, event_for(name, path, method, body))
    assert ours == theirs


@pytest.mark.parametrize("name", ["rest", "alb", "alb-multi"])
def test_multi_value_headers_and_cookies_as_under_apig_wsgi(name: str) -> None:
    ours, theirs = both(FLASK, event_for(name, "/multi"))
    assert ours == theirs
    if name != "alb":
        assert len(ours["multiValueHeaders"]["Set-Cookie"]) == 2


@pytest.mark.parametrize("name", ["http-api", "function-url"])
def test_v2_cookies_as_under_apig_wsgi_and_repeats_joined(name: str) -> None:
    ours, theirs = both(FLASK, event_for(name, "/multi"))
    assert ours["cookies"] == theirs["cookies"] == ["a=1; Path=/", "b=2; HttpOnly; Path=/"]
    # The one difference: apig-wsgi keeps the last value of a repeated field.
    assert theirs["headers"].pop("x-many") == "one"
    assert ours["headers"].pop("x-many") == "one"
    assert ours == theirs


def test_the_echo_saw_the_request() -> None:
    ours, _ = both(FLASK, event_for("rest", "/my/path"))
    seen = json.loads(ours["body"])
    assert seen["args"] == [
        ["parameter1", "value1"],
        ["parameter1", "value2"],
        ["parameter2", "a b&c"],
    ]
    assert seen["cookies"] == {"theme": "dark", "session": "abc"}
    assert (seen["header2"], seen["remote"]) == ("value1,value2", "192.0.2.10")
    assert seen["url"].startswith("https://abc123.execute-api.us-east-1.amazonaws.com/my/path?")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_an_app_that_raises_raises_as_under_apig_wsgi(name: str) -> None:
    event = event_for(name, "/")
    with pytest.raises(KeyError, match="the app is broken"):
        make_lambda_handler(broken, binary_support=True)(event, CONTEXT)
    with pytest.raises(KeyError, match="the app is broken"):
        wsgi(broken)(event, CONTEXT)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_environ_is_apig_wsgis(name: str) -> None:
    seen: list[dict[str, Any]] = []

    def spy(env: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        seen.append({k: v for k, v in env.items() if k not in ("wsgi.input", "wsgi.errors")})
        start_response("200 OK", [])
        return []

    event = event_for(name, "/caf%C3%A9")
    both(spy, event)
    ours, theirs = seen
    assert ours == theirs
    assert ours["apig_wsgi.full_event"] is event
    assert ours["apig_wsgi.context"] is CONTEXT


def test_a_non_http_event_is_refused() -> None:
    with pytest.raises(NotAnHttpEvent, match="understood: API Gateway REST API"):
        wsgi(FLASK)({"Records": []}, CONTEXT)


def test_ric_exports_wsgi_lazily() -> None:
    assert ric.wsgi is wsgi


class Tracked:
    """A WSGI body iterable that records how far it was read and whether it was closed."""

    def __init__(self, chunks: list[bytes], start: Callable[[], object] | None = None) -> None:
        self.chunks = chunks
        self.start = start
        self.closed = 0

    def __iter__(self) -> Iterator[bytes]:
        if self.start is not None:
            self.start()
        yield from self.chunks

    def close(self) -> None:
        self.closed += 1


def test_buffered_closes_the_iterable_and_keeps_writes_first() -> None:
    body = Tracked([b"b", b"", b"c"])

    def app(env: dict[str, Any], start_response: StartResponse) -> Tracked:
        start_response("200 OK", [("Content-Type", "text/plain")])(b"a")
        return body

    result = wsgi(app)(event_for("http-api", "/"), CONTEXT)
    assert isinstance(result, dict)
    assert (result["body"], body.closed) == ("abc", 1)


def test_start_response_again_with_exc_info_replaces_the_answer() -> None:
    def app(env: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise OSError("disk")
        except OSError as exc:
            start_response("500 Internal Server Error", [], (OSError, exc, exc.__traceback__))
        return [b"oops"]

    result = wsgi(app)(event_for("alb", "/"), CONTEXT)
    assert isinstance(result, dict)
    assert (result["statusCode"], result["headers"]) == (500, {})


def test_an_app_that_never_starts_is_an_error() -> None:
    def mute(env: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        return [b"x"]

    with pytest.raises(RuntimeError, match="without calling start_response"):
        wsgi(mute)(event_for("alb", "/"), CONTEXT)
    with pytest.raises(RuntimeError, match="without calling start_response"):
        wsgi(mute, streaming=True)(event_for("alb", "/"), CONTEXT)


def test_start_response_twice_without_exc_info_is_an_error() -> None:
    def twice(env: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        start_response("200 OK", [])
        return []

    with pytest.raises(AssertionError, match="twice"):
        wsgi(twice)(event_for("alb", "/"), CONTEXT)


def test_streaming_answers_an_http_stream_of_the_apps_chunks() -> None:
    result = wsgi(FLASK, streaming=True)(event_for("function-url", "/multi"), CONTEXT)
    assert isinstance(result, HttpStream)
    assert result.status_code == 200
    assert result.headers["content-type"] == "text/plain; charset=utf-8"
    assert result.headers["x-many"] == "one"
    assert result.cookies == ["a=1; Path=/", "b=2; HttpOnly; Path=/"]
    assert b"".join(result.body) == b"two cookies"  # type: ignore[arg-type]


def test_streaming_reads_up_to_start_response_and_closes_at_the_end() -> None:
    read: list[str] = []
    body: Tracked

    def app(env: dict[str, Any], start_response: StartResponse) -> Tracked:
        nonlocal body

        def start() -> None:
            read.append("started")
            start_response("200 OK", [("Content-Type", "text/event-stream")])(b"data: 0\n\n")

        body = Tracked([b"data: 1\n\n", b"data: 2\n\n"], start)
        return body

    result = wsgi(app, streaming=True)(event_for("function-url", "/"), CONTEXT)
    assert isinstance(result, HttpStream)
    assert (read, result.headers) == (["started"], {"content-type": "text/event-stream"})
    assert isinstance(result.body, Iterable)
    chunks = iter(result.body)
    assert [next(chunks), next(chunks)] == [b"data: 0\n\n", b"data: 1\n\n"]
    assert body.closed == 0
    assert list(chunks) == [b"data: 2\n\n"]
    result.body.close()  # type: ignore[union-attr]
    result.body.close()  # type: ignore[union-attr]
    assert body.closed == 1


def test_streaming_keeps_what_the_app_writes_while_making_a_chunk() -> None:
    def app(env: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        write = start_response("200 OK", [])
        yield b""
        write(b"written")
        yield b"yielded"

    result = wsgi(app, streaming=True)(event_for("http-api", "/"), CONTEXT)
    assert isinstance(result, HttpStream)
    assert isinstance(result.body, Iterable)
    assert list(result.body) == [b"", b"written", b"yielded"]


def test_streaming_closes_the_iterable_when_it_fails_before_starting() -> None:
    body = Tracked([b"x"], lambda: 1 / 0)

    def app(env: dict[str, Any], start_response: StartResponse) -> Tracked:
        return body

    with pytest.raises(ZeroDivisionError):
        wsgi(app, streaming=True)(event_for("http-api", "/"), CONTEXT)
    assert body.closed == 1


def test_environ_of_a_v2_cookie_field() -> None:
    event = event_for("http-api", "/")
    event["headers"]["cookie"] = "late=1"
    env = environ(parse(event, CONTEXT))
    assert env["HTTP_COOKIE"] == "theme=dark;session=abc;late=1"


def test_a_plain_handler_loads_no_web_module() -> None:
    script = (
        "import ric, ric.runtime, sys; print([m for m in sys.modules if m.startswith('ric.web')])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout == "[]\n"
