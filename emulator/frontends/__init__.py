"""The APIs callers use: the Invoke API today; statuses are chosen here, at the edge."""

__all__: list[str] = []
