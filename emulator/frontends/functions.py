"""The functions' configurations, as the Lambda API reads and updates them.

botocore's service model (lambda 2015-03-31): GetFunction
(``GET /2015-03-31/functions/{FunctionName}``), GetFunctionConfiguration
(``.../configuration``), ListFunctions (``GET /2015-03-31/functions``, with
``Marker`` and ``MaxItems``) and UpdateFunctionConfiguration (``PUT
.../configuration``: environment, timeout, memory, handler, description, role,
dead-letter config). An update applies to new environments: warm ones of the
old configuration are retired (:meth:`FunctionService.reconfigure`). The
functions are the ones declared on the command line or in TOML; they run a
custom runtime (``provided.al2023``) and are kept in memory.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from emulator.config import FunctionConfig, bootstrap_command
from emulator.errors import ApiError, ConfigError
from emulator.frontends.control import Route, ok, read_json
from emulator.functions.service import FunctionService
from emulator.functions.watch import Snapshot, snapshot
from emulator.http import Request, Response
from emulator.protocols.invoke_api import function_name, not_found

__all__ = ["FunctionsFrontend"]

_PATH = "/2015-03-31/functions"
_ROLE = "arn:aws:iam::123456789012:role/lambda-role"
_MAX_ITEMS = 50
_DLQ = re.compile(r"^(arn:aws[a-zA-Z0-9-]*:(sqs|sns):[a-z0-9-]+:\d{12}:.+)?$")


class FunctionsFrontend:
    """The four operations over the functions' services."""

    def __init__(self, services: Mapping[str, FunctionService], now: Callable[[], float]) -> None:
        self._services = services
        self._now = now
        started = now()
        self._revisions = {name: _Revision(started) for name in services}

    @property
    def routes(self) -> list[Route]:
        return [
            Route.of("GET", _PATH, self.list),
            Route.of("GET", _PATH + "/{FunctionName}", self.get),
            Route.of("GET", _PATH + "/{FunctionName}/configuration", self.configuration),
            Route.of("PUT", _PATH + "/{FunctionName}/configuration", self.update),
        ]

    async def list(self, request: Request, match: re.Match[str]) -> Response:
        names = sorted(self._services)
        start = _whole(request.query.get("Marker", "0"))
        size = min(_whole(request.query.get("MaxItems", str(_MAX_ITEMS))), _MAX_ITEMS)
        page: dict[str, Any] = {
            "Functions": [self._document(name) for name in names[start : start + size]]
        }
        if start + size < len(names):
            page["NextMarker"] = str(start + size)
        return ok(page)

    async def get(self, request: Request, match: re.Match[str]) -> Response:
        service = self._service(request, match)
        name = service.function.name
        code = {"RepositoryType": "Local", "Location": f"file://{service.function.code_dir}"}
        document: dict[str, Any] = {"Configuration": self._document(name), "Code": code}
        if service.reserved is not None:
            document["Concurrency"] = {"ReservedConcurrentExecutions": service.reserved}
        return ok(document)

    async def configuration(self, request: Request, match: re.Match[str]) -> Response:
        return ok(self._document(self._service(request, match).function.name))

    async def update(self, request: Request, match: re.Match[str]) -> Response:
        service = self._service(request, match)
        fields = await read_json(request)
        revision = self._revisions[service.function.name]
        wanted = fields.get("RevisionId")
        if wanted is not None and wanted != revision.id:
            raise ApiError(
                412,
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. Call the "
                "GetFunction/GetAlias API to retrieve the latest Revision Id",
            )
        updated, extra = _updated(service.function, fields)
        try:
            service.reconfigure(updated)
        except ConfigError as exc:
            raise ApiError(400, "InvalidParameterValueException", exc.message) from None
        revision.changed(self._now(), extra)
        return ok(self._document(updated.name))

    def _service(self, request: Request, match: re.Match[str]) -> FunctionService:
        name, qualifier = function_name(match["FunctionName"], request.query.get("Qualifier"))
        service = self._services.get(name)
        if service is None or qualifier not in (None, service.function.version):
            raise not_found(name, qualifier)
        return service

    def _document(self, name: str) -> dict[str, Any]:
        function = self._services[name].function
        revision = self._revisions[name]
        document: dict[str, Any] = {
            "FunctionName": function.name,
            "FunctionArn": function.arn,
            "Runtime": "provided.al2023",
            "Role": revision.extra.get("Role", _ROLE),
            "Handler": function.handler,
            "CodeSize": revision.code_size(function.code_dir),
            "Description": revision.extra.get("Description", ""),
            "Timeout": int(function.timeout_s),
            "MemorySize": function.memory_mb,
            "LastModified": _iso(revision.modified),
            "CodeSha256": revision.code_sha256(function.code_dir),
            "Version": function.version,
            "Environment": {"Variables": dict(function.environment)},
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": revision.id,
            "Layers": [],
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


class _Revision:
    """A function's RevisionId, LastModified, the fields kept only to be shown, its code's hash."""

    def __init__(self, modified: float) -> None:
        self.id = str(uuid.uuid4())
        self.modified = modified
        self.extra: dict[str, str] = {}
        self._code: tuple[Snapshot, int, str] | None = None  # (the files, size, sha256)

    def changed(self, now: float, extra: Mapping[str, str]) -> None:
        self.id = str(uuid.uuid4())
        self.modified = now
        self.extra.update(extra)

    def code_size(self, folder: str) -> int:
        return self._hashed(folder)[1]

    def code_sha256(self, folder: str) -> str:
        return self._hashed(folder)[2]

    def _hashed(self, folder: str) -> tuple[Snapshot, int, str]:
        """Read again only when a file was added, changed or removed since the last time."""
        files = snapshot(folder)
        if self._code is None or self._code[0] != files:
            digest, size = hashlib.sha256(), 0
            for name in files:
                with open(os.path.join(folder, name), "rb") as code:
                    data = code.read()
                digest.update(name.encode() + b"\0" + data)
                size += len(data)
            self._code = (files, size, base64.b64encode(digest.digest()).decode())
        return self._code


def _updated(
    function: FunctionConfig, fields: Mapping[str, Any]
) -> tuple[FunctionConfig, dict[str, str]]:
    """The configuration with ``fields`` applied, and the fields only kept to be shown."""
    changes: dict[str, Any] = {}
    if fields.get("Layers"):
        raise ApiError(
            400,
            "InvalidParameterValueException",
            "Layers are not supported by this emulator yet: give the function's dependencies "
            "in its code directory",
        )
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


def _whole(text: str) -> int:
    if not text.isdecimal():
        raise ApiError(400, "InvalidParameterValueException", f"{text!r} is not a whole number")
    return int(text)


def _iso(moment: float) -> str:
    """Lambda's LastModified: ``2019-02-20T12:00:00.000+0000``."""
    millis = round(moment * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + f".{millis:03d}+0000"
