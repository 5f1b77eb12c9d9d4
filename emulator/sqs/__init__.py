"""The emulator's SQS client: boto3 against an SQS endpoint, or an embedded moto server."""

from emulator.sqs.gateway import SqsGateway, SqsUnavailable

__all__ = ["SqsGateway", "SqsUnavailable"]
