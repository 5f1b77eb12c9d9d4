"""The ``stream`` suite through the emulator: every runtime a function of the same emulator.

One emulator (``python -m emulator --config``) serves each runtime measured
as a function of its own, with the runtime's command as its ``command`` and
a function URL in ``RESPONSE_STREAM`` mode. The runtimes get Lambda's
variables from the emulator (Node's client exits without ``_HANDLER``,
``AWS_LAMBDA_FUNCTION_VERSION``, ``AWS_LAMBDA_LOG_GROUP_NAME`` and
``AWS_LAMBDA_LOG_STREAM_NAME``: the emulator sets them all), so the ones a
command sets for the fake Runtime API are left out (``runtime_command``). It
runs with ``--stream-rate 0``: Lambda's 2 MiB/s past the first 6 MiB is
lifted, so that a long stream measures the emulator, not the cap.

Each repetition (``ThroughEmulator.rep``, run between the fake Runtime API's
repetitions, each runtime in turn) times:

    first_byte  16 chunks of 1 KiB through each path (``stream_callers.PATHS``):
                first yield to first byte at the caller, and to the last
    whole       4 MiB in 64 KiB chunks, raw HTTP on InvokeWithResponseStream:
                MB/s, the caller's CPU per MB, the emulator's; every runtime
                (a buffered answer may be 6 MB, as in Lambda)
    long        the fake Runtime API's long stream (``--stream-mib``), the
                same way, by the runtimes that stream

CPU: the caller's is that of the thread of this process that calls
(``time.thread_time_ns``; the emulator's output goes to files, so no other
thread here does anything); the emulator's is its process's threads
(``/proc``), over the same invocations. ``overhead``: first byte through the
emulator minus first byte at the fake Runtime API, same run (for raw HTTP
both are kernel receive stamps).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from clients import HERE, PY, ROOT
from end_to_end import function_name
from fake_api import cpu_ns
from fake_stream import StreamSpec
from stats import median, median_figures, ratio, ratios, rotated, stream_figures
from stream_callers import PATHS, Boto3Caller, CallFailed, RawCaller, Timed, invoke_target
from stream_timing import StreamRecord
from streaming import BUFFERED, NODE, Plan, Streamer, time_callers

__all__ = [
    "BUFFERED_LIMIT",
    "FLAGS",
    "EmulatorPlan",
    "Endpoints",
    "StreamEmulator",
    "ThroughEmulator",
    "able",
    "emulator_plan",
    "function_table",
    "overhead",
    "parse_banner",
    "run_figures",
    "runtime_command",
]

FLAGS = ("--port", "0", "--stream-rate", "0")
# "Lambda quotas": a synchronous invocation's response, 6 MB; the emulator's too.
BUFFERED_LIMIT = 6 * 1024 * 1024
TABLE = """
[functions.{name}]
command = {command}
handler = {handler}
code_dir = {code}
memory = 2048
timeout = 120
concurrency = 1
url = {{ port = 0, invoke_mode = "RESPONSE_STREAM" }}
"""
_LISTENING = "emulator: listening on "
_URL = "emulator: function URL of "


@dataclass(frozen=True)
class EmulatorPlan:
    """Each stream through the emulator and how many times a run invokes it (after warm-up)."""

    first_byte: StreamSpec
    first_byte_invocations: int
    whole: StreamSpec
    whole_invocations: int
    long: StreamSpec
    long_invocations: int
    warmup: int = 2


def emulator_plan(plan: Plan, quick: bool) -> EmulatorPlan:
    """The streams of the fake Runtime API's plan, and a whole one under the buffered limit."""
    if quick:
        return EmulatorPlan(plan.first_byte, 3, StreamSpec(16, 65536), 1, plan.throughput, 1, 1)
    return EmulatorPlan(plan.first_byte, 100, StreamSpec(64, 65536), 4, plan.throughput, 2)


@dataclass(frozen=True)
class Endpoints:
    """The emulator's Invoke API and each function's URL."""

    invoke: str
    urls: Mapping[str, str]


def parse_banner(text: str, functions: Sequence[str]) -> Endpoints | None:
    """The addresses the emulator printed first; None until it printed every function's URL."""
    invoke, urls = None, {}
    for line in text.splitlines():
        if line.startswith(_LISTENING):
            invoke = line[len(_LISTENING) :].split()[0]
        elif line.startswith(_URL):
            name, _, url = line[len(_URL) :].partition(": ")
            urls[name] = url.strip()
    if invoke is None or not set(functions) <= set(urls):
        return None
    return Endpoints(invoke, urls)


