"""emulator.environments.output: lines and frames from bytes, in linear time."""

from __future__ import annotations

import struct

from emulator.environments.output import FrameSplitter, LineSplitter


def test_lines_split_at_any_byte_and_a_partial_line_waits_for_flush() -> None:
    data = "one\ntwö\n\nthree".encode()
    for cut in range(len(data) + 1):
        splitter = LineSplitter()
        lines = splitter.feed(data[:cut]) + splitter.feed(data[cut:])
        assert lines == ["one", "twö", ""]
        assert splitter.flush() == ["three"]
        assert splitter.flush() == []


def test_a_long_line_is_cut_into_pieces_of_the_maximum() -> None:
    splitter = LineSplitter(max_line=4)
    assert splitter.feed(b"abcdefghij") == ["abcd", "efgh"]
    assert splitter.feed(b"k\nxy") == ["ijk"]
    assert splitter.flush() == ["xy"]


def test_48_mb_without_a_newline_comes_out_in_pieces_as_it_arrives() -> None:
    splitter = LineSplitter()
    chunk = b"x" * 65536
    pieces = [len(splitter.feed(chunk)) for _ in range(768)]  # 48 MiB, 64 KiB at a time
    # A 256 KiB piece every fourth chunk: nothing is held back and joined again.
    assert pieces == [0, 0, 0, 0, *([1, 0, 0, 0] * 191)][:768]
    assert [len(line) for line in splitter.flush()] == [256 * 1024]


def frame(payload: bytes) -> bytes:
    return struct.pack(">IIQ", 0xA55A0003, len(payload), 1) + payload


def test_frames_are_records_whatever_the_reads() -> None:
    data = frame(b"first\nrecord\n") + frame(b"") + frame("😀".encode())
    for cut in range(len(data) + 1):
        splitter = FrameSplitter()
        assert splitter.feed(data[:cut]) + splitter.feed(data[cut:]) == ["first\nrecord", "", "😀"]


def test_an_oversized_frame_keeps_its_start_and_the_stream_goes_on() -> None:
    splitter = FrameSplitter(max_record=3)
    data = frame(b"abcdefgh") + frame(b"ok")
    assert [r for i in range(len(data)) for r in splitter.feed(data[i : i + 1])] == ["abc", "ok"]
