"""Wire shapes of the APIs the emulator serves, without I/O: paths, headers, error
bodies and statuses, each in one place.
"""

__all__: list[str] = []
