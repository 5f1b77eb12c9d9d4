"""The emulator's SQS gateway against its embedded moto server: what the pollers and
the destinations send and receive, seen with boto3 as any other client sees it."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3

from emulator.sqs import SqsGateway

ARN = "arn:aws:sqs:us-east-1:123456789012:"


def sqs_client(url: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def test_send_receive_release_and_delete_on_the_embedded_server() -> None:
    started: list[str] = []

    async def scenario() -> tuple[str, list[Any], int]:
        gateway = SqsGateway(None, "us-east-1", started.append)
        url = await gateway.start()
        assert gateway.embedded
        assert gateway.endpoint == url
        await gateway.create_queue(ARN + "dest")
        await gateway.create_queue(ARN + "dest")  # it exists: it stays
        message_id = await gateway.send(
            ARN + "dest", '{"a": 1}', {"RequestID": ("String", "r-1"), "Code": ("Number", "200")}
        )
        queue = await gateway.queue_url(ARN + "dest")
        (first,) = await gateway.receive(queue, 10, 0)
        assert first["MessageId"] == message_id
        await gateway.release(queue, [first["ReceiptHandle"]])  # visible again at once
        (again,) = await gateway.receive(queue, 10, 0)
        refused = await gateway.delete(queue, [again["ReceiptHandle"]])
        await gateway.create_queue(ARN + "dest.fifo")
        await gateway.send(ARN + "dest.fifo", "in order", {})
        fifo = await gateway.receive(await gateway.queue_url(ARN + "dest.fifo"), 10, 0)
        await gateway.close()
        return url, [again, *fifo], refused

    url, (message, fifo), refused = asyncio.run(scenario())
    assert started == [url]
    assert url.startswith("http://127.0.0.1:")
    assert refused == 0
    assert message["Body"] == '{"a": 1}'
    assert message["Attributes"]["ApproximateReceiveCount"] == "2"
    assert message["MessageAttributes"] == {
        "RequestID": {"StringValue": "r-1", "DataType": "String"},
        "Code": {"StringValue": "200", "DataType": "Number"},
    }
    assert fifo["Body"] == "in order"
    assert fifo["Attributes"]["MessageGroupId"] == "emulator"


def test_an_endpoint_given_is_used_and_an_unknown_queue_is_unavailable() -> None:
    async def scenario() -> list[str]:
        server = SqsGateway(None, "us-east-1")
        url = await server.start()
        errors: list[str] = []
        gateway = SqsGateway(url, "us-east-1")
        assert await gateway.start() == url
        assert not gateway.embedded
        try:
            await gateway.queue_url(ARN + "missing")
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        await gateway.close()
        await server.close()
        return errors

    (error,) = asyncio.run(scenario())
    assert error.startswith("SqsUnavailable: SQS get_queue_url: ")
    assert "does not exist" in error
