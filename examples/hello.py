"""An example function: greets whoever the event names."""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    name = event.get("name", "world")
    print(f"greeting {name}")
    return {
        "greeting": f"Hello, {name}!",
        "request_id": context.aws_request_id,
        "function": context.function_name,
    }
