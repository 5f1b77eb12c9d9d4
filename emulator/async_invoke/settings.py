"""Each function's asynchronous settings, as the queue applies them at each attempt.

The event invoke config (PutFunctionEventInvokeConfig's document) is kept
per function and qualifier in the state store, and in memory: written
through to the store, read from memory at each attempt (no trip to the
database's thread per attempt), so a change through the API applies to the
events already queued, as in Lambda.
A function's TOML ``async`` table is its config at start-up (written as a
Put would). The dead-letter queue is the function's own configuration, and
the retry delays the emulator's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.config import FunctionConfig
from emulator.core.destinations import Destinations
from emulator.core.retry import DEFAULT_MAX_AGE_S, DEFAULT_RETRIES, AsyncPolicy
from emulator.state.store import StateStore

__all__ = ["LATEST", "AsyncSettings", "config_document"]

LATEST = "$LATEST"


class AsyncSettings:
    """Resolves (function, qualifier) to its retry policy and destinations."""

    def __init__(self, store: StateStore, functions: Mapping[str, FunctionConfig]) -> None:
        self._store = store
        self._functions = functions
        self._documents: dict[tuple[str, str], dict[str, Any]] = {}

    async def load(self, now: float) -> None:
        """Read the stored configs, then write each function's TOML one, as a Put would."""
        for name in self._functions:
            for document in await self._store.configs(name):
                qualifier = str(document["FunctionArn"]).rsplit(":", 1)[1]
                self._documents[name, qualifier] = document
        for function in self._functions.values():
            if function.event_invoke is not None:
                document = config_document(function, LATEST, function.event_invoke, now)
                await self.put(function.name, LATEST, document)

    def get(self, name: str, qualifier: str) -> dict[str, Any] | None:
        return self._documents.get((name, qualifier))

    def listed(self, name: str) -> list[dict[str, Any]]:
        """A function's configs, by qualifier."""
        return [doc for (owner, _), doc in sorted(self._documents.items()) if owner == name]

    async def put(self, name: str, qualifier: str, document: dict[str, Any]) -> None:
        await self._store.put_config(name, qualifier, document)
        self._documents[name, qualifier] = document

    async def delete(self, name: str, qualifier: str) -> bool:
        await self._store.delete_config(name, qualifier)
        return self._documents.pop((name, qualifier), None) is not None

    def resolve(self, name: str, qualifier: str | None) -> tuple[AsyncPolicy, Destinations]:
        function = self._functions[name]
        document = self._documents.get((name, qualifier or LATEST)) or {}
        policy = AsyncPolicy(
            max_retry_attempts=int(document.get("MaximumRetryAttempts", DEFAULT_RETRIES)),
            max_event_age_s=int(document.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE_S)),
            retry_delays_s=function.retry_delays_s,
        )
        where = document.get("DestinationConfig") or {}
        destinations = Destinations(
            _destination(where, "OnSuccess"), _destination(where, "OnFailure"), function.dead_letter
        )
        return policy, destinations


def config_document(
    function: FunctionConfig, qualifier: str, fields: Mapping[str, Any], now: float
) -> dict[str, Any]:
    """The FunctionEventInvokeConfig Lambda answers: the fields given, its ARN, LastModified."""
    document: dict[str, Any] = {
        "LastModified": now,
        "FunctionArn": function.qualified_arn(qualifier),
    }
    for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig"):
        if key in fields:
            document[key] = fields[key]
    return document


def _destination(where: Mapping[str, Any], key: str) -> str | None:
    arn = (where.get(key) or {}).get("Destination")
    return str(arn) if arn else None
