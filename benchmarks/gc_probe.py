"""Run a runtime with its garbage collector's work recorded: a diagnosis of init, not a timing.

    python benchmarks/gc_probe.py RECORD -m MODULE [ARG ...]
    python benchmarks/gc_probe.py RECORD SCRIPT [ARG ...]

Runs ``python -m MODULE ARG ...`` (or ``python SCRIPT ...``) through ``runpy``, after
adding a ``gc.callbacks`` entry, so nothing is installed in the environment
(no ``sitecustomize``) and the runtime itself is unchanged. After every
collection RECORD holds one line, rewritten in place: collections of
generations 0, 1 and 2 so far, nanoseconds spent in them, objects freed
(``stats.parse_gc_record`` reads it). Read at the first ``GET /next``, it tells
how much of init the collector took.
"""

from __future__ import annotations

import gc
import os
import runpy
import sys
import time
from typing import Any

__all__ = ["GcTally", "main"]


class GcTally:
    """Adds up the collector's work and rewrites the record after each collection."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.counts = [0, 0, 0]
        self.gc_ns = 0
        self.collected = 0
        self.began = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self.began = time.perf_counter_ns()
            return
        self.gc_ns += time.perf_counter_ns() - self.began
        self.counts[info["generation"]] += 1
        self.collected += info["collected"]
        # Fixed-width fields: each record covers the last one whole.
        record = b"%12d %12d %12d %15d %12d\n" % (*self.counts, self.gc_ns, self.collected)
        os.pwrite(self.fd, record, 0)


def main() -> None:
    if len(sys.argv) < 3 or (sys.argv[2] == "-m" and len(sys.argv) < 4):
        sys.exit(__doc__.split("\n\n")[1].strip())
    record, *command = sys.argv[1:]
    gc.callbacks.append(GcTally(os.open(record, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)))
    if command[0] == "-m":
        sys.argv = command[1:]
        runpy.run_module(command[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = command
        runpy.run_path(command[0], run_name="__main__")


if __name__ == "__main__":
    main()
