"""SQS event source mappings through boto3 only, as a user would: the emulator's
Lambda API to create and change mappings, its embedded SQS server for queues."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.harness import EmulatorProcess, boto3_lambda, toml_config, wait_until

HERE = Path(__file__).resolve().parent
FUNCTIONS: dict[str, dict[str, Any]] = {
    "consumer": {"handler": "sqs_handlers.collect", "environment": {"OUT": "consumer.jsonl"}},
    "other": {"handler": "sqs_handlers.collect", "environment": {"OUT": "other.jsonl"}},
    "holder": {
        "handler": "sqs_handlers.collect",
        "timeout": 60,
        "environment": {"OUT": "holder.jsonl"},
    },
}


def batches(folder: Path, function: str) -> list[dict[str, Any]]:
    """The batches ``function`` got, of the emulator whose folder is ``folder``."""
    out = folder / "code" / f"{function}.jsonl"
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines() if line]


def bodies(folder: Path, function: str) -> list[str]:
    return [r["body"] for batch in batches(folder, function) for r in batch["records"]]


class Setup:
    """The emulator, its SQS endpoint, and boto3's clients for both."""

    def __init__(self, emulator: EmulatorProcess, folder: Path) -> None:
        import boto3

        self.emulator = emulator
        self.folder = folder
        line = emulator.wait_for_line(lambda text: text.startswith("emulator: SQS endpoint: "))
        self.sqs_url = line.rsplit(" ", 1)[1]
        self.sqs = boto3.client(
            "sqs",
            endpoint_url=self.sqs_url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        self.aws_lambda = boto3_lambda(emulator.url)

    def queue(self, name: str, **attributes: str) -> tuple[str, str]:
        """A new queue's URL and ARN."""
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return url, arn["Attributes"]["QueueArn"]

    def batches(self, function: str = "consumer") -> list[dict[str, Any]]:
        return batches(self.folder, function)

    def bodies(self, function: str = "consumer") -> list[str]:
        return bodies(self.folder, function)

    def messages_left(self, url: str) -> int:
        answer = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(answer["ApproximateNumberOfMessages"]) + int(
            answer["ApproximateNumberOfMessagesNotVisible"]
        )

    def mapping(self, arn: str, **settings: Any) -> dict[str, Any]:
        """A new mapping of ``consumer``, once Enabled."""
        created = self.aws_lambda.create_event_source_mapping(
            FunctionName="consumer", EventSourceArn=arn, **settings
        )
        assert created["State"] == "Creating"
        assert wait_until(lambda: self.state(created["UUID"]) == "Enabled")
        return dict(created)

    def state(self, uuid: str) -> str:
        return str(self.aws_lambda.get_event_source_mapping(UUID=uuid)["State"])


def emulator(folder: Path, *args: str, extra_toml: str = "") -> EmulatorProcess:
    code = folder / "code"
    code.mkdir()
    shutil.copy(HERE / "sqs_handlers.py", code / "sqs_handlers.py")
    config = folder / "functions.toml"
    config.write_text(extra_toml + "\n" + toml_config(FUNCTIONS, str(code)))
    return EmulatorProcess(["--port", "0", "--config", str(config), *args], cwd=code)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    with emulator(tmp_path, "--sqs") as process:
        yield Setup(process, tmp_path)


def test_a_mapping_of_the_config_file_polls_from_the_start(tmp_path: Path) -> None:
    arn = "arn:aws:sqs:us-east-1:123456789012:declared"
    mapping = f"""
[[event_source_mappings]]
FunctionName = "other"
EventSourceArn = "{arn}"
BatchSize = 20
MaximumBatchingWindowInSeconds = 1
"""
    with emulator(tmp_path, extra_toml=mapping) as process:
        # The queue is made on the embedded server, the mapping is Enabled, then it says so.
        process.wait_for_line(lambda line: "polling " + arn + " (Enabled)" in line)
        setup = Setup(process, tmp_path)
        url = setup.sqs.get_queue_url(QueueName="declared")["QueueUrl"]
        setup.sqs.send_message(QueueUrl=url, MessageBody="from the start")
        assert wait_until(lambda: setup.bodies("other") == ["from the start"])
        (listed,) = setup.aws_lambda.list_event_source_mappings(FunctionName="other")[
            "EventSourceMappings"
        ]
        assert (listed["State"], listed["BatchSize"], listed["EventSourceArn"]) == (
            "Enabled", 20, arn,
        )  # fmt: skip


def test_a_bad_mapping_in_the_config_file_stops_the_start(tmp_path: Path) -> None:
    mapping = """
[[event_source_mappings]]
FunctionName = "nobody"
EventSourceArn = "arn:aws:sqs:us-east-1:123456789012:q"
"""
    with emulator(tmp_path, extra_toml=mapping) as process:
        assert process.stop() == 2
        assert any("event source mappings: nobody" in line for line in process.stderr)


def test_a_mapping_invokes_with_lambdas_event_and_deletes_what_succeeded(setup: Setup) -> None:
    url, arn = setup.queue("plain")
    setup.sqs.send_message(
        QueueUrl=url,
        MessageBody="hello",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "greeting"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    setup.mapping(arn, BatchSize=5)
    assert wait_until(lambda: setup.bodies() == ["hello"])
    assert wait_until(lambda: setup.messages_left(url) == 0)
    record = setup.batches()[0]["records"][0]
    assert set(record) == {
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes",
        "md5OfBody", "md5OfMessageAttributes", "eventSource", "eventSourceARN", "awsRegion",
    }  # fmt: skip
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        arn,
        "us-east-1",
    )
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert set(record["attributes"]) >= {
        "ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp",
    }  # fmt: skip
    assert all(isinstance(value, str) for value in record["attributes"].values())
    assert record["messageAttributes"] == {
        "kind": {"stringValue": "greeting", "stringListValues": [], "binaryListValues": [],
                 "dataType": "String"},
        "blob": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [],
                 "dataType": "Binary"},
    }  # fmt: skip
    assert record["md5OfBody"] == "5d41402abc4b2a76b9719d911017c592"  # md5("hello")
    setup.emulator.wait_for_line(
        lambda line: "[consumer] event source mapping" in line and "1 deleted" in line
    )


