"""Versions and aliases, as the Lambda API serves them.

botocore's service model (lambda 2015-03-31): PublishVersion (``POST
/2015-03-31/functions/{FunctionName}/versions``, 201), ListVersionsByFunction
(``GET`` of the same path), CreateAlias (``POST .../aliases``, 201),
ListAliases (``GET .../aliases``, ``FunctionVersion`` to filter), GetAlias,
UpdateAlias and DeleteAlias (``GET``, ``PUT``, ``DELETE .../aliases/{Name}``;
204). "Lambda function aliases" (configuration-aliases.html) and
"Implement Lambda canary deployments using a weighted alias"
(configuring-alias-routing.html) for what an alias may route to.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from emulator.core.routing import (
    LATEST,
    Alias,
    InvalidRouting,
    UnknownVersion,
    check_alias_name,
    check_routing,
)
from emulator.errors import ApiError
from emulator.frontends.control import Route, ok, read_json
from emulator.frontends.functions import (
    check_revision,
    configuration,
    latest,
    page,
    published,
    unqualified,
)
from emulator.frontends.provisioned import unpublished
from emulator.functions.registry import Function
from emulator.functions.versions import Catalog
from emulator.http import Request, Response
from emulator.protocols.invoke_api import not_found

__all__ = ["VersionsFrontend", "alias_document"]

_PATH = "/2015-03-31/functions/{FunctionName}"
_MAX_ALIASES = 10000  # the service model's MaxListItems


class VersionsFrontend:
    """The version and alias operations over the functions and their catalog."""

    def __init__(
        self, functions: Mapping[str, Function], catalog: Catalog, now: Callable[[], float]
    ) -> None:
        self._functions = functions
        self._catalog = catalog
        self._now = now

    @property
    def routes(self) -> list[Route]:
        return [
            Route.of("POST", _PATH + "/versions", self.publish),
            Route.of("GET", _PATH + "/versions", self.versions),
            Route.of("POST", _PATH + "/aliases", self.create),
            Route.of("GET", _PATH + "/aliases", self.aliases),
            Route.of("GET", _PATH + "/aliases/{Name}", self.get),
            Route.of("PUT", _PATH + "/aliases/{Name}", self.update),
            Route.of("DELETE", _PATH + "/aliases/{Name}", self.delete),
        ]

    async def publish(self, request: Request, match: re.Match[str]) -> Response:
        function = self._function(match)
        fields = await read_json(request)
        now = function.facts()
        check_revision(fields, now.revision_id)
        wanted = fields.get("CodeSha256")
        if wanted is not None and wanted != now.code_sha256:
            raise ApiError(
                400,
                "InvalidParameterValueException",
                f"CodeSHA256 ({wanted}) is different from current CodeSHA256 in $LATEST. "
                "Please try again with the CodeSHA256 in $LATEST.",
            )
        description = str(fields.get("Description", ""))
        number, _ = await self._catalog.publish(function, description, self._now())
        service, facts = function.versions[number]
        return ok(configuration(service.function, facts), 201)

    async def versions(self, request: Request, match: re.Match[str]) -> Response:
        function = self._function(match)
        return ok(page(request, [latest(function), *published(function)], "Versions"))

    async def create(self, request: Request, match: re.Match[str]) -> Response:
        function = self._function(match)
        fields = await read_json(request)
        name = str(fields.get("Name", ""))
        _checked(function, lambda: check_alias_name(name))
        if name in function.aliases:
            raise ApiError(
                409,
                "ResourceConflictException",
                f"Alias already exists: {_alias_arn(function, name)}",
            )
        alias = self._alias(function, name, fields, Alias(name, ""))
        return ok(alias_document(function, await self._catalog.put_alias(function, alias)), 201)

    async def aliases(self, request: Request, match: re.Match[str]) -> Response:
        function = self._function(match)
        version = request.query.get("FunctionVersion")
        chosen = [
            alias_document(function, function.aliases[name])
            for name in sorted(function.aliases)
            if version is None or version in function.aliases[name].versions
        ]
        return ok(page(request, chosen, "Aliases", _MAX_ALIASES))

    async def get(self, request: Request, match: re.Match[str]) -> Response:
        function = self._function(match)
        return ok(alias_document(function, self._existing(function, match["Name"])))

    async def update(self, request: Request, match: re.Match[str]) -> Response:
        function = self._function(match)
        current = self._existing(function, match["Name"])
        fields = await read_json(request)
        check_revision(fields, current.revision_id)
        alias = self._alias(function, current.name, fields, current)
        return ok(alias_document(function, await self._catalog.put_alias(function, alias)))

    async def delete(self, request: Request, match: re.Match[str]) -> Response:
        function = self._function(match)
        await self._catalog.delete_alias(function, self._existing(function, match["Name"]).name)
        return ok(None, 204)

    def _alias(
        self, function: Function, name: str, fields: Mapping[str, Any], current: Alias
    ) -> Alias:
        """``current`` with the request's fields, checked as Lambda checks them."""
        version = str(fields.get("FunctionVersion", current.version))
        if not version:
            raise ApiError(400, "InvalidParameterValueException", "FunctionVersion is required")
        weights: Mapping[str, Any] = current.weights
        if "RoutingConfig" in fields:
            weights = (fields["RoutingConfig"] or {}).get("AdditionalVersionWeights") or {}
            if not isinstance(weights, dict):
                raise ApiError(
                    400, "InvalidParameterValueException", "AdditionalVersionWeights must be a map"
                )
        _checked(function, lambda: check_routing(version, weights, function.versions))
        if version == LATEST and name in function.provisioned:
            raise unpublished()  # its provisioned environments would have nowhere to go
        description = str(fields.get("Description", current.description))
        return Alias(name, version, dict(weights), description, current.revision_id)

    def _existing(self, function: Function, name: str) -> Alias:
        alias = function.aliases.get(name)
        if alias is None:
            raise ApiError(
                404, "ResourceNotFoundException", f"Alias not found: {_alias_arn(function, name)}"
            )
        return alias

    def _function(self, match: re.Match[str]) -> Function:
        return unqualified(self._functions, match["FunctionName"])


def alias_document(function: Function, alias: Alias) -> dict[str, Any]:
    """An AliasConfiguration, as GetAlias answers."""
    document: dict[str, Any] = {
        "AliasArn": _alias_arn(function, alias.name),
        "Name": alias.name,
        "FunctionVersion": alias.version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    }
    if alias.weights:
        document["RoutingConfig"] = {"AdditionalVersionWeights": dict(alias.weights)}
    return document


def _alias_arn(function: Function, name: str) -> str:
    return function.config.qualified_arn(name)


def _checked(function: Function, check: Callable[[], None]) -> None:
    try:
        check()
    except UnknownVersion as exc:
        raise not_found(function.name, exc.version, function.config.region) from None
    except InvalidRouting as exc:
        kind = "ValidationException" if exc.malformed else "InvalidParameterValueException"
        raise ApiError(400, kind, exc.message) from None
