"""Event source mappings without I/O: their settings, their states and their document.

The fields, limits and states are those of botocore's service model
(``lambda/2015-03-31/service-2.json``: ``CreateEventSourceMappingRequest``,
``EventSourceMappingConfiguration``) and "CreateEventSourceMapping" in the
Lambda API reference (API_CreateEventSourceMapping.html): for an SQS queue
BatchSize is 1 to 10000 (default 10; at most 10 for a FIFO queue), above 10
it needs a MaximumBatchingWindowInSeconds of at least 1 (0 to 300, default 0),
and ScalingConfig.MaximumConcurrency is 2 to 1000. A mapping is ``Creating``,
then ``Enabled`` or ``Disabled``; a change passes through ``Enabling``,
``Disabling`` or ``Updating``, and a deletion through ``Deleting``, while
its poller starts or stops. Only :class:`Mapping` changes its state.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping as Document
from dataclasses import dataclass, replace
from typing import Any

from emulator.core.batches import REPORT_BATCH_ITEM_FAILURES

__all__ = [
    "ACCOUNT",
    "Busy",
    "InvalidMapping",
    "Mapping",
    "MappingSettings",
    "State",
    "queue_name",
    "settings_from",
]

ACCOUNT = "123456789012"  # the account of every ARN the emulator makes
MAX_BATCH = 10000
MAX_FIFO_BATCH = 10
MAX_WINDOW_S = 300
# Keys of CreateEventSourceMapping / UpdateEventSourceMapping an SQS mapping takes.
_KEYS = {
    "FunctionName",
    "EventSourceArn",
    "Enabled",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "FunctionResponseTypes",
    "ScalingConfig",
}


class InvalidMapping(ValueError):
    """A request the mapping cannot take: InvalidParameterValueException."""


class Busy(RuntimeError):
    """The mapping is between states: ResourceInUseException."""


class State(str, enum.Enum):
    CREATING = "Creating"
    ENABLING = "Enabling"
    ENABLED = "Enabled"
    DISABLING = "Disabling"
    DISABLED = "Disabled"
    UPDATING = "Updating"
    DELETING = "Deleting"


_SETTLED = {State.ENABLED, State.DISABLED}


@dataclass(frozen=True)
class MappingSettings:
    """What a user sets on a mapping."""

    batch_size: int = 10
    window_s: int = 0
    enabled: bool = True
    report_item_failures: bool = False
    max_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency


def queue_name(arn: str) -> str:
    """The queue's name, from ``arn:aws:sqs:REGION:ACCOUNT:NAME``; else InvalidMapping."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "sqs"] or not parts[5]:
        raise InvalidMapping(f"Unsupported event source: {arn}: only SQS queues are supported")
    return parts[5]


def settings_from(
    request: Document[str, Any], fifo: bool, base: MappingSettings | None = None
) -> MappingSettings:
    """The settings of a create (``base`` None) or an update request, validated."""
    unknown = sorted(set(request) - _KEYS - {"UUID"})
    if unknown:
        raise InvalidMapping(f"Unsupported parameters for an SQS event source: {unknown}")
    was = base or MappingSettings()
    batch_size = _integer(request, "BatchSize", 1, MAX_BATCH)
    window_s = _integer(request, "MaximumBatchingWindowInSeconds", 0, MAX_WINDOW_S)
    enabled = _boolean(request, "Enabled")
    report = _response_types(request)
    settings = MappingSettings(
        batch_size=was.batch_size if batch_size is None else batch_size,
        window_s=was.window_s if window_s is None else window_s,
        enabled=was.enabled if enabled is None else enabled,
        report_item_failures=was.report_item_failures if report is None else report,
        # ScalingConfig {} clears the limit; no ScalingConfig keeps it.
        max_concurrency=_scaling(request) if "ScalingConfig" in request else was.max_concurrency,
    )
    if settings.batch_size > 10 and settings.window_s < 1:
        raise InvalidMapping(
            "Maximum batch window in seconds must be greater than 0 "
            "if maximum batch size is greater than 10"
        )
    if fifo and settings.batch_size > MAX_FIFO_BATCH:
        raise InvalidMapping("Batch size for FIFO queues must be between 1 and 10")
    return settings


