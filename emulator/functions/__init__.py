"""A function's environments: which one serves an invocation, and its configuration now."""

__all__: list[str] = []
