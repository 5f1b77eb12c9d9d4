"""Qualifiers to versions: aliases and their weighted routing; no I/O.

"Lambda function aliases" (configuration-aliases.html) and "Implement Lambda
canary deployments using a weighted alias"
(configuring-alias-routing.html): an alias points at a published version and
may send a share of its invocations (``RoutingConfig.AdditionalVersionWeights``,
a weight from 0 to 1) to one other published version. Which version serves an
invocation is drawn per invocation; the draw is passed in, so a seeded test
sees the same choices every time.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

__all__ = [
    "LATEST",
    "Alias",
    "InvalidRouting",
    "UnknownVersion",
    "check_alias_name",
    "check_routing",
    "is_version",
]

LATEST = "$LATEST"
# The service model's shapes: Alias is a name that is not all digits (those are versions).
_ALIAS = re.compile(r"^(?![0-9]+$)[a-zA-Z0-9_-]{1,128}$")


class InvalidRouting(ValueError):
    """An alias that cannot be: a bad name, version or weight; ``malformed``: a value
    outside its shape (a validation error), else one the function does not allow."""

    def __init__(self, message: str, malformed: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.malformed = malformed


class UnknownVersion(InvalidRouting):
    """The alias names a version the function does not have."""

    def __init__(self, version: str) -> None:
        super().__init__(f"Function version {version} does not exist")
        self.version = version


@dataclass(frozen=True)
class Alias:
    """An alias: its primary ``version`` and the weights of the others (at most one)."""

    name: str
    version: str
    weights: Mapping[str, float] = field(default_factory=dict)
    description: str = ""
    revision_id: str = ""

    def pick(self, draw: float) -> str:
        """The version that serves an invocation, for ``draw`` uniform in [0, 1)."""
        edge = 0.0
        for version, weight in sorted(self.weights.items()):
            edge += weight
            if draw < edge:
                return version
        return self.version

    @property
    def versions(self) -> tuple[str, ...]:
        """Every version this alias may run."""
        return (self.version, *sorted(self.weights))


def is_version(qualifier: str) -> bool:
    """A qualifier that names a version (``$LATEST`` or a number), not an alias."""
    return qualifier == LATEST or qualifier.isdecimal()


def check_alias_name(name: str) -> None:
    if not _ALIAS.match(name):
        raise InvalidRouting(
            f"1 validation error detected: Value '{name}' at 'name' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "(?!^[0-9]+$)([a-zA-Z0-9-_]+)",
            malformed=True,
        )


def check_routing(version: str, weights: Mapping[str, float], published: Collection[str]) -> None:
    """Refuse what Lambda refuses: unknown versions, ``$LATEST`` with a routing
    config, more than one additional version, weights outside [0, 1]."""
    if version != LATEST and version not in published:
        raise UnknownVersion(version)
    if not weights:
        return
    if len(weights) > 1:
        raise InvalidRouting("Number of additional version weights cannot be greater than 1")
    if version == LATEST:
        raise InvalidRouting(
            "$LATEST is not supported for an alias pointing to more than 1 version"
        )
    for other, weight in weights.items():
        if not isinstance(other, str) or not other.isdecimal():  # AdditionalVersion: [0-9]+
            raise InvalidRouting(
                f"1 validation error detected: Value '{other}' at "
                "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map "
                "keys must satisfy constraint: [Member must satisfy regular expression "
                "pattern: [0-9]+]",
                malformed=True,
            )
        if other == version:
            raise InvalidRouting(
                f"Invalid function version {other}. Function version {other} is already "
                "included in routing configuration."
            )
        if other not in published:
            raise UnknownVersion(other)
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 <= weight <= 1:
            raise InvalidRouting(
                f"1 validation error detected: Value '{weight}' at "
                "'routingConfig.additionalVersionWeights' failed to satisfy constraint: "
                "Map value must satisfy constraint: [Member must have value less than or "
                "equal to 1.0, Member must have value greater than or equal to 0.0]",
                malformed=True,
            )