def _integer(request: Document[str, Any], key: str, low: int, high: int) -> int | None:
    value = request.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidMapping(f"{key} must be between {low} and {high}, not {value!r}")
    return value


def _boolean(request: Document[str, Any], key: str) -> bool | None:
    value = request.get(key)
    if value is not None and not isinstance(value, bool):
        raise InvalidMapping(f"{key} must be true or false, not {value!r}")
    return value


def _response_types(request: Document[str, Any]) -> bool | None:
    value = request.get("FunctionResponseTypes")
    if value is None:
        return None
    if not isinstance(value, list) or any(v != REPORT_BATCH_ITEM_FAILURES for v in value):
        raise InvalidMapping(
            f"FunctionResponseTypes must be [] or [{REPORT_BATCH_ITEM_FAILURES!r}], not {value!r}"
        )
    return bool(value)


def _scaling(request: Document[str, Any]) -> int | None:
    value = request.get("ScalingConfig")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidMapping(f"ScalingConfig must be an object, not {value!r}")
    return _integer(value, "MaximumConcurrency", 2, 1000)


class Mapping:
    """One mapping: its identity, settings and state; ``now``: epoch seconds given in."""

    def __init__(
        self,
        uuid: str,
        *,
        function_arn: str,
        source_arn: str,
        settings: MappingSettings,
        region: str,
        now: float,
    ) -> None:
        self.uuid = uuid
        self.function_arn = function_arn
        self.source_arn = source_arn
        self.settings = settings
        self.region = region
        self.state = State.CREATING
        self.last_modified = now

    @property
    def settled(self) -> bool:
        return self.state in _SETTLED

    @property
    def deleting(self) -> bool:
        return self.state is State.DELETING

    def update(self, settings: MappingSettings, now: float) -> None:
        """Begin a change: Enabling, Disabling or Updating until :meth:`settle`."""
        self._require_settled()
        was = self.settings
        if settings.enabled != was.enabled and replace(settings, enabled=was.enabled) == was:
            self.state = State.ENABLING if settings.enabled else State.DISABLING
        else:
            self.state = State.UPDATING
        self.settings = settings
        self.last_modified = now

    def delete(self, now: float) -> None:
        self._require_settled()
        self.state = State.DELETING
        self.last_modified = now

    def settle(self) -> None:
        """The poller has started or stopped as the settings say."""
        if self.state is not State.DELETING:
            self.state = State.ENABLED if self.settings.enabled else State.DISABLED

    def _require_settled(self) -> None:
        if not self.settled:
            raise Busy(
                f"Cannot update the event source mapping {self.uuid} "
                f"because it is in use (State: {self.state.value})"
            )

    def document(self) -> dict[str, Any]:
        """The ``EventSourceMappingConfiguration`` the API answers with."""
        settings = self.settings
        scaling = {} if settings.max_concurrency is None else {
            "MaximumConcurrency": settings.max_concurrency
        }  # fmt: skip
        return {
            "UUID": self.uuid,
            "BatchSize": settings.batch_size,
            "MaximumBatchingWindowInSeconds": settings.window_s,
            "EventSourceArn": self.source_arn,
            "FunctionArn": self.function_arn,
            "LastModified": self.last_modified,
            "State": self.state.value,
            "StateTransitionReason": "USER_INITIATED",
            "FunctionResponseTypes": [REPORT_BATCH_ITEM_FAILURES]
            if settings.report_item_failures
            else [],
            "ScalingConfig": scaling,
            "EventSourceMappingArn": (
                f"arn:aws:lambda:{self.region}:{ACCOUNT}:event-source-mapping:{self.uuid}"
            ),
        }
