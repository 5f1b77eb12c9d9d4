"""ric.log: sinks, telemetry frames, the error record's shapes, the import watch."""

from __future__ import annotations

import io
import json
import os
import struct
import sys
import threading
from collections.abc import Iterator, Sequence
from types import ModuleType

import pytest

from ric.log import FRAME_MAGIC, LogSink, frame, level_bits, when_imported
from ric.records import ErrorLog, error_text
from tests.conftest import TaskRoot

NBSP = "\u00a0"


def read_frames(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(type, microseconds, payload) of each frame, decoded independently of ric."""
    while data:
        kind, length, micros = struct.unpack(">IIQ", data[:16])
        yield kind, micros, data[16 : 16 + length]
        data = data[16 + length :]


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read, write = os.pipe()
    yield read, write
    os.close(read)
    os.close(write)


def drain(read: int) -> bytes:
    os.set_blocking(read, False)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(read, 65536)
        except BlockingIOError:
            return b"".join(chunks)
        chunks.append(chunk)


@pytest.mark.parametrize(
    ("error_type", "message", "stack", "text"),
    [
        (
            "ValueError",
            "bad",
            ['  File "/x.py", line 3, in h\n    raise ValueError("bad")\n'],
            "[ERROR] ValueError: bad\rTraceback (most recent call last):\r"
            f'{NBSP * 2}File "/x.py", line 3, in h\r{NBSP * 4}raise ValueError("bad")\n',
        ),
        ("ValueError", "", [], "[ERROR] ValueError\rTraceback (most recent call last):\n"),
        ("ValueError", "bad", [], "[ERROR] ValueError: bad\rTraceback (most recent call last):\n"),
        ("", "bad", [], "[ERROR] bad\rTraceback (most recent call last):\n"),
        (
            "E",
            "m",
            ["  a\n", "b  c\n", '  File "/y.py" Line 2\n    x = = 1\n'],
            f"[ERROR] E: m\rTraceback (most recent call last):\r{NBSP * 2}a\rb  c\r"
            f'{NBSP * 2}File "/y.py" Line 2\r{NBSP * 4}x = = 1\n',
        ),
    ],
    ids=["one-frame", "no-message", "no-stack", "no-type", "inner-spaces-kept"],
)
def test_error_text(error_type: str, message: str, stack: list[str], text: str) -> None:
    assert error_text(ErrorLog(error_type, message, "rid", stack)) == text


@pytest.mark.parametrize(
    ("levelno", "bits"), [(5, 0x00), (10, 0x08), (20, 0x0C), (30, 0x10), (40, 0x14), (50, 0x18)]
)
def test_level_bits(levelno: int, bits: int) -> None:
    assert level_bits(levelno) == bits


def test_frame_bytes() -> None:
    assert frame(0xA55A0003, b"hi", 0x0102030405060708) == (
        b"\xa5\x5a\x00\x03\x00\x00\x00\x02\x01\x02\x03\x04\x05\x06\x07\x08hi"
    )


def test_text_frames_from_a_real_pipe(pipe: tuple[int, int]) -> None:
    read, write = pipe
    sink = LogSink(write)
    sink.text("runtime says\nhello\n")
    sink.record("[INFO]\t...\tinfo\n", 20)
    sink.record("[CRITICAL]\t...\tboom\n", 50)
    frames = list(read_frames(drain(read)))
    assert [(kind, payload) for kind, _, payload in frames] == [
        (0xA55A0003, b"runtime says\nhello\n"),
        (0xA55A000F, b"[INFO]\t...\tinfo\n"),
        (0xA55A001B, b"[CRITICAL]\t...\tboom\n"),
    ]
    assert all(micros > 1_600_000_000_000_000 for _, micros, _ in frames)


def test_json_record_frame_type(pipe: tuple[int, int]) -> None:
    read, write = pipe
    LogSink(write, json=True).record('{"level": "WARNING"}\n', 30)
    [(kind, _, payload)] = read_frames(drain(read))
    assert (kind, payload) == (FRAME_MAGIC | 0x12, b'{"level": "WARNING"}\n')


STACK = ['  File "/x.py", line 3, in h\n    raise ValueError("bad")\n']


def test_error_in_a_text_frame_is_one_record(pipe: tuple[int, int]) -> None:
    read, write = pipe
    LogSink(write).error(ErrorLog("ValueError", "bad", "rid", STACK))
    [(kind, _, payload)] = read_frames(drain(read))
    assert kind == 0xA55A0017
    assert payload.decode() == (
        "[ERROR] ValueError: bad\nTraceback (most recent call last):\n"
        f'{NBSP * 2}File "/x.py", line 3, in h\n{NBSP * 4}raise ValueError("bad")'
    )


@pytest.mark.parametrize("framed", [True, False])
def test_error_as_json(pipe: tuple[int, int], framed: bool) -> None:
    read, write = pipe
    stream = io.StringIO()
    sink = LogSink(write if framed else None, json=True, stream=stream)
    sink.error(ErrorLog("ValueError", "bad", "rid", STACK))
    if framed:
        [(kind, _, payload)] = read_frames(drain(read))
        assert kind == 0xA55A0016
        text = payload.decode()
    else:
        text = stream.getvalue()
        assert text.endswith("}\n")
        assert text.count("\n") == 1
    record = json.loads(text)
    assert record.pop("timestamp").endswith("Z")
    assert record == {
        "level": "ERROR",
        "errorMessage": "bad",
        "errorType": "ValueError",
        "requestId": "rid",
        "stackTrace": STACK,
    }


def test_stdout_sink_flushes_each_write() -> None:
    buffer = io.BytesIO()
    stream = io.TextIOWrapper(buffer, encoding="utf-8")
    LogSink(stream=stream).text("a line\n")
    assert buffer.getvalue() == b"a line\n"


def test_frames_of_many_threads_never_interleave(pipe: tuple[int, int]) -> None:
    read, write = pipe
    sink = LogSink(write)
    payloads = [f"{n}".encode() * 100_000 for n in range(4)]
    received = bytearray()
    reader = threading.Thread(target=lambda: received.extend(read_all(read, 4 * (16 + 100_000))))
    reader.start()
    writers = [threading.Thread(target=sink.text, args=(p.decode(),)) for p in payloads]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    reader.join()
    assert sorted(payload for _, _, payload in read_frames(bytes(received))) == payloads


def read_all(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        data += os.read(fd, size - len(data))
    return data


def test_when_imported_now_if_already_imported() -> None:
    seen: list[ModuleType] = []
    when_imported("json", seen.append)
    assert seen == [json]


@pytest.fixture
def finders() -> Iterator[Sequence[object]]:
    """The meta path finders before the test, put back after it (a watch may be left)."""
    before = list(sys.meta_path)
    yield before
    sys.meta_path[:] = before


def importable(task_root: TaskRoot, suffix: str, source: str = "VALUE = 1\n") -> str:
    """The name of a new module in the task root, now on ``sys.path``."""
    name = f"{task_root.name}_{suffix}"
    task_root.write(f"{name}.py", source)
    sys.path.insert(0, task_root.root)
    return name


def test_when_imported_runs_right_after_the_module(
    task_root: TaskRoot, finders: Sequence[object]
) -> None:
    watched = importable(task_root, "watched")
    user = importable(task_root, "user", f"import {watched}\nSEEN = {watched}.SEEN\n")

    def mark(module: ModuleType) -> None:
        module.SEEN = module.VALUE + 1  # type: ignore[attr-defined]

    when_imported(watched, mark)
    # The callback ran before the importing module went on, and the watch is gone.
    assert __import__(user).SEEN == 2
    assert sys.meta_path == finders


def test_when_imported_of_a_missing_module_lets_the_import_fail(
    task_root: TaskRoot, finders: Sequence[object]
) -> None:
    seen: list[ModuleType] = []
    name = f"{task_root.name}_later"
    when_imported(name, seen.append)
    with pytest.raises(ModuleNotFoundError):
        __import__(name)
    # Still watching: the module may exist later.
    module = __import__(importable(task_root, "later", "VALUE = 3\n"))
    assert seen == [module]
    assert sys.meta_path == finders


def test_a_lookup_alone_does_not_end_the_watch(
    task_root: TaskRoot, finders: Sequence[object]
) -> None:
    import importlib
    import importlib.util

    name = importable(task_root, "looked")
    seen: list[ModuleType] = []
    when_imported(name, seen.append)
    assert importlib.util.find_spec(name) is not None
    assert seen == []
    module = importlib.import_module(name)
    assert seen == [module]
    importlib.reload(module)  # the callback ran once: no second handler, say
    assert seen == [module]


class OldFinder:
    """A finder of the kind Python 3.4 deprecated: find_module only."""

    def find_module(self, name: str, path: object = None) -> None:
        return None


def test_an_old_finder_ahead_does_not_break_the_import(
    task_root: TaskRoot, finders: Sequence[object]
) -> None:
    name = importable(task_root, "behind_old", "VALUE = 2\n")
    seen: list[ModuleType] = []
    sys.meta_path.insert(0, OldFinder())  # type: ignore[arg-type]
    when_imported(name, seen.append)
    module = __import__(name)
    assert seen == [module]
