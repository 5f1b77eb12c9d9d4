"""The state directory's database: queued asynchronous events, event invoke configs,
and the documents of what the control plane made (published versions, aliases).

One SQLite file (``state.db``, standard library ``sqlite3``) in WAL mode with
``synchronous=NORMAL``: a committed write is in the write-ahead log before
the call returns, so it survives the emulator being stopped or killed
(SIGKILL included), though not the machine losing power (``FULL`` would
fsync each commit). Every call runs on one thread of its own, where the
connection lives, so the event loop never blocks on the disk. One emulator
at a time may use a directory: an exclusive lock on ``lock`` says so, and a
second one is refused with the path and the way out.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import sqlite3
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, TypeVar

from emulator.core.retry import EventState
from emulator.errors import ConfigError

__all__ = ["QueuedEvent", "StateStore"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS async_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    function TEXT NOT NULL,
    qualifier TEXT,
    request_id TEXT NOT NULL,
    payload BLOB NOT NULL,
    trace_id TEXT NOT NULL,
    function_arn TEXT NOT NULL,
    tenant_id TEXT,
    received_at REAL NOT NULL,
    due_at REAL NOT NULL,
    invocations INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    backoffs INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS event_invoke_configs (
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (function, qualifier)
);
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL,
    function TEXT NOT NULL,
    key TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (kind, function, key)
);
"""


@dataclass(frozen=True)
class QueuedEvent:
    """One asynchronous event as the queue keeps it (``id`` 0 until it is stored)."""

    function: str
    qualifier: str | None
    request_id: str
    payload: bytes
    trace_id: str
    function_arn: str
    due_at: float
    state: EventState
    tenant_id: str | None = None
    id: int = 0


class StateStore:
    """The database, behind one thread; ``folder`` None keeps it in memory (tests)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._lock: IO[str] | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="emulator-state")
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        if self.folder is not None:
            self._lock = _locked(self.folder)
        await self._run(self._connect)

    async def close(self) -> None:
        await self._run(self._disconnect)
        self._thread.shutdown()
        if self._lock is not None:
            self._lock.close()

    # -- asynchronous events --------------------------------------------------------

    async def add_event(self, event: QueuedEvent) -> QueuedEvent:
        """Store ``event``; the stored event, with its id. Durable when this returns."""

        def add(db: sqlite3.Connection) -> int:
            state = event.state
            cursor = db.execute(
                "INSERT INTO async_events (function, qualifier, request_id, payload, trace_id,"
                " function_arn, tenant_id, received_at, due_at, invocations, retries, backoffs)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event.function, event.qualifier, event.request_id, event.payload,
                    event.trace_id, event.function_arn, event.tenant_id, state.received_at,
                    event.due_at, state.invocations, state.retries, state.backoffs,
                ),
            )  # fmt: skip
            return cursor.lastrowid or 0

        row = await self._write(add)
        return replace(event, id=row)

    async def reschedule(self, event: QueuedEvent) -> None:
        def update(db: sqlite3.Connection) -> None:
            state = event.state
            db.execute(
                "UPDATE async_events SET due_at = ?, invocations = ?, retries = ?, backoffs = ?"
                " WHERE id = ?",
                (event.due_at, state.invocations, state.retries, state.backoffs, event.id),
            )

        await self._write(update)

    async def remove_event(self, event_id: int) -> None:
        await self._write(
            lambda db: db.execute("DELETE FROM async_events WHERE id = ?", (event_id,))
        )

    async def events(self) -> list[QueuedEvent]:
        """Every queued event, in the order they were received."""

        def read(db: sqlite3.Connection) -> list[QueuedEvent]:
            rows = db.execute(
                "SELECT function, qualifier, request_id, payload, trace_id, function_arn,"
                " tenant_id, received_at, due_at, invocations, retries, backoffs, id"
                " FROM async_events ORDER BY id"
            )
            return [
                QueuedEvent(f, q, r, bytes(p), t, a, due, EventState(rec, i, ret, b), tenant, row)
                for f, q, r, p, t, a, tenant, rec, due, i, ret, b, row in rows
            ]

        return await self._read(read)

    # -- event invoke configs ---------------------------------------------------------

    async def put_config(self, function: str, qualifier: str, document: dict[str, Any]) -> None:
        text = json.dumps(document)
        await self._write(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO event_invoke_configs VALUES (?, ?, ?)",
                (function, qualifier, text),
            )
        )

    async def configs(self, function: str) -> list[dict[str, Any]]:
        def read(db: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = db.execute(
                "SELECT document FROM event_invoke_configs WHERE function = ? ORDER BY qualifier",
                (function,),
            )
            return [dict(json.loads(text)) for (text,) in rows]

        return await self._read(read)

    async def delete_config(self, function: str, qualifier: str) -> bool:
        def delete(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "DELETE FROM event_invoke_configs WHERE function = ? AND qualifier = ?",
                (function, qualifier),
            )
            return cursor.rowcount > 0

        return await self._write(delete)

    # -- documents: (kind, function, key) to a JSON object ----------------------------

    async def put_document(
        self, kind: str, function: str, key: str, document: Mapping[str, Any]
    ) -> None:
        text = json.dumps(document)
        await self._write(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?)", (kind, function, key, text)
            )
        )

    async def documents(self, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
        """Every document of ``kind``: (function, key, document), in the order written."""

        def read(db: sqlite3.Connection) -> list[tuple[str, str, dict[str, Any]]]:
            rows = db.execute(
                "SELECT function, key, document FROM documents WHERE kind = ? ORDER BY rowid",
                (kind,),
            )
            return [(function, key, dict(json.loads(text))) for function, key, text in rows]

        return await self._read(read)

    async def delete_document(self, kind: str, function: str, key: str) -> None:
        await self._write(
            lambda db: db.execute(
                "DELETE FROM documents WHERE kind = ? AND function = ? AND key = ?",
                (kind, function, key),
            )
        )

    # -- the thread -------------------------------------------------------------------

    def _connect(self) -> None:
        path = ":memory:" if self.folder is None else str(self.folder / "state.db")
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        self._db = db

    def _disconnect(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    async def _write(self, change: Callable[[sqlite3.Connection], T]) -> T:
        def transaction() -> T:
            db = self._connection()
            with db:  # BEGIN ... COMMIT, or ROLLBACK on an error
                db.execute("BEGIN IMMEDIATE")
                return change(db)

        return await self._run(transaction)

    async def _read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        return await self._run(lambda: query(self._connection()))

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the state store is not open")
        return self._db

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, work)


def _locked(folder: Path) -> IO[str]:
    """The directory, made if need be, locked for this emulator alone."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = open(folder / "lock", "a+")  # noqa: SIM115 (held open for the emulator's life)
    except OSError as exc:
        raise ConfigError(f"state directory {folder}: {exc.strerror}") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise ConfigError(
            f"state directory {folder} is in use by another emulator; "
            "stop it, or give this one its own with --state-dir DIR"
        ) from None
    return lock
