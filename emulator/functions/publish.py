"""PublishVersion's snapshot: the code directory copied, the configuration written down.

"Lambda function versions" (configuration-versions.html): a version is an
immutable snapshot of the function's code and configuration. Here its code
is a copy of the code directory (``__pycache__`` and dot-directories left
out, as code reload leaves them out) under the state directory, and its
configuration a JSON document in the state store, so a version outlives the
emulator that published it. A layer directory is copied with it (a version
pins its layers as Lambda's pin layer versions); a published layer version's
content never changes, and is kept as it is.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emulator.config import FunctionConfig, bootstrap_command
from emulator.functions.revision import code_hash
from emulator.functions.watch import snapshot
from emulator.state.layers import published_entry

__all__ = [
    "copy_code",
    "copy_layers",
    "from_document",
    "same_configuration",
    "same_layers",
    "to_document",
]

# What a version does not keep: it is not served at a URL of its own, never reloaded,
# and its asynchronous settings and reservation are the function's.
_NOT_KEPT = {"url", "event_invoke", "reserved_concurrency", "watch"}
_FIELDS = {f.name: f for f in dataclasses.fields(FunctionConfig) if f.name not in _NOT_KEPT}
# What may differ between $LATEST and a version that is the same as it (the layers:
# copies of the same files, same_layers).
_IDENTITY = {"version", "code_dir", "layers"}


def to_document(function: FunctionConfig) -> dict[str, Any]:
    """The configuration as JSON-ready values."""
    return {name: _plain(getattr(function, name)) for name in _FIELDS}


def from_document(document: Mapping[str, Any]) -> FunctionConfig:
    """The configuration :func:`to_document` wrote (fields it lacks: their defaults)."""
    values: dict[str, Any] = {
        name: tuple(value) if isinstance(value, list) else value
        for name, value in document.items()
        if name in _FIELDS
    }
    command = values.get("command", ())
    if _ric_bootstrap(command):
        # ric's own bootstrap, of the ric installed now: a version published before
        # ric was reinstalled elsewhere (a new virtual environment) still starts.
        values["command"] = bootstrap_command(command[2])
    return FunctionConfig(**values)


def _ric_bootstrap(command: tuple[str, ...]) -> bool:
    """The zero-config form's command (``bootstrap_command``), of any ric install."""
    if len(command) != 3 or command[0] != "/bin/sh":
        return False
    script = Path(command[1])
    return script.name == "bootstrap" and script.parent.name == "ric"


def same_configuration(one: FunctionConfig, other: FunctionConfig) -> bool:
    """Whether two configurations are the same but for their version and code folder."""
    return all(
        getattr(one, name) == getattr(other, name) for name in _FIELDS if name not in _IDENTITY
    )


def copy_code(source: str, target: Path) -> None:
    """Copy the code directory's files (as :func:`snapshot` lists them) to ``target``,
    in place of whatever was there (a version of an earlier state, forgotten)."""
    shutil.rmtree(target, ignore_errors=True)
    for name in snapshot(source):
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(source, name), destination)
    target.mkdir(parents=True, exist_ok=True)  # an empty code directory has a version too


def copy_layers(layers: tuple[str, ...], target: Path) -> tuple[str, ...]:
    """A version's layers: each layer directory copied to ``target/INDEX/NAME`` (its name
    kept, and with it its made-up ARN), a published layer version's content as it is."""
    kept: list[str] = []
    for index, layer in enumerate(layers):
        if published_entry(layer) is not None:
            kept.append(layer)
            continue
        copy = target / str(index) / os.path.basename(layer.rstrip("/"))
        copy_code(layer, copy)
        kept.append(str(copy))
    return tuple(kept)


def same_layers(latest: tuple[str, ...], version: tuple[str, ...]) -> bool:
    """Whether ``$LATEST``'s layers hold the same files as a version's copies of them."""
    return len(latest) == len(version) and all(
        code_hash(mine) == code_hash(theirs) for mine, theirs in zip(latest, version, strict=True)
    )


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value
