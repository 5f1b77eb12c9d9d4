"""The invocations of one function: placement across its environments.

Warm environments are reused; new ones are started up to the function's
concurrency; an environment that timed out, crashed or failed its init is
retired, and one idle for too long is shut down. A synchronous invoke at the
limit is :class:`~emulator.core.placement.Throttled`, unless a slot is on its
way back, which it waits for in line a moment; an ``Event`` invocation's
attempts (:mod:`emulator.async_invoke`) wait in line for capacity.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from emulator.config import FunctionConfig
from emulator.core.events import Notice
from emulator.core.failures import shutting_down
from emulator.core.invocation import Invocation, Outcome
from emulator.core.placement import Gate, Granted, Placement, Throttled
from emulator.environments.driver import EnvironmentDriver, Host
from emulator.environments.relay import StreamRelay

__all__ = ["FunctionService", "Provisioned"]

_REAP_EVERY_S = 1.0
# How long a synchronous invoke waits in line for a slot an environment is
# giving back (its runtime answered and is about to ask for more) before a 429.
_RETURN_WAIT_S = 1.0


def _open() -> Throttled | None:
    return None


def _nothing() -> None:
    pass


@dataclass(frozen=True)
class Provisioned:
    """One version's provisioned concurrency: asked for, initialised, why it failed."""

    requested: int
    ready: int = 0
    reason: str | None = None

    @property
    def status(self) -> str:
        """As PutProvisionedConcurrencyConfig's document has it."""
        if self.reason is not None:
            return "FAILED"
        return "READY" if self.ready >= self.requested else "IN_PROGRESS"


