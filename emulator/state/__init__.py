"""The emulator's durable state: one SQLite database in the state directory."""

from __future__ import annotations

__all__: list[str] = []
