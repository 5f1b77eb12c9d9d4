"""The I/O drivers of an execution environment: its runtime process, the process's
output, and the driver that runs :mod:`emulator.core.lifecycle` over them and the
Runtime API.
"""

__all__: list[str] = []
