"""Event source mappings: the registry the control plane changes, and a poller each."""

from emulator.sources.poller import MappingCounters, Poller
from emulator.sources.service import MappingExists, MappingService, NoSuchFunction, NoSuchMapping

__all__ = [
    "MappingCounters",
    "MappingExists",
    "MappingService",
    "NoSuchFunction",
    "NoSuchMapping",
    "Poller",
]
