"""What Linux's /proc tells about a runtime's processes: the tree, memory, sockets.

Every function here answers "unknown" (an empty result) where /proc is missing
(not Linux) or a process has gone; the callers treat that as "no check possible".
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

__all__ = ["available", "descendants", "memory_kib", "owner", "socket_inode", "start_time"]

_PROC = Path("/proc")


def available() -> bool:
    return (_PROC / "self" / "stat").exists()


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, parents first."""
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(_children(current))
    return found


def _children(pid: int) -> list[int]:
    # Plain strings and os calls: this runs for every process at every memory sample.
    tasks = f"/proc/{pid}/task"
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(tasks):
            with contextlib.suppress(OSError, ValueError), open(f"{tasks}/{task}/children") as f:
                children.extend(int(c) for c in f.read().split())
    return children


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks: with the pid, it names one process."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def memory_kib(pid: int) -> tuple[int, int]:
    """``(VmRSS, VmHWM)`` of one process in KiB: resident now, and at its peak."""
    rss = peak = 0
    with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1])
                break  # VmRSS comes after VmHWM
    return rss, peak


def socket_inode(local: tuple[str, int], remote: tuple[str, int]) -> int | None:
    """The inode of the TCP socket bound to ``local`` and connected to ``remote``."""
    wanted = (_address(local), _address(remote))
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in (_PROC / "net" / table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and (fields[1], fields[2]) == wanted:
                    return int(fields[9])
    return None


def owner(inode: int, candidates: list[int]) -> int | None:
    """Which of ``candidates`` holds the socket ``inode`` open."""
    target = f"socket:[{inode}]"
    for pid in candidates:
        fds = _PROC / str(pid) / "fd"
        with contextlib.suppress(OSError):
            for fd in os.listdir(fds):
                with contextlib.suppress(OSError):
                    if os.readlink(fds / fd) == target:
                        return pid
    return None


def _address(address: tuple[str, int]) -> str:
    """An address as /proc/net/tcp{,6} writes it: the IP's bytes as 32-bit host-order words."""
    host, port = address[0], address[1]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    packed = socket.inet_pton(family, host)
    words = [packed[i : i + 4] for i in range(0, len(packed), 4)]
    text = "".join(int.from_bytes(word, "little").to_bytes(4, "big").hex() for word in words)
    return f"{text.upper()}:{port:04X}"
