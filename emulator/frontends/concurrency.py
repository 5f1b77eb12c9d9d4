"""Reserved concurrency and the account's limits, as the Lambda API serves them.

botocore's service model (lambda 2015-03-31): PutFunctionConcurrency
(``PUT /2017-10-31/functions/{FunctionName}/concurrency``), GetFunctionConcurrency
(``GET /2019-09-30/...``: ``{}`` when none is set), DeleteFunctionConcurrency
(``DELETE /2017-10-31/...``, 204), and GetAccountSettings
(``GET /2016-08-19/account-settings``). "Configuring reserved concurrency"
(configuration-concurrency.html): a function's reservation is its limit and
its guarantee, taken from the account's concurrency (``--account-concurrency``,
1000 by default), of which 100 always stay unreserved. The limit applies to
new invocations at once; those in flight finish.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from emulator.config import UNRESERVED_MINIMUM
from emulator.errors import ApiError
from emulator.frontends.control import Route, ok, read_json
from emulator.functions.service import FunctionService
from emulator.http import Request, Response
from emulator.protocols.invoke_api import function_name, not_found

__all__ = ["ConcurrencyFrontend"]

_PATH = "/functions/{FunctionName}/concurrency"
# Lambda's default account limits ("Lambda quotas", gettingstarted-limits.html).
_LIMITS = {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800}


class ConcurrencyFrontend:
    """The concurrency operations over the functions' services."""

    def __init__(self, services: Mapping[str, FunctionService], account_limit: int) -> None:
        self._services = services
        self._account = account_limit

    @property
    def routes(self) -> list[Route]:
        return [
            Route.of("PUT", "/2017-10-31" + _PATH, self.put),
            Route.of("GET", "/2019-09-30" + _PATH, self.get),
            Route.of("DELETE", "/2017-10-31" + _PATH, self.delete),
            Route.of("GET", "/2016-08-19/account-settings", self.account),
        ]

    async def put(self, request: Request, match: re.Match[str]) -> Response:
        service = self._service(match)
        wanted = (await read_json(request)).get("ReservedConcurrentExecutions")
        if not isinstance(wanted, int) or isinstance(wanted, bool) or wanted < 0:
            raise ApiError(
                400,
                "ValidationException",
                f"1 validation error detected: Value '{wanted}' at 'reservedConcurrentExecutions'"
                " failed to satisfy constraint: Member must have value greater than or equal to 0",
            )
        others = self._reserved(but=service.function.name)
        if self._account - others - wanted < UNRESERVED_MINIMUM:
            raise ApiError(
                400,
                "InvalidParameterValueException",
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{UNRESERVED_MINIMUM}].",
            )
        service.reserve(wanted)
        return ok({"ReservedConcurrentExecutions": wanted})

    async def get(self, request: Request, match: re.Match[str]) -> Response:
        reserved = self._service(match).reserved
        return ok({} if reserved is None else {"ReservedConcurrentExecutions": reserved})

    async def delete(self, request: Request, match: re.Match[str]) -> Response:
        self._service(match).reserve(None)
        return ok(None, 204)

    async def account(self, request: Request, match: re.Match[str]) -> Response:
        limit = {
            **_LIMITS,
            "ConcurrentExecutions": self._account,
            "UnreservedConcurrentExecutions": self._account - self._reserved(),
        }
        usage = {"TotalCodeSize": 0, "FunctionCount": len(self._services)}
        return ok({"AccountLimit": limit, "AccountUsage": usage})

    def _service(self, match: re.Match[str]) -> FunctionService:
        name, qualifier = function_name(match["FunctionName"], None)
        service = self._services.get(name)
        if service is None:
            raise not_found(name, qualifier)
        if qualifier is not None:  # reserved concurrency is the function's, not a version's
            raise ApiError(
                400,
                "InvalidParameterValueException",
                "This operation is not supported on a qualified function ARN",
            )
        return service

    def _reserved(self, but: str | None = None) -> int:
        return sum(service.reserved or 0 for name, service in self._services.items() if name != but)
