"""A WSGI app served in process, behind a function URL (Flask or Django plug in the same way).

    python -m emulator wsgi_app.handler --code-dir examples --function-url BUFFERED

then open the function URL it prints: ``?name=you`` changes the greeting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

import ric


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A plain WSGI app: ``from flask import Flask; app = Flask(__name__)`` works the same."""
    name = parse_qs(environ["QUERY_STRING"]).get("name", ["world"])[0]
    body = f"<!doctype html><h1>Hello, {name}</h1><p>{environ['PATH_INFO']}</p>".encode()
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [body]


handler = ric.wsgi(app)
