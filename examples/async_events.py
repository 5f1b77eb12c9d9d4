"""Asynchronous invocation: a function that fails, retried, and one that gets the records.

    python -m emulator --config examples/async_events.toml

then, from another shell, the boto3 snippet of the README ("Asynchronous
invocation"): ``orders`` fails, is tried three times with the same request
id (the TOML file shortens Lambda's 1 and 2 minutes between tries), and
``audit`` prints the ``RetriesExhausted`` record Lambda would send.
"""

from __future__ import annotations

import json
from typing import Any


def orders(event: dict[str, Any], context: Any) -> dict[str, Any]:
    print(f"attempt of {context.aws_request_id}: {json.dumps(event)}")
    if event.get("quantity", 0) <= 0:
        raise ValueError(f"cannot order {event.get('quantity')} items")
    return {"ordered": event["quantity"]}


def audit(record: dict[str, Any], context: Any) -> None:
    """An on-failure (or on-success) destination: the invocation record is its event."""
    print("record:", json.dumps(record, sort_keys=True))
