"""Streams timed against their handler's stamp, with clocks the test sets; their figures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_stream import StreamSpec
from stats import median_figures, ratios, stream_figures
from stream_timing import STAMP, StreamRecord, StreamTimer, parse_stamp, stamp, time_stream


def _clock(*readings: int) -> Iterator[int]:
    return iter(readings)


def test_a_stamp_is_twenty_digits_and_reads_back() -> None:
    assert stamp(1_234_567) == b"00000000000001234567"
    assert len(stamp(2**63)) == STAMP
    assert parse_stamp(stamp(987_654_321) + b"xxxx") == 987_654_321
    for bad in (b"", b"0000", b"x" * 25, b"0000000000000000000-1"):
        with pytest.raises(ValueError, match="clock stamp"):
            parse_stamp(bad)


def test_a_stream_timed_as_its_caller_reads_it() -> None:
    # The stamp is cut over two chunks, and an empty chunk comes between.
    chunks = [stamp(1_000_000)[:7], b"", stamp(1_000_000)[7:] + b"x" * 980, b"y" * 1000]
    clock = _clock(1_250_000, 1_300_000, 1_400_000, 1_500_000, 2_000_000)
    record = time_stream(chunks, clock.__next__)
    assert record == StreamRecord(2000, 3, 1_000_000, 1_250_000, 2_000_000)
    assert record.first_byte_us == 250.0
    assert record.seconds == 0.001
    assert record.mb_per_s == pytest.approx(2000 / 1e6 / 0.001)


def test_a_body_readers_totals_take_the_first_arrival() -> None:
    timer = StreamTimer()
    timer.counted(b"", 0, 5)  # a head alone: no body byte yet
    timer.counted(stamp(3)[:10], 10, 7)
    timer.counted(stamp(3), 5000, 9)
    record = timer.record(11, chunks=4, streamed=False, error_type="Oops")
    assert record == StreamRecord(5000, 4, 3, 7, 11, False, "Oops")


def test_the_last_byte_is_never_before_the_first() -> None:
    # Two readings of the kernel's stamps of one packet can differ by the
    # jitter of converting them to the monotonic clock.
    timer = StreamTimer()
    timer.counted(stamp(1), 100, 1000)
    assert timer.record(999).last_byte_ns == 1000


def test_an_empty_stream_has_no_first_byte() -> None:
    with pytest.raises(ValueError, match="empty stream"):
        StreamTimer().record(10)


def test_a_spec_asks_for_at_least_a_stamp() -> None:
    assert StreamSpec(1024, 65536).total == 64 * 1024 * 1024
    for bad in ((0, 100), (1, STAMP - 1)):
        with pytest.raises(ValueError, match="at least one chunk"):
            StreamSpec(*bad)


def _record(
    first_us: int, total_us: int, size: int, streamed: bool = True, error: str | None = None
) -> StreamRecord:
    return StreamRecord(size, 4, 0, first_us * 1000, total_us * 1000, streamed, error)


def test_stream_figures_of_one_run() -> None:
    records = [
        _record(100, 1000, 2_000_000),
        _record(300, 4000, 2_000_000),
        _record(200, 2000, 2_000_000, streamed=False, error="E"),
    ]
    figures = stream_figures(records, cpu_ns=6_000_000, server_cpu_ns=3_000_000, peak_rss_kib=99)
    assert figures == {
        "first_byte_us": 200.0,
        "last_byte_us": 2000.0,
        "mb_per_s": 1000.0,  # 2 MB in 2 ms
        "cpu_us_per_invocation": 2000.0,
        "cpu_us_per_mb": 1000.0,
        "server_cpu_us_per_mb": 500.0,
        "peak_rss_kib": 99.0,
        "chunks": 4.0,
        "streamed": pytest.approx(2 / 3),
        "errors": 1.0,
    }


def test_stream_figures_of_nothing_are_zero() -> None:
    figures = stream_figures([], 0, 0, 0)
    assert set(figures.values()) == {0.0}


def test_median_figures_over_runs_and_ratios_to_the_reference() -> None:
    runs = [{"a": 1.0, "b": 10.0}, {"a": 3.0, "b": 30.0}, {"a": 2.0, "b": 50.0}]
    assert median_figures(runs) == {"a": 2.0, "b": 30.0}
    assert median_figures([]) == {}
    table = {"ric": {"a": 1.0, "b": 3.0}, "node-ric": {"a": 2.0, "b": 0.0}}
    assert ratios(table, "node-ric") == {
        "ric": {"a": 0.5, "b": None},
        "node-ric": {"a": 1.0, "b": None},
    }
    assert ratios(table, "absent") == {
        "ric": {"a": None, "b": None},
        "node-ric": {"a": None, "b": None},
    }
