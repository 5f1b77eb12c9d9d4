"""The clients a run measures: how each is started, and from which tree its code comes.

``ric`` is this checkout's (``PYTHONPATH`` is the checkout, so that the code
measured is the code in the tree, whatever the venv has installed);
``ric@baseline`` is ``ric`` of another tree, copied out of it and compiled;
``awslambdaric`` is the installed reference; ``floor`` a minimal loop.
"""

from __future__ import annotations

import compileall
import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BASELINE",
    "HERE",
    "REFERENCE",
    "ROOT",
    "Client",
    "baseline_client",
    "compile_tree",
    "default_clients",
    "named_client",
]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
REFERENCE = "awslambdaric"
BASELINE = "ric@baseline"


@dataclass(frozen=True)
class Client:
    """A client command (``{handler}`` stands for the handler) and the path it imports from."""

    name: str
    template: tuple[str, ...]
    pythonpath: str = str(ROOT)

    def argv(self, handler: str) -> list[str]:
        return [part.format(handler=handler) for part in self.template]

    def env(self) -> dict[str, str]:
        """The environment Lambda gives a runtime, as far as the clients look at it."""
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPATH"] = self.pythonpath
        env["AWS_LAMBDA_FUNCTION_NAME"] = "bench"
        env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "128"
        env["LAMBDA_TASK_ROOT"] = str(HERE)
        return env

    def module_form(self) -> tuple[str, list[str]] | None:
        """``(module, args)`` of a ``python -m MODULE ...`` command, else None."""
        if len(self.template) > 2 and self.template[1] == "-m":
            return self.template[2], list(self.template[3:])
        return None

    def shown(self) -> str:
        """The command line as a results file records it."""
        path = "" if self.pythonpath == str(ROOT) else f"PYTHONPATH={self.pythonpath} "
        return path + " ".join(self.template)


def default_clients() -> list[Client]:
    return [
        Client("ric", (PY, "-m", "ric", "{handler}")),
        Client(REFERENCE, (PY, "-m", "awslambdaric", "{handler}")),
        Client("floor", (PY, str(HERE / "floor.py"), "{handler}")),
    ]


def named_client(spec: str) -> Client:
    """``NAME=COMMAND`` from the command line; the command runs with the checkout's path."""
    name, sep, command = spec.partition("=")
    if not sep or not name or not command.strip():
        raise ValueError(f"--client wants NAME=COMMAND, not {spec!r}")
    return Client(name, tuple(shlex.split(command)))


def compile_tree(package: Path) -> None:
    """Byte-compile a package as an installed one is, so no start pays for compiling."""
    compileall.compile_dir(str(package), quiet=1)


def baseline_client(tree: Path, workdir: Path) -> Client:
    """``ric`` as of ``tree``: its ``ric/`` copied into ``workdir`` and compiled there.

    The copy leaves ``tree`` untouched (no ``__pycache__`` is written into it),
    and ``PYTHONPATH`` puts the copy ahead of the installed ``ric``.
    """
    source = tree / "ric"
    if not (source / "__main__.py").is_file():
        raise ValueError(f"--baseline {tree}: no ric/__main__.py there")
    target = workdir / "ric"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    compile_tree(target)
    return Client(BASELINE, (PY, "-m", "ric", "{handler}"), pythonpath=str(workdir))
