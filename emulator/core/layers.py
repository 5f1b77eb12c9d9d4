"""Layers as Lambda's ``/opt`` shows them, without I/O: which layer's entry wins, and
the paths a runtime is given to find their contents.

"Packaging your layer content", Layer paths for each Lambda runtime
(https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html): a layer's
``python`` and ``python/lib/pythonX.Y/site-packages`` are on the Python path,
``bin`` on ``PATH``, ``lib`` on ``LD_LIBRARY_PATH``. "Adding layers to functions"
(adding-layers.html): at most five layers; they are merged into ``/opt`` in the
order they are listed, so a later layer's file replaces an earlier one's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["MAX_LAYERS", "OPT_VARIABLE", "layer_variables", "python_paths", "sources"]

MAX_LAYERS = 5
# Ours, not Lambda's: where the stand-in for /opt is, for a handler that reads a
# layer's files by path (on Lambda it reads /opt/...).
OPT_VARIABLE = "RIC_OPT_DIR"


def sources(entries: Sequence[bool]) -> tuple[int, ...]:
    """Which layers make up one entry of the merged tree, by index, in order.

    ``entries``: for each layer that has the entry, in the layers' order,
    whether it is a directory there. A file replaces whatever came before it,
    as extracting the layers one over the other does; directories from the last
    file on merge. One index: that layer's entry is taken whole; several: a
    directory made of theirs.
    """
    taken: list[int] = []
    for index in range(len(entries) - 1, -1, -1):
        if not entries[index]:  # a file: nothing before it shows
            return (index,) if not taken else tuple(reversed(taken))
        taken.append(index)
    return tuple(reversed(taken))


def python_paths(opt: str, version: tuple[int, int]) -> list[str]:
    """The layers' places on the Python path, in Lambda's order: after the task root
    and before the runtime's own ("Working with layers for Python Lambda functions")."""
    major, minor = version
    return [f"{opt}/python/lib/python{major}.{minor}/site-packages", f"{opt}/python"]


def layer_variables(opt: str, version: tuple[int, int], env: Mapping[str, str]) -> dict[str, str]:
    """The variables that make the merged layers at ``opt`` seen, given the runtime's
    variables so far: ``PATH`` ends in ``opt/bin`` and ``LD_LIBRARY_PATH`` in ``opt/lib``
    ("Defined runtime environment variables", configuration-envvars.html: PATH is
    ``/usr/local/bin:/usr/bin/:/bin:/opt/bin``, LD_LIBRARY_PATH ends in ``/opt/lib``)."""
    return {
        "PYTHONPATH": _joined(*python_paths(opt, version), env.get("PYTHONPATH", "")),
        "PATH": _joined(env.get("PATH", ""), f"{opt}/bin"),
        "LD_LIBRARY_PATH": _joined(env.get("LD_LIBRARY_PATH", ""), f"{opt}/lib"),
        OPT_VARIABLE: opt,
    }


def _joined(*parts: str) -> str:
    return ":".join(part for part in parts if part)
