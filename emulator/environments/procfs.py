"""What Linux's /proc tells about a runtime's processes: the tree, memory, sockets.

Every function here answers "unknown" (an empty result) where /proc is missing
(not Linux) or a process has gone; the callers treat that as "no check possible".
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
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
    """The inode of the TCP socket bound to ``local`` and connected to ``remote``.

    Asked of the kernel by the exact address pair (sock_diag, about 15 µs);
    where netlink is refused, read from /proc/net/tcp{,6}, whose whole table
    the kernel writes out for each read (milliseconds with a few hundred
    sockets in TIME_WAIT), which this runs for every Runtime API connection.
    """
    try:
        return _diag_inode(local, remote)
    except OSError:
        return _table_inode(local, remote)


# sock_diag(7): one SOCK_DIAG_BY_FAMILY request for one socket (no NLM_F_DUMP).
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 1
_NLMSG_HEADER = struct.Struct("=IHHII")  # struct nlmsghdr: len, type, flags, seq, pid
_NO_COOKIE = 0xFFFFFFFF  # INET_DIAG_NOCOOKIE, both halves: any socket of that pair
# struct inet_diag_msg: family, state, timer, retrans, id (48), expires, rqueue, wqueue, uid
_INODE_AT = _NLMSG_HEADER.size + 4 + 48 + 16


def _diag_inode(local: tuple[str, int], remote: tuple[str, int]) -> int | None:
    family = socket.AF_INET6 if ":" in local[0] else socket.AF_INET

    def packed(host: str) -> bytes:  # __be32[4]: an IPv4 address in the first word
        return socket.inet_pton(family, host).ljust(16, b"\0")

    # struct inet_diag_req_v2, then its inet_diag_sockid (ports big-endian).
    request = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF)
    request += struct.pack("!HH", local[1], remote[1]) + packed(local[0]) + packed(remote[0])
    request += struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE)
    header = _NLMSG_HEADER.pack(
        _NLMSG_HEADER.size + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0
    )
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as netlink:
        netlink.sendall(header + request)
        answer = netlink.recv(4096)
    _, kind, _, _, _ = _NLMSG_HEADER.unpack_from(answer)
    if kind != _SOCK_DIAG_BY_FAMILY or len(answer) < _INODE_AT + 4:
        return None  # NLMSG_ERROR: no such socket
    inode: int = struct.unpack_from("=I", answer, _INODE_AT)[0]
    return inode


def _table_inode(local: tuple[str, int], remote: tuple[str, int]) -> int | None:
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
