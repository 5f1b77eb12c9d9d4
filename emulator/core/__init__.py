"""The emulator's rules without I/O: no asyncio, no sockets, no HTTP statuses.

Clocks and id sources are passed in. Drivers (``emulator.environments``,
``emulator.functions``) feed events to these objects and carry out the effects
they return.
"""

__all__: list[str] = []
