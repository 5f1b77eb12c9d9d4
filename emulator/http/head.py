"""Pieces of a request head as h11 hands them over, turned into the seam's values."""

from __future__ import annotations

from collections.abc import Iterable

import h11

__all__ = ["address", "fields", "head_size"]


def fields(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Header or trailer fields: names lower-cased by h11, repeats joined (RFC 9110 5.3)."""
    joined: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1")
        text = value.decode("utf-8", "replace")
        joined[key] = f"{joined[key]}, {text}" if key in joined else text
    return joined


def head_size(event: h11.Request) -> int:
    """About the bytes of the head: request line and fields, with their separators."""
    size = sum(len(name) + len(value) + 4 for name, value in event.headers.raw_items())
    return len(event.method) + len(event.target) + 12 + size


def address(value: object) -> tuple[str, int] | None:
    # IPv6 addresses come with flow info and scope id: host and port are enough.
    if isinstance(value, tuple) and len(value) >= 2:
        return str(value[0]), int(value[1])
    return None
