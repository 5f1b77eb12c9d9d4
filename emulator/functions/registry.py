"""The functions of the emulator: each one's ``$LATEST``, published versions and aliases,
and the concurrency they share.

"Lambda function versions" (configuration-versions.html) and "aliases"
(configuration-aliases.html): a qualifier names ``$LATEST``, a version, or an
alias that routes to one or two versions. Each version is served by a
:class:`FunctionService` of its own, so its environments are its own.
"Configuring reserved concurrency" (configuration-concurrency.html): a
function's reservation caps the invocations of all its versions together;
the functions without one share what the account has unreserved, and a call
beyond that is throttled with ``ConcurrentInvocationLimitExceeded``.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from emulator.config import FunctionConfig
from emulator.core.invocation import Invocation, Outcome
from emulator.core.placement import ACCOUNT_LIMIT, RESERVED_LIMIT, Throttled
from emulator.core.routing import LATEST, Alias
from emulator.environments.driver import Host
from emulator.functions.revision import Facts, Revision
from emulator.functions.service import FunctionService, Provisioned

__all__ = ["Account", "Function", "LiveConfigs", "ProvisionedConfig", "Qualified", "Target"]


@dataclass(frozen=True)
class ProvisionedConfig:
    """A PutProvisionedConcurrencyConfig: how many, and when it was put."""

    requested: int
    modified: float


def _shares(alias: Alias | None, qualifier: str, count: int) -> list[tuple[str, int]]:
    """How ``count`` environments are spread over the versions ``qualifier`` runs."""
    if alias is None:
        return [(qualifier, count)]
    others = [(version, round(count * weight)) for version, weight in alias.weights.items()]
    return [(alias.version, count - sum(n for _, n in others)), *others]


@dataclass(frozen=True)
class Target:
    """What serves one invocation: a version's service, and that version."""

    service: FunctionService
    version: str


