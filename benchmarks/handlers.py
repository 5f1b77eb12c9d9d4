"""Handlers the benchmarks serve.

No imports at the top: every client's cold start pays for this module
(``typing`` alone would add about 10 ms). ``time`` is built in and already
imported by every runtime, so the stream handlers import it where they run,
as they do ``json`` and ``ric`` (which the runtime has loaded already).

The stream handlers serve a function URL too: its event (payload format
2.0) carries the stream's spec as the request's body, and the answer is an
HTTP response (``ric.HttpStream``, status 200).
"""

from __future__ import annotations

# Read by type checkers only: the module imports nothing when it runs.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator


def echo(event: object, context: object) -> object:
    return event


def stream(event: dict[str, int], context: object) -> object:
    """``chunks`` chunks of ``size`` bytes, yielded one by one.

    The first starts with the clock at the first yield (``stream_timing``).
    """
    if "requestContext" in event:
        from ric import HttpStream

        return HttpStream(_chunks(_url_spec(event)))
    return _chunks(event)


def stream_buffered(event: dict[str, int], context: object) -> object:
    """The same bytes as ``stream``, returned whole: the buffered path.

    Its stamp is read when its first chunk is ready, as ``stream``'s is.
    """
    from time import monotonic_ns

    spec = _url_spec(event) if "requestContext" in event else event
    chunk = b"x" * spec["size"]
    first = b"%020d" % monotonic_ns() + chunk[20:]
    return b"".join([first, *[chunk] * (spec["chunks"] - 1)])


def _chunks(spec: dict[str, int]) -> Iterator[bytes]:
    from time import monotonic_ns

    chunk = b"x" * spec["size"]
    rest = chunk[20:]
    yield b"%020d" % monotonic_ns() + rest
    for _ in range(spec["chunks"] - 1):
        yield chunk


def _url_spec(event: dict[str, int]) -> dict[str, int]:
    """The spec a function URL's request carried as its body (JSON)."""
    from json import loads

    spec: dict[str, int] = loads(str(event["body"]))  # a str (the event is typed for the rest)
    return spec


async def async_echo(event: object, context: object) -> object:
    """``echo`` as an ``async def`` handler: run on ric's persistent event loop."""
    return event


def asyncio_run_echo(event: object, context: object) -> object:
    """What awslambdaric users write for async code: a new event loop per invocation."""
    import asyncio

    return asyncio.run(async_echo(event, context))


async def wait_echo(event: dict[str, int], context: object) -> object:
    """Await ``event["wait_ms"]`` (an I/O call's time), then echo: the concurrency suite's."""
    import asyncio

    await asyncio.sleep(event["wait_ms"] / 1000)
    return event


def sqs_stamp(event: dict[str, list[dict[str, str]]], context: object) -> None:
    """Print how long ago each record's body (a ``time.time()`` stamp) was sent, in ms."""
    from time import time

    now = time()
    for record in event["Records"]:
        print(f"sqs_ms={(now - float(record['body'])) * 1000:.3f}")
