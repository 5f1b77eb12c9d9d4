"""The stand-in for Lambda's ``/opt``: a function's layer directories merged, for one
environment.

A temporary directory with a copy of the layers, made when the environment
starts (so each new environment sees the layers as they are then) and removed
when it is gone. A copy, not links: each environment gets "a dedicated copy
of [...] any AWS Lambda layers selected for your function version" (Security
Overview of AWS Lambda, "Lambda isolation technologies"), so what a function
writes there (``__pycache__`` included) never reaches a layer's own files, a
published version's or another environment's. Which entry wins where several
layers have one is :func:`emulator.core.layers.sources`'s decision.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Sequence

from emulator.core.layers import layer_variables, sources

__all__ = ["OptDir", "with_layers"]


class OptDir:
    """The merged layers at :attr:`path` (a new directory in ``parent``, by default the
    system's temporary directory), until :meth:`close`."""

    def __init__(self, layers: Sequence[str], parent: str | None = None) -> None:
        self.path = tempfile.mkdtemp(prefix="emulator-opt-", dir=parent)
        try:
            _merge(list(layers), self.path)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _merge(folders: list[str], target: str) -> None:
    """Fill ``target`` with the entries of ``folders``, a later folder's winning."""
    names: dict[str, list[tuple[str, bool]]] = {}
    for folder in folders:
        with os.scandir(folder) as entries:
            for entry in entries:
                names.setdefault(entry.name, []).append((entry.path, entry.is_dir()))
    for name, found in sorted(names.items()):
        chosen = [found[index][0] for index in sources([is_dir for _, is_dir in found])]
        where = os.path.join(target, name)
        if len(chosen) == 1 and os.path.isdir(chosen[0]):
            shutil.copytree(chosen[0], where, symlinks=True)
        elif len(chosen) == 1:
            shutil.copy2(chosen[0], where, follow_symlinks=False)
        else:
            os.mkdir(where)
            _merge(chosen, where)


def with_layers(
    layers: Sequence[str], env: dict[str, str], parent: str | None = None
) -> OptDir | None:
    """The merged ``layers`` (None without any) in ``parent``, ``env`` updated to show
    them to a runtime run by this Python (our bootstrap runs the emulator's own:
    RIC_PYTHON)."""
    if not layers:
        return None
    opt = OptDir(layers, parent)
    env.update(layer_variables(opt.path, (sys.version_info[0], sys.version_info[1]), env))
    return opt