class Account:
    """The account's concurrency (``--account-concurrency``) and its functions, by name."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.functions: dict[str, Function] = {}

    def reserved(self, but: str | None = None) -> int:
        """The concurrency reserved by the functions (but one)."""
        return sum(f.reserved or 0 for name, f in self.functions.items() if name != but)

    def gate(self, function: Function) -> Throttled | None:
        """Whether ``function`` may start one more invocation on demand."""
        if function.reserved is not None:
            if function.held < function.reserved:
                return None
            return Throttled(function.reserved, RESERVED_LIMIT)
        unreserved = self.concurrency - self.reserved()
        held = sum(f.held for f in self.functions.values() if f.reserved is None)
        return None if held < unreserved else Throttled(unreserved, ACCOUNT_LIMIT)

    def freed(self) -> None:
        """Room was made somewhere: every line that may move, moves."""
        for function in list(self.functions.values()):
            function.serve()


class Function:
    """One function: ``$LATEST``, its published versions, its aliases, its reservation."""

    def __init__(
        self,
        config: FunctionConfig,
        host: Host,
        account: Account,
        now: float,
        draw: Callable[[], float] | None = None,
    ) -> None:
        self.name = config.name
        self._host = host
        self._account = account
        self._draw = draw or random.Random().random
        self.latest = self._service(config)
        self.revision = Revision(now)
        self.versions: dict[str, tuple[FunctionService, Facts]] = {}
        self.aliases: dict[str, Alias] = {}
        self.reserved: int | None = config.reserved_concurrency
        # Provisioned concurrency, by the qualifier it was put on (a version or an alias).
        self.provisioned: dict[str, ProvisionedConfig] = {}
        self._serving = False
        account.functions[self.name] = self

    @property
    def config(self) -> FunctionConfig:
        """``$LATEST``'s configuration, as it is now."""
        return self.latest.function

    def facts(self) -> Facts:
        """``$LATEST``'s RevisionId, code hash and the rest, as of now."""
        return self.revision.facts(self.config.code_dir)

    @property
    def services(self) -> list[FunctionService]:
        return [self.latest, *(service for service, _ in self.versions.values())]

    @property
    def held(self) -> int:
        return sum(service.held for service in self.services)

    def reserve(self, reserved: int | None) -> None:
        """Set or remove the reserved concurrency; the lines it makes room for move."""
        self.reserved = reserved
        self._account.freed()

    def serve(self) -> None:
        if self._serving:  # a grant given back frees a slot: no second pass inside the first
            return
        self._serving = True
        try:
            for service in self.services:
                service.serve()
        finally:
            self._serving = False

    def has(self, qualifier: str | None) -> bool:
        """Whether ``qualifier`` names ``$LATEST``, a published version or an alias."""
        return (
            qualifier in (None, LATEST) or qualifier in self.versions or qualifier in self.aliases
        )

    def resolve(self, qualifier: str | None) -> Target | None:
        """The version a qualifier runs (an alias draws among its versions), or None."""
        if qualifier is None or qualifier == LATEST:
            return Target(self.latest, LATEST)
        alias = self.aliases.get(qualifier)
        version = alias.pick(self._draw()) if alias is not None else qualifier
        service = self.version(version)
        return None if service is None else Target(service, version)

    async def run(
        self, invocation: Invocation, qualifier: str | None
    ) -> tuple[Outcome | Throttled, str] | None:
        """An asynchronous attempt: waits in line for capacity (AsyncInvoker's Service)."""
        target = self.resolve(qualifier)
        if target is None:
            return None
        return await target.service.invoke(invocation, wait=True), target.version

    def provision(self) -> None:
        """Each version's provisioned environments, from the configs as they are now: an
        alias's go to its versions by their weights."""
        counts: Counter[str] = Counter()
        for qualifier, config in self.provisioned.items():
            for version, count in _shares(self.aliases.get(qualifier), qualifier, config.requested):
                counts[version] += count
        for number, (service, _) in self.versions.items():
            service.provision(counts[number])

    @property
    def provisioned_total(self) -> int:
        return sum(config.requested for config in self.provisioned.values())

    def provisioned_state(self, qualifier: str) -> Provisioned:
        """What the config on ``qualifier`` has come to, over the versions it covers."""
        config = self.provisioned[qualifier]
        states = [
            service.provisioned
            for version, _ in _shares(self.aliases.get(qualifier), qualifier, config.requested)
            if (service := self.version(version)) is not None
        ]
        reasons = [state.reason for state in states if state.reason is not None]
        ready = min(config.requested, sum(state.ready for state in states))
        return Provisioned(config.requested, ready, reasons[0] if reasons else None)

    def version(self, version: str) -> FunctionService | None:
        """The service of ``$LATEST`` or of a published version."""
        if version == LATEST:
            return self.latest
        published = self.versions.get(version)
        return None if published is None else published[0]

    def add_version(self, config: FunctionConfig, facts: Facts, start: bool) -> FunctionService:
        service = self._service(config)
        self.versions[config.version] = (service, facts)
        if start:
            service.start()
        return service

    def _service(self, config: FunctionConfig) -> FunctionService:
        gate = lambda: self._account.gate(self)  # noqa: E731
        return FunctionService(config, self._host, gate, self._account.freed)

    def start(self) -> None:
        for service in self.services:
            service.start()

    def shutdown(self) -> None:
        for service in self.services:
            service.shutdown()

    async def close(self) -> None:
        for service in self.services:
            await service.close()


class Qualified:
    """A function through one qualifier, resolved at each invocation: an event source
    mapping's function (an alias's version is drawn per batch)."""

    def __init__(self, function: Function, qualifier: str | None) -> None:
        self._function = function
        self._qualifier = qualifier

    @property
    def function(self) -> FunctionConfig:
        return self._function.config

    @property
    def arn(self) -> str:
        """The function's ARN, qualified as it was named."""
        return self._function.config.qualified_arn(self._qualifier)

    async def invoke(self, invocation: Invocation) -> Outcome | Throttled:
        target = self._function.resolve(self._qualifier)
        if target is None:  # its alias was deleted: the batch goes back to the queue
            return Throttled(0)
        return await target.service.invoke(invocation)


class LiveConfigs(Mapping[str, FunctionConfig]):
    """Each function's ``$LATEST`` configuration as it is now (UpdateFunctionConfiguration
    changes it), by name: what readers of configurations hold, rather than a copy."""

    def __init__(self, functions: Mapping[str, Function]) -> None:
        self._functions = functions

    def __getitem__(self, name: str) -> FunctionConfig:
        return self._functions[name].config

    def __iter__(self) -> Iterator[str]:
        return iter(self._functions)

    def __len__(self) -> int:
        return len(self._functions)
