"""Code reload: what changed under a function's code directory or layers since the last look.

The directory is walked (``__pycache__`` and its top-level dot-directories,
``.git``, ``.venv`` and the like, left out) and each file's modification time
and size compared with the last walk's: no inotify, so nothing but the
standard library, at the cost of a walk every :data:`EVERY_S` seconds while
the emulator runs.
"""

from __future__ import annotations

import os

__all__ = ["EVERY_S", "CodeWatch", "FunctionWatch", "Snapshot", "snapshot"]

EVERY_S = 0.5

# Each file of a code directory, relative, with its modification time (ns) and size.
Snapshot = dict[str, tuple[int, int]]


def snapshot(folder: str) -> Snapshot:
    """The files of ``folder`` as code: ``__pycache__`` left out, and the top-level
    dot-directories (a tool's: ``.git``, ``.venv``, a state directory); a package's own,
    deeper down (``pkg/.libs`` of a wheel), are code."""
    found: Snapshot = {}
    for root, dirs, files in os.walk(folder):
        top = root == folder
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not (top and d.startswith(".")))
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                status = os.stat(path)
            except OSError:  # gone since the listing
                continue
            found[os.path.relpath(path, folder)] = (status.st_mtime_ns, status.st_size)
    return found


class CodeWatch:
    """The files of ``folder`` as of the last :meth:`changed` (the first: now)."""

    def __init__(self, folder: str) -> None:
        self._folder = folder
        self._seen = snapshot(folder)

    def changed(self) -> list[str]:
        """The files added, changed or removed since the last call, relative, sorted."""
        now = snapshot(self._folder)
        names = {
            name for name in now.keys() | self._seen.keys() if now.get(name) != self._seen.get(name)
        }
        self._seen = now
        return sorted(names)


class FunctionWatch:
    """A function's code directory and layer directories, each watched by a
    :class:`CodeWatch`; a folder first named is watched from then on."""

    def __init__(self, code_dir: str, layers: tuple[str, ...]) -> None:
        self._watches: dict[str, CodeWatch] = {}
        self.changed(code_dir, layers)

    def changed(self, code_dir: str, layers: tuple[str, ...]) -> str | None:
        """Why the environments go, naming the files that changed; None: nothing did."""
        reasons = []
        for folder in (code_dir, *layers):
            watch = self._watches.get(folder)
            if watch is None:
                self._watches[folder] = CodeWatch(folder)
                continue
            names = watch.changed()
            if names:
                what = "its code" if folder == code_dir else f"its layer {folder}"
                reasons.append(f"{what} changed ({_shown(names)})")
        return "; ".join(reasons) or None


def _shown(names: list[str]) -> str:
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ", ".join(names[:3]) + more
