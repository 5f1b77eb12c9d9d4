"""An SQS consumer with partial batch responses: a bad order fails alone.

Served by the emulator with an event source mapping (see examples/sqs_demo.py):

    python -m emulator sqs_orders.handler --code-dir examples --sqs
"""

from __future__ import annotations

import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        order = json.loads(record["body"])
        if order["qty"] <= 0:
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        print(f"order {order['order']}: {order['qty']} shipped")
    # Only these come back to the queue; the rest of the batch is deleted.
    return {"batchItemFailures": failures}
