"""SQS over boto3 for the pollers and for destinations, off the event loop.

boto3's calls block, so each one runs on a thread of the gateway's own pool.
The endpoint is a URL given (``--sqs-endpoint``: moto's server, ElasticMQ,
LocalStack, AWS) or, with none, :class:`~emulator.sqs.embedded.EmbeddedSqs`,
started on first use. The credentials are fixed fakes and the region the
emulator's, as every ARN it makes ("Amazon SQS API Reference": ReceiveMessage,
DeleteMessageBatch, SendMessage, GetQueueUrl, GetQueueAttributes).
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from emulator.core.mappings import ACCOUNT, queue_name
from emulator.sqs.embedded import EmbeddedSqs

__all__ = ["SqsGateway", "SqsUnavailable"]

T = TypeVar("T")
_THREADS = 32  # long polls in flight at once, across every mapping
_DELETE_AT_ONCE = 10  # the limit of DeleteMessageBatch and ChangeMessageVisibilityBatch


class SqsUnavailable(Exception):
    """An SQS call failed: the endpoint cannot be reached, or SQS refused it."""


class SqsGateway:
    """The emulator's one SQS client. ``on_started(url)``: the embedded server is up."""

    def __init__(
        self,
        endpoint: str | None,
        region: str,
        on_started: Callable[[str], None] = lambda url: None,
    ) -> None:
        self._endpoint = endpoint
        self._region = region
        self._on_started = on_started
        self._embedded: EmbeddedSqs | None = None
        self._pool = ThreadPoolExecutor(_THREADS, thread_name_prefix="emulator-sqs")
        self._client: Any = None
        self._starting: asyncio.Future[Any] | None = None
        self._urls: dict[str, str] = {}

    @property
    def endpoint(self) -> str | None:
        """The SQS endpoint's URL, once known."""
        return self._endpoint

    async def start(self) -> str:
        """Make the client (and the embedded server if need be); its endpoint URL."""
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._call(self._make_client))
        try:
            self._client = await asyncio.shield(self._starting)
        except ImportError as exc:  # the sqs extra is not installed
            raise SqsUnavailable(
                f"SQS needs boto3 and moto: pip install 'ric[sqs]' ({exc})"
            ) from exc
        assert self._endpoint is not None
        return self._endpoint

    def _make_client(self) -> Any:
        if self._endpoint is None:
            self._embedded = EmbeddedSqs()
            self._endpoint = self._embedded.start()
        self._on_started(self._endpoint)
        import boto3
        from botocore.config import Config

        return boto3.client(
            "sqs",
            endpoint_url=self._endpoint,
            region_name=self._region,
            aws_access_key_id="emulator",
            aws_secret_access_key="emulator",
            config=Config(max_pool_connections=_THREADS, read_timeout=60),
        )

    async def queue_url(self, arn: str) -> str:
        """The URL of the queue ``arn`` names (GetQueueUrl, its owner's account)."""
        url = self._urls.get(arn)
        if url is None:
            answer = await self._sqs(
                "get_queue_url", QueueName=queue_name(arn), QueueOwnerAWSAccountId=ACCOUNT
            )
            url = self._urls[arn] = str(answer["QueueUrl"])
        return url

    @property
    def embedded(self) -> bool:
        """The endpoint is the emulator's own moto server."""
        return self._embedded is not None

    async def create_queue(self, arn: str) -> None:
        """CreateQueue for ``arn`` (a ``.fifo`` name makes a FIFO queue); one that exists stays."""
        name = queue_name(arn)
        attributes = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
        await self._sqs("create_queue", QueueName=name, Attributes=attributes)

    async def queue_attributes(self, url: str) -> dict[str, str]:
        answer = await self._sqs("get_queue_attributes", QueueUrl=url, AttributeNames=["All"])
        return dict(answer.get("Attributes", {}))

    async def receive(self, url: str, count: int, wait_s: int) -> list[dict[str, Any]]:
        """Up to ``count`` (at most 10) messages, long-polling ``wait_s`` seconds."""
        answer = await self._sqs(
            "receive_message",
            QueueUrl=url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait_s,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(answer.get("Messages", []))

    async def delete(self, url: str, receipt_handles: Sequence[str]) -> int:
        """Delete the messages; how many SQS refused to delete."""
        refused = 0
        for start in range(0, len(receipt_handles), _DELETE_AT_ONCE):
            chunk = receipt_handles[start : start + _DELETE_AT_ONCE]
            entries = [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)]
            answer = await self._sqs("delete_message_batch", QueueUrl=url, Entries=entries)
            refused += len(answer.get("Failed", []))
        return refused

    async def release(self, url: str, receipt_handles: Sequence[str]) -> None:
        """Make received messages visible again now (ChangeMessageVisibilityBatch, 0 s)."""
        for start in range(0, len(receipt_handles), _DELETE_AT_ONCE):
            chunk = receipt_handles[start : start + _DELETE_AT_ONCE]
            entries = [
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
                for i, h in enumerate(chunk)
            ]
            await self._sqs("change_message_visibility_batch", QueueUrl=url, Entries=entries)

    async def send(
        self, queue_arn: str, body: str, attributes: Mapping[str, tuple[str, str]]
    ) -> str:
        """SendMessage to the queue ``queue_arn``; ``attributes``: name -> (DataType, value).

        The message's id. A FIFO queue's message gets a group id of its own.
        """
        url = await self.queue_url(queue_arn)
        extra: dict[str, Any] = {}
        if queue_arn.endswith(".fifo"):
            extra = {"MessageGroupId": "emulator", "MessageDeduplicationId": str(uuid.uuid4())}
        answer = await self._sqs(
            "send_message",
            QueueUrl=url,
            MessageBody=body,
            MessageAttributes={
                name: {"DataType": kind, "StringValue": value}
                for name, (kind, value) in attributes.items()
            },
            **extra,
        )
        return str(answer["MessageId"])

    async def close(self) -> None:
        """Let the calls in flight end, then stop the embedded server."""
        embedded = self._embedded
        await asyncio.get_running_loop().run_in_executor(None, self._pool.shutdown)
        if embedded is not None:
            await asyncio.get_running_loop().run_in_executor(None, embedded.stop)

    async def _sqs(self, operation: str, **params: Any) -> Any:
        client = self._client or await self.start()
        try:
            return await self._call(functools.partial(getattr(client, operation), **params))
        except Exception as exc:  # botocore's ClientError, EndpointConnectionError...
            raise SqsUnavailable(f"SQS {operation}: {exc}") from exc

    async def _call(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)
