"""emulator.state.store: queued events and event invoke configs, kept across restarts."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from emulator.core.retry import EventState
from emulator.errors import ConfigError
from emulator.state.store import QueuedEvent, StateStore

EVENT = QueuedEvent(
    "fn", None, "rid", b'{"a": 1}', "Root=1-x", "arn:fn", 10.0, EventState(10.0), "tenant"
)


def test_events_and_configs_outlive_the_store_that_wrote_them(tmp_path: Path) -> None:
    async def first() -> int:
        store = StateStore(tmp_path)
        await store.open()
        stored = await store.add_event(EVENT)
        second = await store.add_event(EVENT)
        await store.reschedule(replace(stored, due_at=70.0, state=EventState(10.0, 1, 1, 0)))
        await store.remove_event(second.id)
        await store.put_config("fn", "$LATEST", {"MaximumRetryAttempts": 1})
        await store.put_config("fn", "$LATEST", {"MaximumRetryAttempts": 0})
        await store.close()
        return stored.id

    async def second() -> tuple[list[QueuedEvent], object, bool, bool]:
        store = StateStore(tmp_path)
        await store.open()
        try:
            events = await store.events()
            configs = await store.configs("fn")
            deleted = await store.delete_config("fn", "$LATEST")
            again = await store.delete_config("fn", "$LATEST")
        finally:
            await store.close()
        return events, configs, deleted, again

    kept_id = asyncio.run(first())
    events, configs, deleted, again = asyncio.run(second())
    assert events == [
        replace(EVENT, id=kept_id, due_at=70.0, state=EventState(10.0, 1, 1, 0))
    ]  # fmt: skip
    assert configs == [{"MaximumRetryAttempts": 0}]
    assert (deleted, again) == (True, False)


def test_a_second_store_on_one_directory_is_refused(tmp_path: Path) -> None:
    async def main() -> None:
        store = StateStore(tmp_path)
        await store.open()
        try:
            with pytest.raises(ConfigError, match="is in use by another emulator"):
                await StateStore(tmp_path).open()
        finally:
            await store.close()
        again = StateStore(tmp_path)  # free once the first is closed
        await again.open()
        await again.close()

    asyncio.run(main())


def test_a_directory_that_cannot_be_made_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")

    async def main() -> None:
        await StateStore(tmp_path / "file" / "state").open()

    with pytest.raises(ConfigError, match=r"state directory .*file/state"):
        asyncio.run(main())


def test_without_a_directory_the_state_is_in_memory() -> None:
    async def main() -> list[QueuedEvent]:
        store = StateStore(None)
        await store.open()
        await store.add_event(EVENT)
        events = await store.events()
        await store.close()
        return events

    assert [event.request_id for event in asyncio.run(main())] == ["rid"]
