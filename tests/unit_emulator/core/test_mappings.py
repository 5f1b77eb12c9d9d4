"""Event source mapping settings, states and documents, without I/O."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.core.mappings import (
    Busy,
    InvalidMapping,
    Mapping,
    MappingSettings,
    State,
    queue_name,
    settings_from,
)

QUEUE = "arn:aws:sqs:us-east-1:123456789012:orders"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:f"


def mapping(**settings: Any) -> Mapping:
    return Mapping(
        "11111111-2222-3333-4444-555555555555",
        function_arn=FUNCTION,
        source_arn=QUEUE,
        settings=MappingSettings(**settings),
        region="us-east-1",
        now=100.5,
    )


def state(subject: Mapping) -> State:
    """Read afresh: each call may have changed it."""
    return subject.state


def test_the_defaults_are_lambdas() -> None:
    assert settings_from({"FunctionName": "f", "EventSourceArn": QUEUE}, fifo=False) == (
        MappingSettings(batch_size=10, window_s=0, enabled=True, report_item_failures=False)
    )


def test_every_setting_is_read() -> None:
    request = {
        "BatchSize": 500, "MaximumBatchingWindowInSeconds": 5, "Enabled": False,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": 7},
    }  # fmt: skip
    assert settings_from(request, fifo=False) == MappingSettings(500, 5, False, True, 7)


def test_an_update_keeps_what_it_does_not_name_and_an_empty_scaling_config_clears() -> None:
    was = MappingSettings(batch_size=20, window_s=2, report_item_failures=True, max_concurrency=5)
    assert settings_from({"Enabled": False}, fifo=False, base=was) == MappingSettings(
        20, 2, False, True, 5
    )
    assert settings_from({"ScalingConfig": {}}, fifo=False, base=was).max_concurrency is None
    assert settings_from({"FunctionResponseTypes": []}, False, was).report_item_failures is False


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"BatchSize": 0}, "BatchSize must be between 1 and 10000"),
        ({"BatchSize": 10001}, "BatchSize must be between 1 and 10000"),
        ({"BatchSize": True}, "BatchSize must be between"),
        ({"BatchSize": 11}, "Maximum batch window in seconds must be greater than 0"),
        ({"MaximumBatchingWindowInSeconds": 301}, "between 0 and 300"),
        ({"ScalingConfig": {"MaximumConcurrency": 1}}, "MaximumConcurrency must be between 2"),
        ({"ScalingConfig": {"MaximumConcurrency": 1001}}, "between 2 and 1000"),
        ({"ScalingConfig": 3}, "ScalingConfig must be an object"),
        ({"FunctionResponseTypes": ["Other"]}, "FunctionResponseTypes"),
        ({"Enabled": "yes"}, "Enabled must be true or false"),
        ({"StartingPosition": "LATEST"}, "Unsupported parameters"),
        ({"FilterCriteria": {}}, "Unsupported parameters"),
    ],
)
def test_a_bad_setting_is_refused_with_its_reason(request_: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidMapping, match=message):
        settings_from(request_, fifo=False)


def test_a_fifo_queue_takes_batches_of_ten_at_most() -> None:
    request = {"BatchSize": 20, "MaximumBatchingWindowInSeconds": 1}
    assert settings_from(request, fifo=False).batch_size == 20
    with pytest.raises(InvalidMapping, match="FIFO"):
        settings_from(request, fifo=True)


def test_only_an_sqs_queues_arn_is_a_source() -> None:
    assert queue_name(QUEUE) == "orders"
    for arn in (
        "arn:aws:kinesis:us-east-1:123456789012:stream/s",
        "orders",
        QUEUE + ":x",
        QUEUE[:-6],
    ):
        with pytest.raises(InvalidMapping, match="only SQS queues"):
            queue_name(arn)


def test_a_new_mapping_is_creating_then_settles_as_its_settings_say() -> None:
    enabled, disabled = mapping(), mapping(enabled=False)
    assert (enabled.state, disabled.state) == (State.CREATING, State.CREATING)
    assert not enabled.settled
    enabled.settle()
    disabled.settle()
    assert (enabled.state, disabled.state) == (State.ENABLED, State.DISABLED)


def test_enabled_alone_passes_through_disabling_or_enabling() -> None:
    subject = mapping()
    subject.settle()
    subject.update(MappingSettings(enabled=False), now=200.0)
    assert (state(subject), subject.last_modified) == (State.DISABLING, 200.0)
    subject.settle()
    assert state(subject) is State.DISABLED
    subject.update(MappingSettings(enabled=True), now=201.0)
    assert state(subject) is State.ENABLING
    subject.settle()
    assert state(subject) is State.ENABLED


def test_any_other_change_passes_through_updating() -> None:
    subject = mapping()
    subject.settle()
    subject.update(MappingSettings(batch_size=5, enabled=False), now=200.0)
    assert state(subject) is State.UPDATING
    subject.settle()
    assert state(subject) is State.DISABLED


def test_a_mapping_between_states_refuses_changes() -> None:
    subject = mapping()
    with pytest.raises(Busy, match="Creating"):
        subject.update(MappingSettings(batch_size=5), now=1.0)
    with pytest.raises(Busy):
        subject.delete(now=1.0)
    subject.settle()
    subject.delete(now=300.0)
    assert subject.deleting
    subject.settle()  # stopping its poller leaves it Deleting until it is gone
    assert subject.state is State.DELETING


def test_the_document_is_lambdas_configuration() -> None:
    subject = mapping(report_item_failures=True, max_concurrency=3)
    assert subject.document() == {
        "UUID": "11111111-2222-3333-4444-555555555555",
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 0,
        "EventSourceArn": QUEUE,
        "FunctionArn": FUNCTION,
        "LastModified": 100.5,
        "State": "Creating",
        "StateTransitionReason": "USER_INITIATED",
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": 3},
        "EventSourceMappingArn": "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:"
        "11111111-2222-3333-4444-555555555555",
    }
    assert mapping().document()["ScalingConfig"] == {}
    assert mapping().document()["FunctionResponseTypes"] == []
