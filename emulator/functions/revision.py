"""What the control plane shows of a function beyond its configuration: its
RevisionId, LastModified, description and role, and its code's size and hash.

``$LATEST`` has a :class:`Revision` that changes with each update; a published
version has its :class:`Facts`, fixed when it was published
(``PublishVersion``: "Creates a version from the current code and
configuration"). ``CodeSha256`` is the SHA-256 (base64) of the code
directory's files, their relative names and contents in order.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from emulator.functions.watch import Snapshot, snapshot

__all__ = ["DEFAULT_ROLE", "Facts", "Revision", "code_hash"]

DEFAULT_ROLE = "arn:aws:iam::123456789012:role/lambda-role"


def code_hash(folder: str, files: Snapshot | None = None) -> tuple[int, str]:
    """The code's size in bytes and its CodeSha256."""
    digest, size = hashlib.sha256(), 0
    for name in files if files is not None else snapshot(folder):
        with open(os.path.join(folder, name), "rb") as code:
            data = code.read()
        digest.update(name.encode() + b"\0" + data)
        size += len(data)
    return size, base64.b64encode(digest.digest()).decode()


@dataclass(frozen=True)
class Facts:
    """What a function's document shows beyond its configuration, at one moment."""

    revision_id: str
    modified: float
    code_size: int
    code_sha256: str
    extra: Mapping[str, str] = field(default_factory=dict)  # Description, Role


class Revision:
    """``$LATEST``'s RevisionId, LastModified, the fields kept only to be shown, its code's hash."""

    def __init__(self, modified: float) -> None:
        self.id = str(uuid.uuid4())
        self.modified = modified
        self.extra: dict[str, str] = {}
        self._code: tuple[Snapshot, int, str] | None = None  # (the files, size, sha256)

    def changed(self, now: float, extra: Mapping[str, str]) -> None:
        self.id = str(uuid.uuid4())
        self.modified = now
        self.extra.update(extra)

    def facts(self, folder: str) -> Facts:
        """As of now, with the code in ``folder``."""
        _, size, sha256 = self._hashed(folder)
        return Facts(self.id, self.modified, size, sha256, dict(self.extra))

    def _hashed(self, folder: str) -> tuple[Snapshot, int, str]:
        """Read again only when a file was added, changed or removed since the last time."""
        files = snapshot(folder)
        if self._code is None or self._code[0] != files:
            self._code = (files, *code_hash(folder, files))
        return self._code
