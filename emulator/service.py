"""A function's environments: which one serves an invocation, and their lifecycle.

Warm environments are reused; new ones are started up to the function's
concurrency; an environment that timed out, crashed or failed its init is
retired, and one idle for too long is shut down. Asynchronous invocations wait
for capacity instead of being throttled, and a function error is retried twice,
as Lambda does for the ``Event`` invocation type
("Asynchronous invocation": https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time

from emulator.config import FunctionConfig
from emulator.environment import Environment, function_error
from emulator.errors import ApiError
from emulator.logs import LogSink
from emulator.scheduler import EnvState, Pool
from emulator.state import Invocation, Outcome, Phase

__all__ = ["ASYNC_RETRIES", "FunctionService"]

ASYNC_RETRIES = 2
_REAP_EVERY_S = 1.0
# How long an invoke waits for a slot an environment is giving back (its
# runtime has answered and is about to ask for the next event) before a 429.
_RETURN_WAIT_S = 1.0


class FunctionService:
    """Serves the invocations of one function."""

    def __init__(self, function: FunctionConfig, sink: LogSink, retry_delay_s: float = 1.0):
        self.function = function
        self._sink = sink
        self._pool = Pool(function.name, function.concurrency, function.max_concurrency)
        self._envs: dict[int, Environment] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._retry_delay_s = retry_delay_s
        self._freed = asyncio.Event()
        self._reaper: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._reaper = asyncio.ensure_future(self._reap())

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            await asyncio.gather(self._reaper, return_exceptions=True)
        for env in list(self._envs.values()):
            self._retire(env)
        await asyncio.gather(*self._closing, return_exceptions=True)

    async def invoke(self, invocation: Invocation) -> tuple[Outcome, list[str]]:
        """Run ``invocation`` now; raises the 429 answer at the concurrency limit."""
        env_id, new = await self._acquire()
        if new:
            env = Environment(env_id, self.function, self._sink, self._free, self._retire)
            self._envs[env_id] = env
            try:
                await env.start()
            except OSError as exc:
                self._retire(env)
                return _entrypoint_error(invocation, exc), []
        else:
            env = self._envs[env_id]
        outcome, lines = await env.invoke(invocation)
        if not env.alive:
            self._retire(env)  # the caller has its answer now; the shutdown goes on
        return outcome, lines

    async def _acquire(self) -> tuple[int, bool]:
        """A slot; when the only ones left are being given back, wait a moment for one."""
        deadline = time.monotonic() + _RETURN_WAIT_S
        while True:
            try:
                env_id, new = self._pool.acquire()
            except ApiError:
                returning = any(env.returning for env in self._envs.values())
                if not returning or time.monotonic() > deadline:
                    raise
                await self._wait_freed(deadline - time.monotonic())
                continue
            if new or self._envs[env_id].alive:
                return env_id, new
            self._retire(self._envs[env_id])  # died while idle

    def _free(self, env: Environment) -> None:
        self._pool.release(env.id)
        self._freed.set()

    async def invoke_async(self, event: Invocation) -> None:
        """An ``Event`` invocation: queued until there is capacity, retried on error.

        Each attempt keeps the request id the caller got with its 202, as Lambda's retries do.
        """
        for attempt in range(ASYNC_RETRIES + 1):
            invocation = dataclasses.replace(event, phase=Phase.QUEUED, outcome=None)
            outcome, _ = await self._when_free(invocation)
            if not outcome.failed:
                return
            if attempt < ASYNC_RETRIES:
                self._sink.write(
                    self.function.name,
                    f"asynchronous invocation {invocation.request_id} failed; "
                    f"retry {attempt + 1} of {ASYNC_RETRIES} in {self._retry_delay_s:g} s",
                )
                await asyncio.sleep(self._retry_delay_s)

    async def _when_free(self, invocation: Invocation) -> tuple[Outcome, list[str]]:
        while True:
            try:
                return await self.invoke(invocation)
            except ApiError as exc:
                if exc.status != 429:
                    raise
            await self._wait_freed(0.5)

    async def _wait_freed(self, seconds: float) -> None:
        self._freed.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._freed.wait(), max(seconds, 0.0))

    def _retire(self, env: Environment) -> None:
        """Take the environment out of service now; its shutdown runs on its own."""
        if self._envs.pop(env.id, None) is None:
            return
        self._pool.retire(env.id)
        self._freed.set()
        task = asyncio.ensure_future(env.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(_REAP_EVERY_S)
            now = time.monotonic()
            for env in list(self._envs.values()):
                idle = self._pool.state(env.id) is EnvState.IDLE
                if idle and now - env.last_used > self.function.idle_s:
                    self._sink.write(self.function.name, f"shutting down idle environment {env.id}")
                    self._retire(env)


def _entrypoint_error(invocation: Invocation, exc: OSError) -> Outcome:
    message = f"RequestId: {invocation.request_id} Error: Couldn't start the runtime: {exc}"
    return function_error("exit", "Runtime.InvalidEntrypoint", message)
