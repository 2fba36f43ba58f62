"""Processes and logs: free loopback ports, how busy the CPU is, a process's children, a growing log file,
and the access-log line format that names the worker that answered each request."""
from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path

# "<pid> request-id status "METHOD /path HTTP/1.1" microseconds": the pid is the worker that answered.
ACCESS_LOG_FORMAT = '%(p)s %({x-request-id}i)s %(s)s "%(r)s" %(D)s'
ACCESS_LINE = re.compile(r'^<(\d+)> (\S+) (\d{3}) ')
BOOTING_LINE = re.compile(r"Booting worker with pid: (\d+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_busy(seconds: float = 1.0) -> float:
    """Share of the machine's CPU time spent busy over the next `seconds` (/proc/stat): is it quiet?"""
    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return sum(values), values[3] + values[4]  # total, idle + iowait

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def child_pids(pid: int) -> list[int]:
    """Live (non-zombie) children of a process, from /proc (this kernel has no /proc/PID/task/*/children)."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # exited meanwhile
            continue
        # pid (comm) state ppid ...; comm may hold spaces or parentheses, so split after the last ")".
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            children.append(int(entry))
    return sorted(children)


class LogTail:
    """Reads the lines appended to a file since the last call."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.partial = path, 0, ""

    def new_lines(self) -> list[str]:
        with open(self.path, encoding="utf-8", errors="replace") as f:
            f.seek(self.offset)
            text = f.read()
            self.offset = f.tell()
        lines = (self.partial + text).split("\n")
        self.partial = lines.pop()
        return lines


def parse_access(line: str) -> tuple[int, str, int] | None:
    """(worker pid, request id, status) of an access-log line, or None for any other line."""
    m = ACCESS_LINE.match(line)
    return (int(m.group(1)), m.group(2), int(m.group(3))) if m else None
