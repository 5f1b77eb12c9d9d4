"""Provisioned concurrency, as the Lambda API serves it.

botocore's service model (lambda 2015-03-31): PutProvisionedConcurrencyConfig
(``PUT /2019-09-30/functions/{FunctionName}/provisioned-concurrency?Qualifier=``,
202), GetProvisionedConcurrencyConfig (``GET``), DeleteProvisionedConcurrencyConfig
(``DELETE``, 204) and ListProvisionedConcurrencyConfigs (``GET`` with
``List=ALL``). "Configuring provisioned concurrency" (provisioned-concurrency.html):
it is put on a published version or an alias, never on ``$LATEST``; that many
environments are initialised at once, ``IN_PROGRESS`` until they all are,
then ``READY`` (``FAILED`` when one cannot be); it is taken from the
function's reserved concurrency, or else from the account's unreserved
concurrency, of which 100 always stay free.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from emulator.config import UNRESERVED_MINIMUM
from emulator.core.routing import LATEST
from emulator.core.stamps import api_timestamp
from emulator.errors import ApiError
from emulator.frontends.control import Route, ok, read_json
from emulator.frontends.functions import page
from emulator.functions.registry import Account, Function, ProvisionedConfig
from emulator.functions.versions import Catalog
from emulator.http import Request, Response
from emulator.protocols.invoke_api import function_name, not_found

__all__ = ["ProvisionedFrontend", "unpublished"]

_PATH = "/2019-09-30/functions/{FunctionName}/provisioned-concurrency"


class ProvisionedFrontend:
    """The four provisioned concurrency operations over the account's functions."""

    def __init__(self, account: Account, catalog: Catalog, now: Callable[[], float]) -> None:
        self._account = account
        self._catalog = catalog
        self._now = now

    @property
    def routes(self) -> list[Route]:
        return [
            Route.of("PUT", _PATH, self.put),
            Route.of("GET", _PATH, self.get),
            Route.of("DELETE", _PATH, self.delete),
        ]

    async def put(self, request: Request, match: re.Match[str]) -> Response:
        function, qualifier = self._target(request, match)
        wanted = (await read_json(request)).get("ProvisionedConcurrentExecutions")
        if not isinstance(wanted, int) or isinstance(wanted, bool) or wanted < 1:
            raise ApiError(
                400,
                "ValidationException",
                f"1 validation error detected: Value '{wanted}' at "
                "'provisionedConcurrentExecutions' failed to satisfy constraint: Member must "
                "have value greater than or equal to 1",
            )
        _check_target(function, qualifier)
        current = function.provisioned.get(qualifier)
        total = function.provisioned_total - (current.requested if current else 0) + wanted
        self._check_room(function, total)
        config = ProvisionedConfig(wanted, self._now())
        await self._catalog.put_provisioned(function, qualifier, config)
        return ok(self._document(function, qualifier), 202)

    async def get(self, request: Request, match: re.Match[str]) -> Response:
        if request.query.get("List") == "ALL":
            return self._list(request, match)
        function, qualifier = self._target(request, match)
        if qualifier not in function.provisioned:
            raise ApiError(
                404,
                "ProvisionedConcurrencyConfigNotFoundException",
                "No Provisioned Concurrency Config found for this function",
            )
        return ok(self._document(function, qualifier))

    async def delete(self, request: Request, match: re.Match[str]) -> Response:
        function, qualifier = self._target(request, match)
        await self._catalog.delete_provisioned(function, qualifier)
        return ok(None, 204)

    def _list(self, request: Request, match: re.Match[str]) -> Response:
        function = self._function(function_name(match["FunctionName"], None)[0])
        items = [
            {
                "FunctionArn": function.config.qualified_arn(qualifier),
                **self._document(function, qualifier),
            }
            for qualifier in sorted(function.provisioned)
        ]
        return ok(page(request, items, "ProvisionedConcurrencyConfigs"))

    def _document(self, function: Function, qualifier: str) -> dict[str, Any]:
        state = function.provisioned_state(qualifier)
        document: dict[str, Any] = {
            "RequestedProvisionedConcurrentExecutions": state.requested,
            "AvailableProvisionedConcurrentExecutions": state.ready,
            "AllocatedProvisionedConcurrentExecutions": state.ready,
            "Status": state.status,
            "LastModified": api_timestamp(function.provisioned[qualifier].modified, millis=False),
        }
        if state.reason is not None:
            document["StatusReason"] = state.reason
        return document

    def _check_room(self, function: Function, total: int) -> None:
        """Provisioned concurrency is taken from the reservation, or from what is unreserved."""
        if function.reserved is not None:
            if total > function.reserved:
                raise ApiError(
                    400,
                    "InvalidParameterValueException",
                    "Requested Provisioned Concurrency should not be greater than the "
                    "reservedConcurrentExecution for function",
                )
            return
        others = sum(
            f.provisioned_total
            for f in self._account.functions.values()
            if f.reserved is None and f is not function
        )
        free = self._account.concurrency - self._account.reserved() - UNRESERVED_MINIMUM
        if others + total > free:
            raise ApiError(
                400,
                "InvalidParameterValueException",
                "Specified ConcurrentExecutions for function is greater than account's "
                f"unreserved concurrency minus its minimum value of [{UNRESERVED_MINIMUM}]",
            )

    def _target(self, request: Request, match: re.Match[str]) -> tuple[Function, str]:
        """The function and the version or alias the request names."""
        name, qualifier = function_name(match["FunctionName"], request.query.get("Qualifier"))
        function = self._function(name)
        if qualifier is None or qualifier == LATEST:
            raise unpublished()
        if qualifier not in function.aliases and qualifier not in function.versions:
            raise not_found(name, qualifier, function.config.region)
        return function, qualifier

    def _function(self, name: str) -> Function:
        function = self._account.functions.get(name)
        if function is None:
            raise not_found(name, None)
        return function


def unpublished() -> ApiError:
    return ApiError(
        400,
        "InvalidParameterValueException",
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
    )


def _check_target(function: Function, qualifier: str) -> None:
    """An alias of ``$LATEST`` or with weights takes none; an alias and the version it
    points to cannot both have one (whose would its environments be?)."""
    alias = function.aliases.get(qualifier)
    if alias is not None:
        if alias.version == LATEST:
            raise unpublished()
        if alias.weights:
            raise ApiError(
                400,
                "InvalidParameterValueException",
                "Alias with weights can not be used with Provisioned Concurrency",
            )
        clash = alias.version if alias.version in function.provisioned else None
    else:
        clash = next(
            (a.name for a in function.aliases.values()
             if a.version == qualifier and a.name in function.provisioned),
            None,
        )  # fmt: skip
    if clash is not None:
        raise ApiError(
            409,
            "ResourceConflictException",
            f"{clash} already has a Provisioned Concurrency config for the version that "
            f"{qualifier} runs: delete one of them first",
        )
