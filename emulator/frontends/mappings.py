"""The event source mapping operations of the Lambda API, on the control plane.

Paths and status codes are botocore's service model's
(``lambda/2015-03-31/service-2.json``): CreateEventSourceMapping
(``POST /2015-03-31/event-source-mappings``, 202), ListEventSourceMappings
(``GET`` there, 200, ``FunctionName``, ``EventSourceArn``, ``Marker`` and
``MaxItems`` in the query), GetEventSourceMapping (``GET .../{UUID}``, 200),
UpdateEventSourceMapping (``PUT .../{UUID}``, 202) and DeleteEventSourceMapping
(``DELETE .../{UUID}``, 202); each answers an ``EventSourceMappingConfiguration``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from emulator.core.mappings import Busy, InvalidMapping
from emulator.errors import ApiError
from emulator.frontends.control import Route, ok, read_json
from emulator.http import Request, Response
from emulator.sources.service import MappingExists, MappingService, NoSuchFunction, NoSuchMapping

__all__ = ["mapping_routes"]

_BASE = "/2015-03-31/event-source-mappings"
_MAX_ITEMS = 100  # ListEventSourceMappings' default page


def mapping_routes(mappings: MappingService) -> list[Route]:
    """The five operations' routes over ``mappings``."""

    async def create(request: Request, match: re.Match[str]) -> Response:
        document = await read_json(request)
        with _errors():
            return ok((await mappings.create(document)).document(), 202)

    async def listed(request: Request, match: re.Match[str]) -> Response:
        with _errors():
            return ok(_page(mappings, request.query))

    async def get(request: Request, match: re.Match[str]) -> Response:
        with _errors():
            return ok(mappings.get(match["UUID"]).document())

    async def update(request: Request, match: re.Match[str]) -> Response:
        document = await read_json(request)
        with _errors():
            return ok((await mappings.update(match["UUID"], document)).document(), 202)

    async def delete(request: Request, match: re.Match[str]) -> Response:
        with _errors():
            return ok((await mappings.delete(match["UUID"])).document(), 202)

    return [
        Route.of("POST", _BASE, create),
        Route.of("GET", _BASE, listed),
        Route.of("GET", _BASE + "/{UUID}", get),
        Route.of("PUT", _BASE + "/{UUID}", update),
        Route.of("DELETE", _BASE + "/{UUID}", delete),
    ]


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """The mapping service's failures as Lambda's error answers."""
    try:
        yield
    except NoSuchMapping:
        raise ApiError(
            404, "ResourceNotFoundException", "The resource you requested does not exist."
        ) from None
    except NoSuchFunction as exc:
        raise ApiError(404, "ResourceNotFoundException", f"Function not found: {exc}") from None
    except InvalidMapping as exc:
        raise ApiError(400, "InvalidParameterValueException", str(exc)) from None
    except Busy as exc:
        raise ApiError(400, "ResourceInUseException", str(exc)) from None
    except MappingExists as exc:
        raise ApiError(
            409,
            "ResourceConflictException",
            "An event source mapping with this function and event source already exists. "
            f"Please update or delete the existing mapping with UUID {exc.uuid}",
        ) from None


def _page(mappings: MappingService, params: Mapping[str, str]) -> dict[str, Any]:
    """ListEventSourceMappings' answer: one page of the filtered mappings."""
    function = params.get("FunctionName")
    function_arn = None if function is None else mappings.service(function).function.arn
    found = mappings.list(function_arn, params.get("EventSourceArn"))
    start = _number(params.get("Marker", "0"), "Marker")
    size = _number(params.get("MaxItems", str(_MAX_ITEMS)), "MaxItems")
    if size < 1:
        raise ApiError(400, "InvalidParameterValueException", "MaxItems must be at least 1")
    page = found[start : start + size]
    answer: dict[str, Any] = {"EventSourceMappings": [m.document() for m in page]}
    if start + size < len(found):
        answer["NextMarker"] = str(start + size)
    return answer


def _number(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ApiError(400, "InvalidParameterValueException", f"Invalid {name}: {text}") from None