def test_reported_failures_stay_on_the_queue_and_the_rest_is_deleted(setup: Setup) -> None:
    # Longer than a cold start takes: only a message left on the queue comes back.
    url, arn = setup.queue("partial", VisibilityTimeout="3")
    for body in ("ok-1", "fail", "ok-2"):
        setup.sqs.send_message(QueueUrl=url, MessageBody=body)
    setup.mapping(arn, BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"])
    # The failed message comes back after its visibility timeout, and again.
    assert wait_until(lambda: setup.bodies().count("fail") >= 2, timeout=20)
    bodies = setup.bodies()
    assert bodies.count("ok-1") == bodies.count("ok-2") == 1
    receives = [
        r["attributes"]["ApproximateReceiveCount"]
        for batch in setup.batches()
        for r in batch["records"]
        if r["body"] == "fail"
    ]
    assert receives[:2] == ["1", "2"]


def test_a_failing_batch_goes_to_the_dead_letter_queue_by_its_redrive_policy(
    setup: Setup,
) -> None:
    dlq_url, dlq_arn = setup.queue("dead")
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    url, arn = setup.queue("doomed", VisibilityTimeout="1", RedrivePolicy=policy)
    setup.sqs.send_message(QueueUrl=url, MessageBody="raise")
    setup.mapping(arn)
    assert wait_until(lambda: setup.messages_left(dlq_url) == 1, timeout=20)
    assert setup.bodies() == ["raise", "raise"]  # received twice, then moved
    moved = setup.sqs.receive_message(QueueUrl=dlq_url)["Messages"]
    assert [m["Body"] for m in moved] == ["raise"]
    setup.emulator.wait_for_line(lambda line: "1 left on the queue (function error)" in line)


def test_a_fifo_queue_keeps_each_groups_order(setup: Setup) -> None:
    url, arn = setup.queue("ordered.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    sent = {group: [f"{group}-{i}" for i in range(6)] for group in ("a", "b")}
    for i in range(6):
        for group, bodies in sent.items():
            setup.sqs.send_message(QueueUrl=url, MessageBody=bodies[i], MessageGroupId=group)
    setup.mapping(arn, BatchSize=2, ScalingConfig={"MaximumConcurrency": 2})
    assert wait_until(lambda: len(setup.bodies()) == 12)
    got = setup.bodies()
    for group, bodies in sent.items():
        assert [body for body in got if body.startswith(group)] == bodies
    record = setup.batches()[0]["records"][0]
    # SequenceNumber too, where the SQS server gives it (moto's does not).
    assert {"MessageGroupId", "MessageDeduplicationId"} <= set(record["attributes"])


def test_disabling_stops_the_poller_and_enabling_starts_it_again(setup: Setup) -> None:
    url, arn = setup.queue("switched")
    created = setup.mapping(arn)
    uuid = created["UUID"]
    setup.sqs.send_message(QueueUrl=url, MessageBody="first")
    assert wait_until(lambda: setup.bodies() == ["first"])
    answer = setup.aws_lambda.update_event_source_mapping(UUID=uuid, Enabled=False)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert answer["State"] == "Disabling"
    assert wait_until(lambda: setup.state(uuid) == "Disabled")
    setup.sqs.send_message(QueueUrl=url, MessageBody="second")
    # Disabled: the message stays on the queue, visible, for as long as we look.
    assert not wait_until(lambda: setup.messages_left(url) == 0, timeout=3)
    assert setup.bodies() == ["first"]
    answer = setup.aws_lambda.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert answer["State"] == "Enabling"
    assert wait_until(lambda: setup.bodies() == ["first", "second"])
    deleted = setup.aws_lambda.delete_event_source_mapping(UUID=uuid)
    assert (deleted["ResponseMetadata"]["HTTPStatusCode"], deleted["State"]) == (202, "Deleting")
    errors = setup.aws_lambda.exceptions
    assert wait_until(
        lambda: not setup.aws_lambda.list_event_source_mappings()["EventSourceMappings"]
    )
    with pytest.raises(errors.ResourceNotFoundException):
        setup.aws_lambda.get_event_source_mapping(UUID=uuid)


def test_the_api_answers_mappings_as_lambda_does(setup: Setup) -> None:
    _, arn = setup.queue("api")
    _, other_arn = setup.queue("api-2")
    client = setup.aws_lambda
    created = client.create_event_source_mapping(
        FunctionName="consumer", EventSourceArn=arn, Enabled=False, BatchSize=100,
        MaximumBatchingWindowInSeconds=2,
    )  # fmt: skip
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["FunctionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:consumer"
    assert (created["BatchSize"], created["MaximumBatchingWindowInSeconds"]) == (100, 2)
    assert created["EventSourceMappingArn"].endswith(":event-source-mapping:" + created["UUID"])
    assert wait_until(lambda: setup.state(created["UUID"]) == "Disabled")
    client.create_event_source_mapping(FunctionName="other", EventSourceArn=other_arn)
    everything = client.list_event_source_mappings()["EventSourceMappings"]
    assert len(everything) == 2
    mine = client.list_event_source_mappings(FunctionName="consumer")["EventSourceMappings"]
    assert [m["UUID"] for m in mine] == [created["UUID"]]
    by_queue = client.list_event_source_mappings(EventSourceArn=other_arn)["EventSourceMappings"]
    assert [m["EventSourceArn"] for m in by_queue] == [other_arn]
    first = client.list_event_source_mappings(MaxItems=1)
    second = client.list_event_source_mappings(MaxItems=1, Marker=first["NextMarker"])
    assert [m["UUID"] for m in first["EventSourceMappings"] + second["EventSourceMappings"]] == [
        m["UUID"] for m in everything
    ]
    assert "NextMarker" not in second
    errors = client.exceptions
    with pytest.raises(errors.InvalidParameterValueException, match="batch window"):
        client.create_event_source_mapping(FunctionName="other", EventSourceArn=arn, BatchSize=11)
    with pytest.raises(errors.ResourceConflictException, match=created["UUID"]):
        client.create_event_source_mapping(FunctionName="consumer", EventSourceArn=arn)
    with pytest.raises(errors.ResourceNotFoundException, match="Function not found"):
        client.create_event_source_mapping(FunctionName="nobody", EventSourceArn=arn)
    with pytest.raises(errors.InvalidParameterValueException, match="queue"):
        client.create_event_source_mapping(
            FunctionName="other", EventSourceArn="arn:aws:sqs:us-east-1:123456789012:none"
        )
    with pytest.raises(errors.ResourceNotFoundException):
        client.update_event_source_mapping(UUID="00000000-0000-0000-0000-000000000000")


def test_stopping_the_emulator_hands_a_batch_in_flight_back_to_the_queue(
    setup: Setup, tmp_path: Path
) -> None:
    # The first emulator is only the SQS server here: the second one polls it.
    url, arn = setup.queue("handed-back", VisibilityTimeout="600")
    mapping = f"""
[[event_source_mappings]]
FunctionName = "holder"
EventSourceArn = "{arn}"
"""
    second = tmp_path / "second"
    second.mkdir()
    with emulator(second, "--sqs-endpoint", setup.sqs_url, extra_toml=mapping) as process:
        process.wait_for_line(lambda line: f"polling {arn} (Enabled)" in line)
        setup.sqs.send_message(QueueUrl=url, MessageBody="hold")
        assert wait_until(lambda: bodies(second, "holder") == ["hold"])
        assert process.stop() == 0
    visible = setup.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    # Back at once, not after its 600 s of visibility timeout.
    assert visible["ApproximateNumberOfMessages"] == "1"


def test_a_mapping_of_an_alias_runs_the_version_it_points_to(setup: Setup, tmp_path: Path) -> None:
    lam = setup.aws_lambda
    ran = {name: tmp_path / f"{name}.jsonl" for name in ("one", "latest")}
    lam.update_function_configuration(
        FunctionName="consumer", Environment={"Variables": {"OUT": str(ran["one"])}}
    )
    lam.publish_version(FunctionName="consumer")
    lam.update_function_configuration(
        FunctionName="consumer", Environment={"Variables": {"OUT": str(ran["latest"])}}
    )
    lam.create_alias(FunctionName="consumer", Name="live", FunctionVersion="1")
    url, arn = setup.queue("aliased")
    created = lam.create_event_source_mapping(FunctionName="consumer:live", EventSourceArn=arn)
    assert created["FunctionArn"].endswith(":function:consumer:live")
    assert wait_until(lambda: setup.state(created["UUID"]) == "Enabled")
    setup.sqs.send_message(QueueUrl=url, MessageBody="to version 1")
    assert wait_until(ran["one"].exists)
    assert json.loads(ran["one"].read_text())["records"][0]["body"] == "to version 1"
    assert not ran["latest"].exists()
