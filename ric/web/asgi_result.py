"""The Lambda result of an ASGI app's response, by Mangum's rules, free of I/O.

``ric.asgi`` (:mod:`ric.web.asgi`) answers a buffered response as Mangum
(0.22.0) does, so that an app moved from Mangum answers
the same; :mod:`ric.web.events` holds apig-wsgi's rules for ``ric.wsgi``.
Learned by running Mangum, they differ from apig-wsgi's in these ways:

- names are lower-cased in every format;
- payload 1.0 answers both ``headers`` (the fields given once) and
  ``multiValueHeaders`` (the fields given more than once);
- an ALB without multi-value headers gets a repeated field under names
  cased differently (``set-cookie``, ``Set-cookie``, ``sEt-cookie``, ...), the
  only way its single-valued ``headers`` can carry them all;
- payload 2.0 adds ``content-type: application/json`` when the app gave none,
  and leaves ``cookies`` out when there are none;
- an empty body is never base64; a body is text when a type of
  :data:`TEXT_TYPES` occurs anywhere in its ``Content-Type`` and it is UTF-8,
  whatever its ``Content-Encoding``.
"""

from __future__ import annotations

import base64

from ric.web.events import REST, V2, fold_v2

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from typing import Any

    from ric.web.events import Request, Response

__all__ = ["TEXT_TYPES", "casings", "render"]

TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/vnd.api+json",
    "application/vnd.oai.openapi",
)


def render(
    request: Request, response: Response, text_types: Sequence[str] = TEXT_TYPES
) -> dict[str, Any]:
    """The Lambda result that answers ``request`` with ``response``, as Mangum's."""
    result: dict[str, Any] = {"statusCode": response.status}
    if request.format == V2:
        headers, cookies = fold_v2(response.headers)
        headers.setdefault("content-type", "application/json")
        result["headers"] = headers
        if cookies:
            result["cookies"] = cookies
    elif request.format == REST:
        grouped = _grouped(response.headers)
        headers = {name: values[0] for name, values in grouped.items() if len(values) == 1}
        result["headers"] = headers
        result["multiValueHeaders"] = {k: v for k, v in grouped.items() if len(v) > 1}
    else:
        grouped = _grouped(response.headers)
        # zip: a name has fewer casings than a field may have values; Mangum drops the rest.
        headers = {c: v for k, vs in grouped.items() for c, v in zip(casings(k), vs, strict=False)}
        if request.multi_value:
            result["multiValueHeaders"] = grouped
        else:
            result["headers"] = headers
    result["body"], result["isBase64Encoded"] = _body(response.body, headers, text_types)
    return result


def _grouped(fields: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in fields:
        grouped.setdefault(name.lower(), []).append(value)
    return grouped


def casings(name: str) -> Iterator[str]:
    """``name`` in every casing of its letters: lower first, the first letter changing fastest."""
    letters = [index for index, char in enumerate(name) if char.lower() != char.upper()]
    for count in range(2 ** len(letters)):
        chars = list(name.lower())
        for bit, index in enumerate(letters):
            if count >> bit & 1:
                chars[index] = chars[index].upper()
        yield "".join(chars)


def _body(body: bytes, headers: dict[str, str], text_types: Sequence[str]) -> tuple[str, bool]:
    if not body:
        return "", False
    content_type = headers.get("content-type", "")
    if any(text in content_type for text in text_types):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True
