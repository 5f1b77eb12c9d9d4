"""A function's layers as the Lambda API shows and takes them.

GetFunctionConfiguration's ``Layers`` is a list of ``{"Arn", "CodeSize"}`` (botocore's
``Layer`` shape); UpdateFunctionConfiguration's ``Layers`` a list of layer version
ARNs, replacing the function's (at most five: "Adding layers to functions").

A layer here is a directory, not a published version, so its ARN is made up:
``arn:aws:lambda:REGION:123456789012:layer:NAME:1``, NAME the directory's name
(characters a layer name cannot have turned into ``-``), version always 1. An
update takes the ARNs of the layer directories the emulator knows: those any
function was declared with or has now.
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

__all__ = ["LayerCatalog", "layer_arn", "layer_documents"]

_NOT_A_NAME = re.compile(r"[^a-zA-Z0-9_-]")


def layer_arn(region: str, folder: str) -> str:
    name = _NOT_A_NAME.sub("-", os.path.basename(folder.rstrip("/"))) or "layer"
    return f"arn:aws:lambda:{region}:123456789012:layer:{name}:1"


def layer_documents(function: FunctionConfig) -> list[dict[str, Any]]:
    """The function's ``Layers``: each one's ARN and size, its files' bytes."""
    return [
        {
            "Arn": layer_arn(function.region, folder),
            "CodeSize": sum(size for _, size in snapshot(folder).values()),
        }
        for folder in function.layers
    ]


class LayerCatalog:
    """The layer directories known by ARN: the declared ones and the current ones."""

    def __init__(self, functions: Mapping[str, FunctionConfig]) -> None:
        self._functions = functions
        self._declared = [(f.region, folder) for f in functions.values() for folder in f.layers]

    def resolve(self, arns: Any) -> tuple[str, ...]:
        """The directories of UpdateFunctionConfiguration's ``Layers``, in order."""
        if not isinstance(arns, list) or not all(isinstance(arn, str) for arn in arns):
            raise _invalid("Layers must be a list of layer version ARNs")
        if len(arns) > MAX_LAYERS:
            raise _invalid(f"Cannot reference more than {MAX_LAYERS} layers.")
        known = self._known()
        missing = [arn for arn in arns if len(known.get(arn, ())) != 1]
        if missing:
            raise _invalid(
                f"Layer version {missing[0]} is not one of this emulator's layer directories "
                "(or names two of them): declare it with --layer or layers = [...]"
            )
        return tuple(next(iter(known[arn])) for arn in arns)

    def _known(self) -> dict[str, set[str]]:
        current = [(f.region, folder) for f in self._functions.values() for folder in f.layers]
        known: dict[str, set[str]] = {}
        for region, folder in self._declared + current:
            known.setdefault(layer_arn(region, folder), set()).add(folder)
        return known


def _invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidParameterValueException", message)