def runtime_command(argv: Sequence[str], pythonpath: str) -> list[str]:
    """A runtime's command under the emulator: without the variables it set for the fake
    Runtime API (the emulator sets Lambda's), with the path its code imports from."""
    rest = list(argv)
    if rest[:1] == ["env"]:
        rest = rest[1:]
        while rest and "=" in rest[0]:
            rest = rest[1:]
    return ["env", f"PYTHONPATH={pythonpath}", *rest]


def function_table(function: str, streamer: Streamer, code_dir: Path) -> str:
    """The TOML table of one runtime's function (JSON strings are TOML basic strings)."""
    return TABLE.format(
        name=function,
        command=json.dumps(runtime_command(streamer.argv(), streamer.client.pythonpath)),
        handler=json.dumps(streamer.handler),
        code=json.dumps(str(code_dir)),
    )


class StreamEmulator:
    """The emulator serving each runtime as a function: started on entry, stopped on exit."""

    def __init__(self, runtimes: Sequence[Streamer], code_dir: Path = HERE) -> None:
        self.runtimes = list(runtimes)
        self.functions = {s.name: function_name(s.name) for s in runtimes}
        self.code_dir = code_dir
        self.endpoints = Endpoints("", {})
        self._folder = tempfile.TemporaryDirectory(prefix="ric-stream-emulator-")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> StreamEmulator:
        folder = Path(self._folder.name)
        config = folder / "functions.toml"
        tables = [function_table(self.functions[s.name], s, self.code_dir) for s in self.runtimes]
        config.write_text("".join(tables))
        command = [PY, "-m", "emulator", *FLAGS, "--config", str(config)]
        # Files, not pipes: nothing in this process reads while callers are timed.
        with (folder / "stdout").open("wb") as out, (folder / "stderr").open("wb") as err:
            self._process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)
        try:
            self.endpoints = self._wait_for_banner(folder)
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def _wait_for_banner(self, folder: Path, seconds: float = 30.0) -> Endpoints:
        assert self._process is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._process.poll() is None:
            found = parse_banner((folder / "stdout").read_text(), list(self.functions.values()))
            if found is not None:
                return found
            time.sleep(0.02)
        said = (folder / "stderr").read_text()[-2000:]
        raise RuntimeError(f"the emulator did not start (exit {self._process.poll()}): {said}")

    def _stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._folder.cleanup()


def able(runtimes: Sequence[Streamer], spec: StreamSpec) -> list[Streamer]:
    """The runtimes that can answer ``spec``: a buffered answer is at most 6 MB."""
    return [s for s in runtimes if s.name != BUFFERED or spec.total <= BUFFERED_LIMIT]


def run_figures(
    timed: Sequence[Timed | StreamRecord], caller_cpu_ns: int, emulator_cpu_ns: int
) -> dict[str, float]:
    """One run's figures: medians over its streams, CPU over them all (per MB and each).

    ``first_byte_us`` is when the bytes arrived for a raw caller (``Timed``),
    when boto3 handed them over for boto3 (a ``StreamRecord``);
    ``first_read_us`` when a raw caller's read returned them.
    """
    records = [t.arrived if isinstance(t, Timed) else t for t in timed]
    base = stream_figures(records, caller_cpu_ns, emulator_cpu_ns, 0)
    figures = {
        "first_byte_us": base["first_byte_us"],
        "last_byte_us": base["last_byte_us"],
        "mb_per_s": base["mb_per_s"],
        "caller_cpu_us_per_invocation": base["cpu_us_per_invocation"],
        "caller_cpu_us_per_mb": base["cpu_us_per_mb"],
        "emulator_cpu_us_per_invocation": emulator_cpu_ns / 1000 / max(len(timed), 1),
        "emulator_cpu_us_per_mb": base["server_cpu_us_per_mb"],
        "chunks": base["chunks"],
    }
    reads = [t.read.first_byte_us for t in timed if isinstance(t, Timed)]
    if reads:
        figures["first_read_us"] = median(reads)
    return figures


def overhead(
    fake: Mapping[str, Mapping[str, float]],
    through: Mapping[str, Mapping[str, Mapping[str, float]]],
) -> dict[str, dict[str, dict[str, float | None]]]:
    """By path and runtime: first byte through the emulator minus, and over, the fake API's."""
    return {
        path: {
            name: {
                "added_us": figures["first_byte_us"] - fake[name]["first_byte_us"],
                "ratio": ratio(figures["first_byte_us"], fake[name]["first_byte_us"]),
            }
            for name, figures in table.items()
            if name in fake
        }
        for path, table in through.items()
    }


