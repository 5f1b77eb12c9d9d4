"""Handlers the benchmarks serve.

No imports: every client's cold start pays for this module (``typing`` alone
would add about 10 ms).
"""


def echo(event: object, context: object) -> object:
    return event
