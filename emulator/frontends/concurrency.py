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

from emulator.config import UNRESERVED_MINIMUM
from emulator.errors import ApiError
from emulator.frontends.control import Route, ok, read_json
from emulator.frontends.functions import unqualified
from emulator.functions.registry import Account, Function
from emulator.http import Request, Response

__all__ = ["ConcurrencyFrontend"]

_PATH = "/functions/{FunctionName}/concurrency"
# Lambda's default account limits ("Lambda quotas", gettingstarted-limits.html).
_LIMITS = {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800}


class ConcurrencyFrontend:
    """The concurrency operations over the account's functions."""

    def __init__(self, account: Account) -> None:
        self._account = account

    @property
    def routes(self) -> list[Route]:
        return [
            Route.of("PUT", "/2017-10-31" + _PATH, self.put),
            Route.of("GET", "/2019-09-30" + _PATH, self.get),
            Route.of("DELETE", "/2017-10-31" + _PATH, self.delete),
            Route.of("GET", "/2016-08-19/account-settings", self.account),
        ]

    async def put(self, request: Request, match: re.Match[str]) -> Response:
        function = self._function(match)
        wanted = (await read_json(request)).get("ReservedConcurrentExecutions")
        if not isinstance(wanted, int) or isinstance(wanted, bool) or wanted < 0:
            raise ApiError(
                400,
                "ValidationException",
                f"1 validation error detected: Value '{wanted}' at 'reservedConcurrentExecutions'"
                " failed to satisfy constraint: Member must have value greater than or equal to 0",
            )
        if wanted < function.provisioned_total:
            raise ApiError(
                400,
                "InvalidParameterValueException",
                f"ReservedConcurrentExecutions {wanted} is less than the function's provisioned "
                f"concurrency of {function.provisioned_total}",
            )
        others = self._account.reserved(but=function.name)
        if self._account.concurrency - others - wanted < UNRESERVED_MINIMUM:
            raise ApiError(
                400,
                "InvalidParameterValueException",
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{UNRESERVED_MINIMUM}].",
            )
        function.reserve(wanted)
        return ok({"ReservedConcurrentExecutions": wanted})

    async def get(self, request: Request, match: re.Match[str]) -> Response:
        reserved = self._function(match).reserved
        return ok({} if reserved is None else {"ReservedConcurrentExecutions": reserved})

    async def delete(self, request: Request, match: re.Match[str]) -> Response:
        self._function(match).reserve(None)
        return ok(None, 204)

    async def account(self, request: Request, match: re.Match[str]) -> Response:
        limit = {
            **_LIMITS,
            "ConcurrentExecutions": self._account.concurrency,
            "UnreservedConcurrentExecutions": self._account.concurrency - self._account.reserved(),
        }
        usage = {"TotalCodeSize": 0, "FunctionCount": len(self._account.functions)}
        return ok({"AccountLimit": limit, "AccountUsage": usage})

    def _function(self, match: re.Match[str]) -> Function:
        # Reserved concurrency is the function's, not a version's.
        return unqualified(self._account.functions, match["FunctionName"])