class FunctionService:
    """Serves the invocations of one function."""

    def __init__(
        self,
        function: FunctionConfig,
        host: Host,
        gate: Gate = _open,
        on_freed: Callable[[], None] = _nothing,
    ) -> None:
        self.function = function
        self._host = host
        self._placement = Placement(function.concurrency, function.max_concurrency, gate)
        self._on_freed = on_freed  # room for the other versions' waiters, maybe
        self._envs: dict[int, EnvironmentDriver] = {}
        self._starting: dict[int, asyncio.Task[None]] = {}
        self._line: dict[int, asyncio.Future[Granted | None]] = {}
        self._numbers = itertools.count(1)
        self._closing = False
        self._stopping: set[asyncio.Task[None]] = set()  # retired environments going away
        self._reaper: asyncio.Task[None] | None = None
        # Out-of-service environments still busy, and why they go.
        self._draining: dict[int, str] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._provision = 0  # provisioned environments wanted
        self._provision_failure: str | None = None

    def start(self) -> None:
        self._reaper = asyncio.ensure_future(self._reap())
        if self.function.watch:
            self._watcher = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        """Code reload: a change under the code directory or a layer retires the warm
        environments."""
        from emulator.functions.watch import EVERY_S, FunctionWatch

        watch = FunctionWatch(self.function.code_dir, self.function.layers)
        while True:
            await asyncio.sleep(EVERY_S)
            why = watch.changed(self.function.code_dir, self.function.layers)
            if why:
                self._retire_all(why)

    @property
    def held(self) -> int:
        """What this version holds of the function's (or the account's) concurrency."""
        return self._placement.held

    def serve(self) -> None:
        """Grant waiters in line what room there is now (a shared limit moved)."""
        self._grant(self._placement.serve())

    def reconfigure(self, function: FunctionConfig) -> None:
        """New environments start with ``function``; those of the old configuration are
        retired: the idle ones now, the busy ones once their invocations have ended."""
        self.function = function
        self._retire_all("its configuration was updated")

    def _retire_all(self, why: str) -> None:
        """Every environment out of service: the idle shut down now, the busy once done."""
        for env_id in self._placement.environments:
            if self._placement.drain(env_id):
                self._draining[env_id] = why
            else:
                self._retire_old(env_id, why)
        self._on_freed()

    def _retire_old(self, env_id: int, why: str) -> None:
        env = self._envs.get(env_id)
        if env is not None:
            text = f"shutting down environment {env_id}: {why}"
            self._host.bus.emit(Notice(self.function.name, text))
            env.shutdown()

    def shutdown(self) -> None:
        """End every invocation in progress now; their callers get their answers.

        From now on no slot is granted: nothing new starts.
        """
        self._closing = True
        for future in self._line.values():
            if not future.done():
                future.set_result(None)
        for env in list(self._envs.values()):
            env.shutdown()

    async def close(self) -> None:
        """Stop every environment and wait until they are gone."""
        for task in (self._reaper, self._watcher):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self.shutdown()
        await asyncio.gather(*self._stopping, return_exceptions=True)

    async def invoke(
        self, invocation: Invocation, wait: bool = False, relay: StreamRelay | None = None
    ) -> Outcome | Throttled:
        """Run ``invocation``; ``wait``: wait in line for capacity however long it takes.

        ``relay``: where a streamed response goes as it comes (else it is read whole).
        """
        while True:
            slot = await self._slot(wait)
            if slot is None:
                return shutting_down(invocation.request_id)
            if isinstance(slot, Throttled):
                return slot
            env = self._envs.get(slot.environment)
            if env is None or not env.alive:
                continue  # it went while this caller waited: its slots with it
            if slot.new:
                await self._started(env)
            return await env.deliver(invocation, relay)

    # -- slots -----------------------------------------------------------------------

    async def _slot(self, wait: bool) -> Granted | Throttled | None:
        """A slot, throttled, or None: the emulator is shutting down."""
        if self._closing:
            return None
        waiter = next(self._numbers)
        answer = self._placement.request(waiter, wait)
        if isinstance(answer, Throttled) and not wait and self._returning():
            answer = self._placement.request(waiter, True)  # a slot is on its way back
        if isinstance(answer, Granted):
            return self._take(answer)
        if isinstance(answer, Throttled):
            return answer
        future: asyncio.Future[Granted | None] = asyncio.get_running_loop().create_future()
        self._line[waiter] = future
        try:
            return await (future if wait else asyncio.wait_for(future, _RETURN_WAIT_S))
        except asyncio.TimeoutError:
            if future.done() and not future.cancelled():  # granted as the wait ran out
                return future.result()
            return self._placement.throttled()
        finally:
            self._line.pop(waiter, None)
            self._placement.cancel(waiter)

    def _returning(self) -> bool:
        return any(env.returning for env in self._envs.values())

    def _take(self, granted: Granted) -> Granted:
        if granted.new:
            self._envs[granted.environment] = self._environment(granted.environment, False)
        return granted

    def _environment(self, env_id: int, provisioned: bool) -> EnvironmentDriver:
        return EnvironmentDriver(
            env_id,
            self.function,
            self._host,
            on_free=self._free,
            on_gone=self._retire,
            provisioned=provisioned,
        )

    # -- provisioned concurrency -----------------------------------------------------

    @property
    def provisioned(self) -> Provisioned:
        return Provisioned(self._provision, self._placement.ready, self._provision_failure)

    def provision(self, count: int) -> None:
        """Keep ``count`` environments initialised ahead of any invocation (0: none).

        More: the missing ones start now, the ready ones stay. Fewer: the surplus
        goes, idle ones first, busy ones once their invocations have ended.
        """
        if count == self._provision:
            return
        why = "its provisioned concurrency was lowered"
        for env_id in self._placement.surplus(count):
            if self._placement.drain(env_id):
                self._draining[env_id] = why
            else:
                self._retire_old(env_id, why)
        if count > self._provision:
            self._provision_failure = None  # tried again
        self._provision = count
        self._add_provisioned(count - len(self._placement.provisioned))
        self._on_freed()

    def _add_provisioned(self, count: int) -> None:
        for env_id in self._placement.provision(count):
            env = self._envs[env_id] = self._environment(env_id, True)
            task = asyncio.ensure_future(self._initialised(env))
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)

    async def _initialised(self, env: EnvironmentDriver) -> None:
        await self._started(env)
        if await env.ready():
            self._grant(self._placement.initialised(env.id))
        else:
            # As Lambda's StatusReason has it (the init's own error is in the output).
            self._provision_failure = "FUNCTION_ERROR_INIT_FAILURE"

    async def _started(self, env: EnvironmentDriver) -> None:
        task = self._starting.get(env.id)
        if task is None:
            task = self._starting[env.id] = asyncio.ensure_future(env.start())
        await asyncio.shield(task)

    def _free(self, env_id: int) -> None:
        self._grant(self._placement.release(env_id, self._host.clock.monotonic()))
        if env_id in self._draining and not self._placement.in_flight(env_id):
            self._retire_old(env_id, self._draining.pop(env_id))  # out of service, and done
        self._on_freed()

    def _retire(self, env_id: int) -> None:
        self._draining.pop(env_id, None)
        env = self._envs.pop(env_id, None)
        if env is None:
            return
        # A provisioned environment that went after its init (it crashed, or timed out)
        # is replaced, as Lambda keeps the provisioned count.
        replace = env_id in self._placement.provisioned and env.initialised and not self._closing
        self._starting.pop(env_id, None)
        task = asyncio.ensure_future(env.closed())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)
        self._grant(self._placement.retire(env_id))
        if replace:
            self._add_provisioned(1)
        self._on_freed()

    def _grant(self, grants: list[tuple[int, Granted]]) -> None:
        for waiter, granted in grants:
            future = self._line.get(waiter)
            if future is None or future.done() or self._closing:
                self._give_back(granted)  # its caller left (or the emulator stops)
            else:
                future.set_result(self._take(granted))

    def _give_back(self, granted: Granted) -> None:
        """A grant nobody takes: the slot goes back, or the environment never starts."""
        if granted.new:
            self._grant(self._placement.retire(granted.environment))
        else:
            self._free(granted.environment)

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(_REAP_EVERY_S)
            now = self._host.clock.monotonic()
            for env_id in self._placement.idle(now, self.function.idle_s):
                env = self._envs.get(env_id)
                if env is not None:
                    text = f"shutting down idle environment {env_id}"
                    self._host.bus.emit(Notice(self.function.name, text))
                    env.shutdown()
