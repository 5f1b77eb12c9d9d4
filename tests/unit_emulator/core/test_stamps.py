"""emulator.core.stamps: Lambda's timestamps, rounded without going back a second."""

from __future__ import annotations

from emulator.core.stamps import api_timestamp


def test_milliseconds_round_up_into_the_next_second() -> None:
    assert api_timestamp(1764620515.9996) == "2025-12-01T20:21:56.000+0000"
    assert api_timestamp(1764620515.123) == "2025-12-01T20:21:55.123+0000"


def test_without_milliseconds() -> None:
    assert api_timestamp(1764620515.6, millis=False) == "2025-12-01T20:21:56+0000"
