"""Handlers the benchmarks serve.

No imports at the top: every client's cold start pays for this module
(``typing`` alone would add about 10 ms). ``time`` is built in and already
imported by every runtime, so the stream handlers import it where they run.
"""


def echo(event: object, context: object) -> object:
    return event


def stream(event: dict[str, int], context: object) -> object:
    """``event["chunks"]`` chunks of ``event["size"]`` bytes, yielded one by one.

    The first starts with the clock at the first yield (``stream_timing``).
    """
    from time import monotonic_ns

    chunk = b"x" * event["size"]
    rest = chunk[20:]
    yield b"%020d" % monotonic_ns() + rest
    for _ in range(event["chunks"] - 1):
        yield chunk


def stream_buffered(event: dict[str, int], context: object) -> object:
    """The same bytes as ``stream``, returned whole: the buffered path.

    Its stamp is read when its first chunk is ready, as ``stream``'s is.
    """
    from time import monotonic_ns

    chunk = b"x" * event["size"]
    first = b"%020d" % monotonic_ns() + chunk[20:]
    return b"".join([first, *[chunk] * (event["chunks"] - 1)])
