"""PublishLayerVersion, GetLayerVersion, GetLayerVersionByArn, ListLayerVersions,
ListLayers and DeleteLayerVersion, over :class:`~emulator.state.layers.LayerStore`.

botocore's service model (lambda 2015-03-31): ``POST /2018-10-31/layers/{LayerName}/versions``
(201), ``GET`` and ``DELETE .../versions/{VersionNumber}`` (200, 204), ``GET
.../versions`` and ``GET /2018-10-31/layers`` (``Marker``, ``MaxItems``,
``CompatibleRuntime``, ``CompatibleArchitecture``; with ``find=LayerVersion``
and ``Arn``: GetLayerVersionByArn). Only ``Content.ZipFile`` is taken (no S3).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from typing import Any

from emulator.errors import ApiError
from emulator.frontends.control import Route, ok, read_json
from emulator.http import Request, Response
from emulator.state.layers import LayerStore, layer_name

__all__ = ["LayerVersionsFrontend"]

_PATH = "/2018-10-31/layers"
_MAX_ITEMS = 50
# A layer's archive comes base64 in the JSON body ("Lambda quotas": 50 MB zipped,
# a third more as base64).
_BODY_LIMIT = 70 * 1024 * 1024
# LayerVersionsListItem's members: a version's document without its Content.
_LISTED = (
    "LayerVersionArn",
    "Version",
    "Description",
    "CreatedDate",
    "CompatibleRuntimes",
    "CompatibleArchitectures",
    "LicenseInfo",
)


class LayerVersionsFrontend:
    """The layer operations of the Lambda API."""

    def __init__(self, store: LayerStore, now: Callable[[], float]) -> None:
        self._store = store
        self._now = now

    @property
    def routes(self) -> list[Route]:
        versions = _PATH + "/{LayerName}/versions"
        return [
            Route.of("GET", _PATH, self.list_layers),
            Route.of("POST", versions, self.publish),
            Route.of("GET", versions, self.list_versions),
            Route.of("GET", versions + "/{VersionNumber}", self.get),
            Route.of("DELETE", versions + "/{VersionNumber}", self.delete),
        ]

    async def publish(self, request: Request, match: re.Match[str]) -> Response:
        name = layer_name(match["LayerName"])
        fields = await read_json(request, _BODY_LIMIT)
        document = await asyncio.to_thread(self._store.publish, name, fields, self._now())
        return ok(document, 201)

    async def get(self, request: Request, match: re.Match[str]) -> Response:
        return ok(self._store.get(layer_name(match["LayerName"]), _version(match)))

    async def delete(self, request: Request, match: re.Match[str]) -> Response:
        self._store.delete(layer_name(match["LayerName"]), _version(match))
        return ok(None, 204)

    async def list_versions(self, request: Request, match: re.Match[str]) -> Response:
        found = self._store.versions(layer_name(match["LayerName"]))
        items = [_listed(v) for v in found if _compatible(v, request.query)]
        return ok(_page("LayerVersions", items, request.query))

    async def list_layers(self, request: Request, match: re.Match[str]) -> Response:
        if request.query.get("find") == "LayerVersion":  # GetLayerVersionByArn
            return self._by_arn(request.query.get("Arn", ""))
        items = []
        for name in self._store.names():
            latest = [v for v in self._store.versions(name) if _compatible(v, request.query)]
            if latest:
                items.append(
                    {
                        "LayerName": name,
                        "LayerArn": self._store.layer_arn(name),
                        "LatestMatchingVersion": _listed(latest[0]),
                    }
                )
        return ok(_page("Layers", items, request.query))

    def _by_arn(self, arn: str) -> Response:
        head, _, version = arn.rpartition(":")
        if not version.isdecimal():
            raise _invalid(f"{arn!r} is not a layer version ARN")
        name = layer_name(head)
        if head != self._store.layer_arn(name):  # another region's or account's
            raise ApiError(
                404, "ResourceNotFoundException", "The resource you requested does not exist."
            )
        return ok(self._store.get(name, int(version)))


def _version(match: re.Match[str]) -> int:
    text = match["VersionNumber"]
    if not text.isdecimal():
        raise _invalid(f"{text!r} is not a layer version number")
    return int(text)


def _compatible(version: Mapping[str, Any], query: Mapping[str, str]) -> bool:
    """A version the filters let through: one that lists the runtime and architecture asked."""
    for parameter, field in (
        ("CompatibleRuntime", "CompatibleRuntimes"),
        ("CompatibleArchitecture", "CompatibleArchitectures"),
    ):
        wanted = query.get(parameter)
        if wanted is not None and wanted not in version.get(field, []):
            return False
    return True


def _listed(version: Mapping[str, Any]) -> dict[str, Any]:
    return {key: version[key] for key in _LISTED if key in version}


def _page(key: str, items: list[dict[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
    start, size = _whole(query.get("Marker", "0")), _whole(query.get("MaxItems", "50"))
    size = min(size, _MAX_ITEMS)
    page: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        page["NextMarker"] = str(start + size)
    return page


def _whole(text: str) -> int:
    if not text.isdecimal():
        raise _invalid(f"{text!r} is not a whole number")
    return int(text)


def _invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidParameterValueException", message)
