"""Published versions, aliases and provisioned concurrency, kept in the state directory.

"Lambda function versions" (configuration-versions.html): ``PublishVersion``
snapshots ``$LATEST``'s code and configuration as the next version number;
when neither changed since the last version, that version is the answer and
no new one is made. Versions are numbered from 1 and never change. Their code
is copied under ``versions/NAME/N`` of the state directory (a temporary one
when the emulator keeps its state in memory); their configurations, the
aliases and the provisioned concurrency configs are documents of the state
store: all are there again when the emulator starts with the same state
directory.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from emulator.core.routing import Alias
from emulator.functions.publish import (
    copy_code,
    copy_layers,
    from_document,
    same_configuration,
    same_layers,
    to_document,
)
from emulator.functions.registry import Account, Function, ProvisionedConfig
from emulator.functions.revision import Facts
from emulator.state.store import StateStore

__all__ = ["Catalog"]

_VERSION = "version"
_ALIAS = "alias"
_PROVISIONED = "provisioned"


class Catalog:
    """Publishes versions and writes versions and aliases down."""

    def __init__(self, account: Account, store: StateStore, folder: Path | None) -> None:
        self._account = account
        self._store = store
        self._folder = folder
        self._temporary: str | None = None  # made when first needed, removed at close
        self._publishing = asyncio.Lock()  # one at a time: each takes the next number

    async def load(self) -> None:
        """The versions and aliases the state directory has, for the functions here."""
        for name, _, document in await self._store.documents(_VERSION):
            function = self._account.functions.get(name)
            if function is not None:
                facts = Facts(**document["facts"])
                function.add_version(from_document(document["config"]), facts, start=False)
        for name, _, document in await self._store.documents(_ALIAS):
            function = self._account.functions.get(name)
            if function is not None:
                alias = Alias(**document)
                function.aliases[alias.name] = alias
        for name, qualifier, document in await self._store.documents(_PROVISIONED):
            function = self._account.functions.get(name)
            if function is not None:
                function.provisioned[qualifier] = ProvisionedConfig(**document)

    async def put_provisioned(
        self, function: Function, qualifier: str, config: ProvisionedConfig
    ) -> None:
        """Provisioned concurrency on a version or alias; its environments start now."""
        await self._store.put_document(
            _PROVISIONED, function.name, qualifier, dataclasses.asdict(config)
        )
        function.provisioned[qualifier] = config
        function.provision()

    async def delete_provisioned(self, function: Function, qualifier: str) -> None:
        await self._store.delete_document(_PROVISIONED, function.name, qualifier)
        if function.provisioned.pop(qualifier, None) is not None:
            function.provision()

    async def publish(self, function: Function, description: str, now: float) -> tuple[str, bool]:
        """The version ``$LATEST`` is now, and whether it was made by this call."""
        async with self._publishing:
            return await self._publish(function, description, now)

    async def _publish(self, function: Function, description: str, now: float) -> tuple[str, bool]:
        latest = function.config
        facts = await asyncio.to_thread(function.facts)
        if function.versions:
            number = max(function.versions, key=int)
            service, last = function.versions[number]
            last_config = service.function
            if (
                last.code_sha256 == facts.code_sha256
                and same_configuration(last_config, latest)
                and await asyncio.to_thread(same_layers, latest.layers, last_config.layers)
            ):
                return number, False
        number = str(max((int(v) for v in function.versions), default=0) + 1)
        code = self._root() / "versions" / function.name / number
        await asyncio.to_thread(copy_code, latest.code_dir, code)
        layers = await asyncio.to_thread(
            copy_layers, latest.layers, code.with_name(f"{number}.layers")
        )
        config = dataclasses.replace(
            latest, version=number, code_dir=str(code), watch=False, url=None, layers=layers
        )
        extra = {**facts.extra, "Description": description}
        facts = Facts(str(uuid.uuid4()), now, facts.code_size, facts.code_sha256, extra)
        document: dict[str, Any] = {
            "config": to_document(config),
            "facts": dataclasses.asdict(facts),
        }
        await self._store.put_document(_VERSION, function.name, number, document)
        function.add_version(config, facts, start=True)
        return number, True

    async def put_alias(self, function: Function, alias: Alias) -> Alias:
        """Make or change an alias (its RevisionId is new)."""
        alias = dataclasses.replace(alias, revision_id=str(uuid.uuid4()))
        await self._store.put_document(_ALIAS, function.name, alias.name, dataclasses.asdict(alias))
        function.aliases[alias.name] = alias
        function.provision()  # its provisioned environments follow where it points
        return alias

    async def delete_alias(self, function: Function, name: str) -> None:
        """The alias, and its provisioned concurrency with it."""
        await self._store.delete_document(_ALIAS, function.name, name)
        function.aliases.pop(name, None)
        await self.delete_provisioned(function, name)

    def close(self) -> None:
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)

    def _root(self) -> Path:
        if self._folder is not None:
            return self._folder
        if self._temporary is None:
            self._temporary = tempfile.mkdtemp(prefix="ric-emulator-")
        return Path(self._temporary)
