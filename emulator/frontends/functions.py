"""The functions' configurations, as the Lambda API reads and updates them.

botocore's service model (lambda 2015-03-31): GetFunction
(``GET /2015-03-31/functions/{FunctionName}``), GetFunctionConfiguration
(``.../configuration``; with ``Qualifier``, a version's or an alias's),
ListFunctions (``GET /2015-03-31/functions``, with ``Marker``, ``MaxItems``
and ``FunctionVersion=ALL`` for the published versions too) and UpdateFunctionConfiguration (``PUT
.../configuration``: environment, timeout, memory, handler, description, role,
dead-letter config, layers: :mod:`emulator.frontends.layers`). An update
applies to new environments: warm ones of the old configuration are retired
(:meth:`FunctionService.reconfigure`). The functions are the ones declared on
the command line or in TOML; they run a custom runtime (``provided.al2023``)
and are kept in memory.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from emulator.config import FunctionConfig, bootstrap_command
from emulator.core.routing import LATEST
from emulator.core.stamps import api_timestamp
from emulator.errors import ApiError, ConfigError
from emulator.frontends.control import Route, ok, read_json
from emulator.frontends.layers import LayerCatalog, layer_documents
from emulator.functions.registry import Function
from emulator.functions.revision import DEFAULT_ROLE, Facts
from emulator.http import Request, Response
from emulator.protocols.invoke_api import function_name, not_found

__all__ = [
    "FunctionsFrontend",
    "check_revision",
    "configuration",
    "latest",
    "page",
    "published",
    "unqualified",
    "whole",
]

_PATH = "/2015-03-31/functions"
_MAX_ITEMS = 50
_DLQ = re.compile(r"^(arn:aws[a-zA-Z0-9-]*:(sqs|sns):[a-z0-9-]+:\d{12}:.+)?$")


class FunctionsFrontend:
    """The four operations over the functions."""

    def __init__(
        self, functions: Mapping[str, Function], now: Callable[[], float], layers: LayerCatalog
    ) -> None:
        self._functions = functions
        self._now = now
        self._layers = layers

    @property
    def routes(self) -> list[Route]:
        return [
            Route.of("GET", _PATH, self.list),
            Route.of("GET", _PATH + "/{FunctionName}", self.get),
            Route.of("GET", _PATH + "/{FunctionName}/configuration", self.configuration),
            Route.of("PUT", _PATH + "/{FunctionName}/configuration", self.update),
        ]

    async def list(self, request: Request, match: re.Match[str]) -> Response:
        functions = [self._functions[name] for name in sorted(self._functions)]
        documents = [latest(function) for function in functions]
        if request.query.get("FunctionVersion") == "ALL":  # every published version too
            documents = [
                document
                for function in functions
                for document in [latest(function), *published(function)]
            ]
        return ok(page(request, documents, "Functions"))

    async def get(self, request: Request, match: re.Match[str]) -> Response:
        function, config, facts = self._version(request, match)
        code = {"RepositoryType": "Local", "Location": f"file://{config.code_dir}"}
        document: dict[str, Any] = {"Configuration": configuration(config, facts), "Code": code}
        if function.reserved is not None:
            document["Concurrency"] = {"ReservedConcurrentExecutions": function.reserved}
        return ok(document)

    async def configuration(self, request: Request, match: re.Match[str]) -> Response:
        _, config, facts = self._version(request, match)
        return ok(configuration(config, facts))

    async def update(self, request: Request, match: re.Match[str]) -> Response:
        name, qualifier = function_name(match["FunctionName"], request.query.get("Qualifier"))
        function = self._functions.get(name)
        if function is None or qualifier not in (None, LATEST):
            raise not_found(name, qualifier)
        fields = await read_json(request)
        revision = function.revision
        check_revision(fields, revision.id)
        updated, extra = _updated(function.config, fields)
        if "Layers" in fields:
            layers = self._layers.resolve(fields["Layers"], updated.code_dir)
            updated = dataclasses.replace(updated, layers=layers)
        try:
            function.latest.reconfigure(updated)
        except ConfigError as exc:
            raise ApiError(400, "InvalidParameterValueException", exc.message) from None
        revision.changed(self._now(), extra)
        return ok(latest(function))

    def _version(
        self, request: Request, match: re.Match[str]
    ) -> tuple[Function, FunctionConfig, Facts]:
        """The function, and the configuration and facts of the version asked for
        (an alias: the version it points to)."""
        name, qualifier = function_name(match["FunctionName"], request.query.get("Qualifier"))
        function = self._functions.get(name)
        if function is not None:
            if qualifier in (None, LATEST):
                return function, function.config, function.facts()
            alias = function.aliases.get(qualifier)
            published = function.versions.get(alias.version if alias else qualifier)
            if published is not None:
                return function, published[0].function, published[1]
        raise not_found(name, qualifier)


def published(function: Function) -> list[dict[str, Any]]:
    """The documents of the function's published versions, oldest first."""
    return [
        configuration(service.function, facts)
        for service, facts in (function.versions[n] for n in sorted(function.versions, key=int))
    ]


