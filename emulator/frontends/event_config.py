"""The event invoke config operations of the Lambda API, kept in the state store.

``/2019-09-25/functions/{FunctionName}/event-invoke-config`` (botocore's
service model, lambda 2015-03-31): PUT is PutFunctionEventInvokeConfig (the
document replaced: a setting left out is removed), POST
UpdateFunctionEventInvokeConfig (the settings given changed, the others
kept), GET GetFunctionEventInvokeConfig, DELETE
DeleteFunctionEventInvokeConfig (204); ``.../event-invoke-config/list`` is
ListFunctionEventInvokeConfigs. Each is per function and qualifier
(``$LATEST``, a version or an alias: an event through an alias follows the
alias's config). Validation follows the model:
``MaximumRetryAttempts`` 0 to 2, ``MaximumEventAgeInSeconds`` 60 to 21600, a
destination an ARN of a function, queue, topic, bucket or event bus.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from emulator.async_invoke.settings import LATEST, AsyncSettings, config_document
from emulator.config import FunctionConfig
from emulator.errors import ApiError
from emulator.frontends.control import Route, ok, read_json
from emulator.functions.registry import Function
from emulator.http import Request, Response
from emulator.protocols.invoke_api import function_name, not_found

__all__ = ["EventConfigFrontend"]

_PATH = "/2019-09-25/functions/{FunctionName}/event-invoke-config"
_RANGES = {"MaximumRetryAttempts": (0, 2), "MaximumEventAgeInSeconds": (60, 21600)}
_DESTINATION = re.compile(
    r"^arn:aws[a-zA-Z0-9-]*:(lambda|sqs|sns|s3|events):[a-z0-9-]*:\d{0,12}:.+$"
)
_MAX_ITEMS = 50


class EventConfigFrontend:
    """The five operations, over the functions' settings; functions by name."""

    def __init__(
        self,
        functions: Mapping[str, Function],
        settings: AsyncSettings,
        now: Callable[[], float],
    ) -> None:
        self._functions = functions
        self._settings = settings
        self._now = now

    @property
    def routes(self) -> list[Route]:
        return [
            Route.of("GET", _PATH + "/list", self.list),
            Route.of("PUT", _PATH, self.put),
            Route.of("POST", _PATH, self.update),
            Route.of("GET", _PATH, self.get),
            Route.of("DELETE", _PATH, self.delete),
        ]

    async def put(self, request: Request, match: re.Match[str]) -> Response:
        function, qualifier = self._target(request, match)
        fields = _validated(await read_json(request))
        document = config_document(function, qualifier, fields, self._now())
        await self._settings.put(function.name, qualifier, document)
        return ok(document)

    async def update(self, request: Request, match: re.Match[str]) -> Response:
        function, qualifier = self._target(request, match)
        fields = _validated(await read_json(request))
        current = self._existing(function, qualifier)
        document = config_document(function, qualifier, {**current, **fields}, self._now())
        await self._settings.put(function.name, qualifier, document)
        return ok(document)

    async def get(self, request: Request, match: re.Match[str]) -> Response:
        function, qualifier = self._target(request, match)
        return ok(self._existing(function, qualifier))

    async def delete(self, request: Request, match: re.Match[str]) -> Response:
        function, qualifier = self._target(request, match)
        if not await self._settings.delete(function.name, qualifier):
            raise _no_config(function, qualifier)
        return ok(None, 204)

    async def list(self, request: Request, match: re.Match[str]) -> Response:
        function = self._function(match)
        documents = self._settings.listed(function.name)
        start = _whole(request.query.get("Marker", "0"), "Marker")
        size = _whole(request.query.get("MaxItems", str(_MAX_ITEMS)), "MaxItems")
        if not 1 <= size <= _MAX_ITEMS:
            raise _validation("MaxItems", size, f"between 1 and {_MAX_ITEMS}")
        page: dict[str, Any] = {"FunctionEventInvokeConfigs": documents[start : start + size]}
        if start + size < len(documents):
            page["NextMarker"] = str(start + size)
        return ok(page)

    def _target(self, request: Request, match: re.Match[str]) -> tuple[FunctionConfig, str]:
        name, qualifier = function_name(match["FunctionName"], request.query.get("Qualifier"))
        function = self._functions.get(name)
        if function is None or not function.has(qualifier):
            raise not_found(name, qualifier)
        return function.config, qualifier or LATEST

    def _function(self, match: re.Match[str]) -> FunctionConfig:
        name, qualifier = function_name(match["FunctionName"], None)
        function = self._functions.get(name)
        if function is None:
            raise not_found(name, qualifier)
        return function.config

    def _existing(self, function: FunctionConfig, qualifier: str) -> dict[str, Any]:
        document = self._settings.get(function.name, qualifier)
        if document is None:
            raise _no_config(function, qualifier)
        return document


def _validated(fields: dict[str, Any]) -> dict[str, Any]:
    known = {"MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig"}
    kept = {key: value for key, value in fields.items() if key in known}
    for key, (low, high) in _RANGES.items():
        if key in kept:
            value = kept[key]
            if not isinstance(value, int) or isinstance(value, bool):
                raise _validation(key, value, "an integer")
            if not low <= value <= high:
                bound = (
                    f"greater than or equal to {low}"
                    if value < low
                    else f"less than or equal to {high}"
                )
                raise _validation(key, value, bound)
    if "DestinationConfig" in kept:
        kept["DestinationConfig"] = _destinations(kept["DestinationConfig"])
    return kept


def _destinations(config: Any) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise ApiError(400, "InvalidParameterValueException", "DestinationConfig must be an object")
    kept: dict[str, Any] = {}
    for key in ("OnSuccess", "OnFailure"):
        arn = (config.get(key) or {}).get("Destination")
        if arn is None:
            continue
        if not isinstance(arn, str) or not _DESTINATION.match(arn):
            raise ApiError(
                400,
                "InvalidParameterValueException",
                f"The destination ARN {arn} is invalid: give the ARN of a function, an SQS "
                "queue, an SNS topic, an S3 bucket or an EventBridge event bus",
            )
        kept[key] = {"Destination": arn}
    return kept


def _whole(text: str, member: str) -> int:
    if not text.isdecimal():
        raise _validation(member, text, "a whole number")
    return int(text)


def _validation(member: str, value: object, constraint: str) -> ApiError:
    lowered = member[0].lower() + member[1:]
    return ApiError(
        400,
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{lowered}' failed to satisfy "
        f"constraint: Member must have value {constraint}",
    )


def _no_config(function: FunctionConfig, qualifier: str) -> ApiError:
    return ApiError(
        404,
        "ResourceNotFoundException",
        f"The function {function.qualified_arn(qualifier)} doesn't have an EventInvokeConfig",
    )
