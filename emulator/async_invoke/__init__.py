"""Asynchronous invocation: the durable queue's driver, its retries and destinations."""

from __future__ import annotations

__all__: list[str] = []
