"""``python -m emulator invoke``: the matching client, over httpx.

Prints the function's answer on standard output; a function error also goes
there (as Lambda returns it) and makes the exit status 1; ``--tail`` prints
the invocation's log tail on standard error.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m emulator invoke", description="Invoke a function of a running emulator."
    )
    parser.add_argument(
        "name", nargs="?", default="function", help="function name (default 'function')"
    )
    parser.add_argument(
        "--qualifier", help="a version or alias to run (Invoke's Qualifier; default $LATEST)"
    )
    parser.add_argument(
        "--payload", default="", help="the event: JSON text, or @FILE to read it from"
    )
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument(
        "--event", action="store_true", help="asynchronous invocation (202, no answer)"
    )
    kind.add_argument("--dry-run", action="store_true", help="validate only (204)")
    parser.add_argument(
        "--tail", action="store_true", help="print the last 4 KB of the log to stderr"
    )
    parser.add_argument(
        "--url",
        default=os.environ.get("EMULATOR_URL", "http://127.0.0.1:9000"),
        help="the emulator (default $EMULATOR_URL or http://127.0.0.1:9000)",
    )
    parser.add_argument(
        "--timeout", type=float, default=905.0, help="seconds to wait (default 905)"
    )
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    import httpx

    payload = args.payload
    if payload.startswith("@"):
        payload = Path(payload[1:]).read_text()
    kind = "Event" if args.event else "DryRun" if args.dry_run else "RequestResponse"
    headers = {"X-Amz-Invocation-Type": kind, "X-Amz-Log-Type": "Tail" if args.tail else "None"}
    url = f"{args.url.rstrip('/')}/2015-03-31/functions/{args.name}/invocations"
    try:
        response = httpx.post(
            url,
            content=payload.encode(),
            headers=headers,
            params={"Qualifier": args.qualifier} if args.qualifier else None,
            timeout=args.timeout,
        )
    except httpx.HTTPError as exc:
        sys.stderr.write(f"emulator invoke: error: {exc}\n")
        return 2
    if args.tail and "x-amz-log-result" in response.headers:
        sys.stderr.write(
            base64.b64decode(response.headers["x-amz-log-result"]).decode(errors="replace")
        )
    if response.content:
        sys.stdout.write(response.text + "\n")
    if response.status_code >= 400:
        error_type = response.headers.get("x-amzn-errortype", "")
        sys.stderr.write(f"emulator invoke: {response.status_code} {error_type}\n")
        return 2
    return 1 if "x-amz-function-error" in response.headers else 0
