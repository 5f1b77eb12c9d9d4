"""The SQS mapping tests' function: copied into the emulator's code directory.

Each invocation appends a line to the file ``$OUT`` (its request id and its
records), so a test sees every batch the function got. A record whose body is
``fail`` is reported in ``batchItemFailures``; one whose body is ``raise``
makes the whole invocation fail.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

__all__ = ["collect"]


def collect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event["Records"]
    line = {"requestId": context.aws_request_id, "records": records}
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(line) + "\n")
    if any(record["body"] == "hold" for record in records):
        time.sleep(60)
    if any(record["body"] == "raise" for record in records):
        raise RuntimeError("this batch fails")
    failed = [r["messageId"] for r in records if r["body"] == "fail"]
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}