def latest(function: Function) -> dict[str, Any]:
    """``$LATEST``'s FunctionConfiguration document."""
    return configuration(function.config, function.facts())


def configuration(function: FunctionConfig, facts: Facts) -> dict[str, Any]:
    """A version's FunctionConfiguration document, as GetFunctionConfiguration answers."""
    arn = function.qualified_arn(None if function.version == LATEST else function.version)
    document: dict[str, Any] = {
        "FunctionName": function.name,
        "FunctionArn": arn,
        "Runtime": "provided.al2023",
        "Role": facts.extra.get("Role", DEFAULT_ROLE),
        "Handler": function.handler,
        "CodeSize": facts.code_size,
        "Description": facts.extra.get("Description", ""),
        "Timeout": int(function.timeout_s),
        "MemorySize": function.memory_mb,
        "LastModified": api_timestamp(facts.modified),
        "CodeSha256": facts.code_sha256,
        "Version": function.version,
        "Environment": {"Variables": dict(function.environment)},
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": facts.revision_id,
        "Layers": layer_documents(function),
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
        "EphemeralStorage": {"Size": 512},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.name}"},
    }
    if function.dead_letter:
        document["DeadLetterConfig"] = {"TargetArn": function.dead_letter}
    return document


def unqualified(functions: Mapping[str, Function], identifier: str) -> Function:
    """The function a FunctionName names, for an operation on the function as a whole
    (its versions, aliases, reservation): a qualified one is refused."""
    name, qualifier = function_name(identifier, None)
    function = functions.get(name)
    if function is None:
        raise not_found(name, qualifier)
    if qualifier is not None:
        raise ApiError(
            400,
            "InvalidParameterValueException",
            "This operation is not supported on a qualified function ARN",
        )
    return function


def check_revision(fields: Mapping[str, Any], latest: str) -> None:
    """The optimistic lock of an update or a publish: the request's ``RevisionId``, if it
    gives one, must be the latest."""
    wanted = fields.get("RevisionId")
    if wanted is not None and wanted != latest:
        raise ApiError(
            412,
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. Call the "
            "GetFunction/GetAlias API to retrieve the latest Revision Id",
        )


def page(
    request: Request, items: Sequence[Any], key: str, most: int = _MAX_ITEMS
) -> dict[str, Any]:
    """One page of a List operation: ``Marker`` (where it starts) and ``MaxItems``
    (``most`` at most: 50 for functions and versions, the service model's 10000 else)."""
    start = whole(request.query.get("Marker", "0"))
    size = min(whole(request.query.get("MaxItems", str(most))), most)
    answer: dict[str, Any] = {key: list(items[start : start + size])}
    if start + size < len(items):
        answer["NextMarker"] = str(start + size)
    return answer


def _updated(
    function: FunctionConfig, fields: Mapping[str, Any]
) -> tuple[FunctionConfig, dict[str, str]]:
    """The configuration with ``fields`` applied, and the fields only kept to be shown."""
    changes: dict[str, Any] = {}
    if "Timeout" in fields:
        changes["timeout_s"] = float(_within(fields["Timeout"], "timeout", 1, 900))
    if "MemorySize" in fields:
        changes["memory_mb"] = _within(fields["MemorySize"], "memorySize", 128, 10240)
    if "Environment" in fields:
        variables = (fields["Environment"] or {}).get("Variables") or {}
        if not isinstance(variables, dict):
            raise ApiError(
                400, "InvalidParameterValueException", "Environment.Variables must be a map"
            )
        changes["environment"] = {str(k): str(v) for k, v in variables.items()}
    if "Handler" in fields:
        handler = str(fields["Handler"])
        changes["handler"] = handler
        if function.command == bootstrap_command(function.handler):  # ric serves the handler
            changes["command"] = bootstrap_command(handler)
    if "DeadLetterConfig" in fields:
        target = str((fields["DeadLetterConfig"] or {}).get("TargetArn", ""))
        if not _DLQ.match(target):
            raise ApiError(
                400, "InvalidParameterValueException", f"The dead-letter target {target} is invalid"
            )
        changes["dead_letter"] = target or None
    extra = {key: str(fields[key]) for key in ("Description", "Role") if key in fields}
    return dataclasses.replace(function, **changes), extra


def _within(value: Any, member: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        bound = f"between {low} and {high}"
        raise ApiError(
            400,
            "ValidationException",
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            f"constraint: Member must have value {bound}",
        )
    return value


def whole(text: str) -> int:
    if not text.isdecimal():
        raise ApiError(400, "InvalidParameterValueException", f"{text!r} is not a whole number")
    return int(text)