class ThroughEmulator:
    """Times the streams of ``plan`` through ``emulator``, one repetition at a time."""

    def __init__(
        self,
        emulator: StreamEmulator,
        plan: EmulatorPlan,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.emulator = emulator
        self.plan = plan
        self.clock = clock
        self.reps = 0
        has_boto3 = importlib.util.find_spec("boto3") is not None
        self.paths = [p for p in PATHS if has_boto3 or p != "boto3"]
        self.skipped = [] if has_boto3 else ["boto3: not installed"]
        endpoints = emulator.endpoints
        self._invoke = RawCaller(endpoints.invoke, clock)
        self._urls = {f: RawCaller(endpoints.urls[f], clock) for f in emulator.functions.values()}
        self._boto3 = Boto3Caller(endpoints.invoke) if has_boto3 else None
        self._runs: dict[tuple[str, str], dict[str, list[dict[str, float]]]] = {}

    def rep(self, rep: int) -> None:
        """One repetition: each path, then each long stream, every runtime in turn."""
        plan = self.plan
        runtimes = self.emulator.runtimes
        for path in self.paths:
            for streamer in rotated(runtimes, rep):
                self._measure(
                    ("first_byte", path), streamer, plan.first_byte, plan.first_byte_invocations
                )
        for scenario, spec, count in (
            ("whole", plan.whole, plan.whole_invocations),
            ("long", plan.long, plan.long_invocations),
        ):
            for streamer in rotated(able(runtimes, spec), rep):
                self._measure((scenario, "invoke"), streamer, spec, count)
        self.reps += 1

    def close(self) -> None:
        """Hang up every caller's connections."""
        for caller in (self._invoke, *self._urls.values()):
            caller.close()
        if self._boto3 is not None:
            self._boto3.close()

    def results(self, fake_first_byte: Mapping[str, Mapping[str, float]]) -> dict[str, Any]:
        """The figures' medians over the repetitions, their ratios, the emulator's overhead."""
        names = [s.name for s in self.emulator.runtimes]
        reference = NODE if NODE in names else BUFFERED
        results: dict[str, Any] = {
            "flags": list(FLAGS),
            "paths": self.paths,
            "skipped": self.skipped,
            "reference": reference,
            "unstamped_reads": self._invoke.unstamped_reads
            + sum(c.unstamped_reads for c in self._urls.values()),
        }
        first: dict[str, dict[str, dict[str, float]]] = {}
        for (scenario, path), runs in self._runs.items():
            table = {name: median_figures(figures) for name, figures in runs.items()}
            if scenario == "first_byte":
                first[path] = table
            found = results.setdefault(scenario, self._spec(scenario))
            found.setdefault("paths", {})[path] = {
                "figures": table,
                "ratios": ratios(table, reference),
                "vs_buffered": ratios(table, BUFFERED),
            }
        results["overhead"] = overhead(fake_first_byte, first)
        return results

    def _spec(self, scenario: str) -> dict[str, Any]:
        spec: StreamSpec = getattr(self.plan, scenario)
        count: int = getattr(self.plan, f"{scenario}_invocations")
        return {"chunks": spec.chunks, "size": spec.size, "invocations": count, "reps": self.reps}

    def _measure(
        self, key: tuple[str, str], streamer: Streamer, spec: StreamSpec, count: int
    ) -> None:
        function = self.emulator.functions[streamer.name]
        calls = self._calls(key[1], function, spec)
        calls(self.plan.warmup)
        caller, emulator = time.thread_time_ns(), cpu_ns(self.emulator.pid)
        timed = calls(count)
        caller, emulator = time.thread_time_ns() - caller, cpu_ns(self.emulator.pid) - emulator
        for one in timed:
            _check(one, spec, function)
        runs = self._runs.setdefault(key, {})
        runs.setdefault(streamer.name, []).append(run_figures(timed, caller, emulator))

    def _calls(
        self, path: str, function: str, spec: StreamSpec
    ) -> Callable[[int], Sequence[Timed | StreamRecord]]:
        """Invokes ``function`` so many times through ``path``: each stream as it came."""
        if path == "boto3":
            assert self._boto3 is not None
            invoke = self._boto3.invoker(function)
            return lambda count: time_callers(invoke, spec, count, self.clock)
        raw = self._invoke if path == "invoke" else self._urls[function]
        target, event = invoke_target(function) if path == "invoke" else "/", spec.event()
        return lambda count: [raw.call(target, event, path == "invoke") for _ in range(count)]


def _check(timed: Timed | StreamRecord, spec: StreamSpec, function: str) -> None:
    """A benchmark of a failing function measures nothing: each stream must be whole."""
    record = timed.arrived if isinstance(timed, Timed) else timed
    if record.error_type is not None or record.data_bytes != spec.total:
        raise CallFailed(
            f"{function}: {record.data_bytes} of {spec.total} bytes, error {record.error_type}"
        )
