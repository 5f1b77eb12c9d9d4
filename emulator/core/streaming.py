"""How fast and how far a streamed response may go, without I/O.

"Response streaming for Lambda functions" (configuration-response-streaming.html,
"Bandwidth limits for response streaming"): a streamed response may reach
200 MB; its first 6 MB go at full speed, the rest at up to 2 MBps. MB here is
MiB, as in the 6 MB limit of a buffered response.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MIB", "STREAM_BURST", "STREAM_LIMIT", "STREAM_RATE", "StreamLimits", "Throttle"]

MIB = 1024 * 1024
STREAM_LIMIT = 200 * MIB
STREAM_BURST = 6 * MIB
STREAM_RATE = 2 * MIB  # bytes per second after the burst


@dataclass(frozen=True)
class StreamLimits:
    """A streamed response's size limit and bandwidth; ``rate`` None lifts the cap."""

    limit: int = STREAM_LIMIT
    burst: int = STREAM_BURST
    rate: float | None = STREAM_RATE

    def __post_init__(self) -> None:
        if self.limit < 1 or self.burst < 0 or (self.rate is not None and self.rate <= 0):
            raise ValueError(f"bad stream limits: {self}")


class Throttle:
    """One stream's bandwidth: how long to hold each chunk back (the clock passed in).

    The burst goes at once; from the moment it is used up, bytes are let
    through at ``rate``: a chunk waits until the bytes after the burst, its
    own included, are no more than ``rate`` times the seconds since.
    """

    __slots__ = ("_limits", "_past_burst_at", "_sent")

    def __init__(self, limits: StreamLimits) -> None:
        self._limits = limits
        self._sent = 0
        self._past_burst_at: float | None = None

    @property
    def sent(self) -> int:
        return self._sent

    def delay(self, size: int, now: float) -> float:
        """Seconds to hold a chunk of ``size`` bytes back, counted from ``now``."""
        limits = self._limits
        self._sent += size
        over = self._sent - limits.burst
        if limits.rate is None or over <= 0:
            return 0.0
        if self._past_burst_at is None:
            self._past_burst_at = now
        return max(0.0, over / limits.rate - (now - self._past_burst_at))
