"""The emulator's event source mappings: create, change and delete them, and run their pollers.

Each operation answers at once with the mapping in its new, passing state
(``Creating``, ``Enabling``, ``Disabling``, ``Updating``, ``Deleting``), as
Lambda's 202s do; the poller starts or stops in the background, and then the
mapping settles (``Enabled``, ``Disabled``) or is gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping as Document
from collections.abc import Sequence
from typing import Any

from emulator.core.events import EventBus, Notice
from emulator.core.invocation import Ids
from emulator.core.lifecycle import Clock
from emulator.core.mappings import InvalidMapping, Mapping, settings_from
from emulator.functions.registry import Function, Qualified
from emulator.sources.poller import MappingCounters, Poller
from emulator.sqs import SqsGateway, SqsUnavailable

__all__ = ["MappingExists", "MappingService", "NoSuchFunction", "NoSuchMapping"]


class NoSuchMapping(LookupError):
    """No mapping has this UUID."""


class NoSuchFunction(LookupError):
    """No function has this name (or qualifier)."""


class MappingExists(Exception):
    """The function already has a mapping of this queue: ``uuid``'s."""

    def __init__(self, uuid: str) -> None:
        super().__init__(uuid)
        self.uuid = uuid


class MappingService:
    """Every mapping of the emulator, by UUID, in the order they were made."""

    def __init__(
        self,
        functions: Document[str, Function],
        sqs: SqsGateway,
        ids: Ids,
        clock: Clock,
        bus: EventBus,
    ) -> None:
        self._functions = functions
        self._sqs = sqs
        self._ids = ids
        self._clock = clock
        self._bus = bus
        self._mappings: dict[str, Mapping] = {}
        self._pollers: dict[str, Poller] = {}
        self.counters: dict[str, MappingCounters] = {}
        self._changes: set[asyncio.Task[None]] = set()
        self._closing = False

    def get(self, uuid: str) -> Mapping:
        mapping = self._mappings.get(uuid)
        if mapping is None:
            raise NoSuchMapping(uuid)
        return mapping

    def list(self, function_arn: str | None, source_arn: str | None) -> list[Mapping]:
        return [
            m
            for m in self._mappings.values()
            if function_arn in (None, m.function_arn) and source_arn in (None, m.source_arn)
        ]

    def service(self, function: str) -> Qualified:
        """The function named, by name or ARN, through its qualifier (a version or alias)."""
        name = function.split(":function:", 1)[-1]
        name, _, qualifier = name.partition(":")
        found = self._functions.get(name)
        if found is None or not found.has(qualifier or None):
            raise NoSuchFunction(function)
        return Qualified(found, qualifier or None)

    async def create(self, request: Document[str, Any]) -> Mapping:
        """A new mapping, ``Creating`` while its poller starts."""
        service = self.service(str(request.get("FunctionName", "")))
        source = request.get("EventSourceArn")
        if not isinstance(source, str):
            raise InvalidMapping("EventSourceArn is required for an SQS event source")
        attributes = await self._queue(source)
        settings = settings_from(request, "FifoQueue" in attributes)
        arn = service.arn
        for other in self._mappings.values():
            if other.function_arn == arn and other.source_arn == source:
                raise MappingExists(other.uuid)
        now = self._clock.time()
        mapping = Mapping(
            self._ids.request_id(),
            function_arn=arn,
            source_arn=source,
            settings=settings,
            region=service.function.region,
            now=now,
        )
        self._mappings[mapping.uuid] = mapping
        self.counters[mapping.uuid] = MappingCounters()
        self._change(mapping, self._apply(mapping))
        return mapping

    async def update(self, uuid: str, request: Document[str, Any]) -> Mapping:
        mapping = self.get(uuid)
        if "FunctionName" in request:
            self.service(str(request["FunctionName"]))  # exists; a mapping keeps its function
        attributes = await self._queue(mapping.source_arn)
        settings = settings_from(request, "FifoQueue" in attributes, mapping.settings)
        mapping.update(settings, self._clock.time())
        self._change(mapping, self._apply(mapping))
        return mapping

    async def delete(self, uuid: str) -> Mapping:
        mapping = self.get(uuid)
        mapping.delete(self._clock.time())
        self._change(mapping, self._remove(mapping))
        return mapping

    async def start(self, requests: Sequence[Document[str, Any]]) -> None:
        """Create the configured mappings (the TOML file's) and wait until they settle.

        On the embedded SQS server, which starts empty, their queues are made first.
        """
        mappings = []
        for request in requests:
            if self._sqs.embedded and isinstance(request.get("EventSourceArn"), str):
                await self._sqs.create_queue(str(request["EventSourceArn"]))
            mappings.append(await self.create(request))
        await asyncio.gather(*self._changes, return_exceptions=True)
        for mapping in mappings:
            self._notice(mapping, f"polling {mapping.source_arn} ({mapping.state.value})")

    def halt(self) -> None:
        """No poller receives from now on: the emulator is stopping."""
        self._closing = True
        for poller in self._pollers.values():
            poller.halt()

    async def close(self) -> None:
        """Stop every poller: nothing more is received; batches in the function end."""
        self.halt()
        await asyncio.gather(*self._changes, return_exceptions=True)
        await asyncio.gather(*(poller.stop() for poller in self._pollers.values()))
        self._pollers.clear()

    async def _queue(self, arn: str) -> dict[str, str]:
        try:
            return await self._sqs.queue_attributes(await self._sqs.queue_url(arn))
        except SqsUnavailable as exc:
            raise InvalidMapping(f"Cannot reach the queue {arn}: {exc}") from None

    def _change(self, mapping: Mapping, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._changes.add(task)
        task.add_done_callback(self._changes.discard)

    async def _apply(self, mapping: Mapping) -> None:
        """Stop the old poller, start one with the settings if enabled, then settle."""
        poller = self._pollers.pop(mapping.uuid, None)
        if poller is not None:
            await poller.stop()
        if mapping.settings.enabled and not self._closing:
            await self._poll(mapping)
        mapping.settle()

    async def _poll(self, mapping: Mapping) -> None:
        url = await self._sqs.queue_url(mapping.source_arn)
        service = self.service(mapping.function_arn)
        poller = Poller(
            mapping,
            service,
            sqs=self._sqs,
            ids=self._ids,
            clock=self._clock,
            bus=self._bus,
            counters=self.counters[mapping.uuid],
        )
        self._pollers[mapping.uuid] = poller
        poller.start(url)

    async def _remove(self, mapping: Mapping) -> None:
        poller = self._pollers.pop(mapping.uuid, None)
        if poller is not None:
            await poller.stop()
        self._mappings.pop(mapping.uuid, None)

    def _notice(self, mapping: Mapping, text: str) -> None:
        name = self.service(mapping.function_arn).function.name
        self._bus.emit(Notice(name, f"event source mapping {mapping.uuid}: {text}"))
