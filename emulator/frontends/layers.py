"""A function's layers as the Lambda API shows and takes them.

GetFunctionConfiguration's ``Layers`` is a list of ``{"Arn", "CodeSize"}`` (botocore's
``Layer`` shape); UpdateFunctionConfiguration's ``Layers`` a list of layer version
ARNs, replacing the function's (at most five: "Adding layers to functions").

A layer is a version published with PublishLayerVersion (its ARN and archive
size, :class:`~emulator.state.layers.LayerStore`) or a directory given on the
command line or in TOML. A directory has no ARN on Lambda, so it gets a made-up
one: ``arn:aws:lambda:REGION:123456789012:layer:NAME:1``, NAME the directory's
name (characters a layer name cannot have turned into ``-``), version always 1,
and its files' bytes for a size. An update takes the ARNs of published versions
and of the layer directories the emulator knows: those any function was
declared with or has now.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from emulator.config import FunctionConfig
from emulator.core.layers import MAX_LAYERS
from emulator.errors import ApiError
from emulator.functions.watch import snapshot
from emulator.state.layers import UNZIPPED_LIMIT, LayerStore, published_entry

__all__ = ["LayerCatalog", "layer_arn", "layer_documents"]

_NOT_A_NAME = re.compile(r"[^a-zA-Z0-9_-]")


def layer_arn(region: str, folder: str) -> str:
    """The made-up ARN of a layer directory."""
    name = _NOT_A_NAME.sub("-", os.path.basename(folder.rstrip("/"))) or "layer"
    return f"arn:aws:lambda:{region}:123456789012:layer:{name}:1"


def layer_documents(function: FunctionConfig) -> list[dict[str, Any]]:
    """The function's ``Layers``: each one's ARN and size."""
    return [_document(function.region, folder) for folder in function.layers]


def _document(region: str, folder: str) -> dict[str, Any]:
    published = published_entry(folder)
    if published is not None:
        return published
    return {"Arn": layer_arn(region, folder), "CodeSize": _unzipped(folder)}


class LayerCatalog:
    """The layers known by ARN: published versions, the declared and the current
    directories."""

    def __init__(
        self, functions: Mapping[str, FunctionConfig], store: LayerStore | None = None
    ) -> None:
        self._functions = functions
        self._store = store
        self._declared = [(f.region, folder) for f in functions.values() for folder in f.layers]

    def resolve(self, arns: Any, code_dir: str) -> tuple[str, ...]:
        """The directories of UpdateFunctionConfiguration's ``Layers``, in order; with
        the code in ``code_dir`` they must fit in Lambda's 250 MB, unzipped."""
        if not isinstance(arns, list) or not all(isinstance(arn, str) for arn in arns):
            raise _invalid("Layers must be a list of layer version ARNs")
        if len(arns) > MAX_LAYERS:
            raise _invalid(f"Cannot reference more than {MAX_LAYERS} layers.")
        _one_version_each(arns)
        folders = tuple(self._folder(arn) for arn in arns)
        size = sum(_unzipped(folder) for folder in (code_dir, *folders))
        if size > UNZIPPED_LIMIT:
            raise _invalid(
                "Function code combined with layers exceeds the maximum allowed size of "
                f"{UNZIPPED_LIMIT} bytes. The actual size is {size} bytes."
            )
        return folders

    def _folder(self, arn: str) -> str:
        published = self._store.folder_of(arn) if self._store is not None else None
        if published is not None:
            return published
        found = self._known().get(arn, set())
        if len(found) != 1:
            raise _invalid(
                f"Layer version {arn} is neither published nor one of this emulator's layer "
                "directories (or names two of them): declare it with --layer or layers = [...]"
            )
        return next(iter(found))

    def _known(self) -> dict[str, set[str]]:
        current = [(f.region, folder) for f in self._functions.values() for folder in f.layers]
        known: dict[str, set[str]] = {}
        for region, folder in self._declared + current:
            known.setdefault(layer_arn(region, folder), set()).add(folder)
        return known


def _unzipped(folder: str) -> int:
    return sum(size for _, size in snapshot(folder).values())


def _one_version_each(arns: list[str]) -> None:
    """Lambda's rule: one version of a layer per function (the same one twice included)."""
    seen: dict[str, str] = {}
    for arn in arns:
        layer = arn.rpartition(":")[0]
        if layer in seen:
            raise _invalid(
                "Two different versions of the same layer are not allowed to be referenced "
                f"in the same function. {seen[layer]} and {arn} are versions of the same layer."
            )
        seen[layer] = arn


def _invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidParameterValueException", message)
