"""What the emulator shows of its functions, derived from the lifecycle events of
:mod:`emulator.core.events`: the log lines on its output, and log tails.
"""

__all__: list[str] = []
