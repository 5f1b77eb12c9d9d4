"""Feed examples/sqs_orders.py from a queue of the emulator's embedded SQS, with boto3.

    python -m emulator sqs_orders.handler --code-dir examples --sqs
    python examples/sqs_demo.py http://127.0.0.1:9000 SQS_URL   # the URL the emulator printed

A queue with a dead-letter queue, a mapping that reports batch item failures,
three orders: two are shipped and deleted, the bad one comes back after the
visibility timeout and, received twice, moves to the dead-letter queue.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import boto3


def client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("gave up waiting")
        time.sleep(0.2)


def main(lambda_url: str, sqs_url: str) -> None:
    aws_lambda, sqs = client("lambda", lambda_url), client("sqs", sqs_url)
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": "2"}
    queue = sqs.create_queue(
        QueueName="orders",
        Attributes={"VisibilityTimeout": "2", "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    mapping = aws_lambda.create_event_source_mapping(
        FunctionName="function",
        EventSourceArn=arn["Attributes"]["QueueArn"],
        BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    uuid = mapping["UUID"]
    wait_for(lambda: aws_lambda.get_event_source_mapping(UUID=uuid)["State"] == "Enabled")
    print(f"mapping {uuid}: Enabled")
    for order, qty in ((1, 3), (2, 0), (3, 1)):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"order": order, "qty": qty}))
    dead: list[dict[str, Any]] = []
    wait_for(lambda: dead.extend(sqs.receive_message(QueueUrl=dlq).get("Messages", [])) or dead)
    print(f"dead-lettered: {dead[0]['Body']}")
    aws_lambda.delete_event_source_mapping(UUID=uuid)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
