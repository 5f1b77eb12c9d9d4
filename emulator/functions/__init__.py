"""A function's environments: which one serves an invocation, and the retries of
asynchronous ones.
"""

__all__: list[str] = []
