"""Document cache rows that every worker of a host reads: memory-mapped files under /dev/shm.

Each worker keeps the caches it built in its own LRU (service/document_cache.py), but gunicorn hands
the next request of a client typing to whichever worker is free: with 2 workers, about half of the
new tokens arrive at the worker that did not issue them, which then rebuilt 2,000 words from the
token's recipe (~340 ms, docs/results.md). So the cache's rows (model/cache.py: keys and next words,
written once past a frontier, never changed after) live in a file that all workers map, and the
token names the file and the rows it covers (Recipe.rows): any worker of the host reads them in
place. Another host, a restart or an evicted file falls back to the rebuild, with the same answer.

    file: b"NWR2" | u32 hidden | u32 capacity | pad to 16 | u64 frontier | pad to 64
          | keys: capacity × hidden float32 | words: capacity × int64 | digests: capacity × uint64

Rows past the frontier are claimed under an exclusive flock (and a thread lock: flock does not
exclude threads sharing one open file), then written; a token is issued only after its rows are.
The folder is the service user's alone (0700), and its files are bounded in bytes: a worker that has
made an eighth of the budget since it last looked measures the folder and removes the least recently
written files until the rest, and the new one, fit.
"""
from __future__ import annotations

import fcntl
import logging
import math
import mmap
import os
import secrets
import struct
import threading
import weakref
from pathlib import Path

import numpy as np

from model import LocalRows

log = logging.getLogger(__name__)

MAGIC = b"NWR2"
HEADER = struct.Struct("<4sII")  # magic, hidden, capacity
FRONTIER = struct.Struct("<Q")
FRONTIER_AT = 16
DATA_AT = 64
NAME_BYTES = 16  # a file's name: 32 hex digits, carried in the token as 16 bytes


def file_bytes(capacity: int, hidden: int) -> int:
    return DATA_AT + capacity * (4 * hidden + 16)


class SharedRows:
    """One document's rows in a memory-mapped file (model/cache.py's Rows, shared across processes)."""

    def __init__(self, name: bytes, fd: int, hidden: int, capacity: int) -> None:
        self.name = name
        self._fd = fd
        self._map = mmap.mmap(fd, file_bytes(capacity, hidden))
        self.keys = np.frombuffer(self._map, dtype=np.float32, count=capacity * hidden, offset=DATA_AT).reshape(capacity, hidden)
        self.words = np.frombuffer(self._map, dtype=np.int64, count=capacity, offset=DATA_AT + 4 * capacity * hidden)
        self.digests = np.frombuffer(self._map, dtype=np.uint64, count=capacity, offset=DATA_AT + capacity * (4 * hidden + 8))
        self._lock = threading.Lock()

    def __del__(self) -> None:
        try:
            os.close(self._fd)
        except (OSError, AttributeError):
            pass

    @property
    def frontier(self) -> int:
        return FRONTIER.unpack_from(self._map, FRONTIER_AT)[0]

    @property
    def nbytes(self) -> int:
        return len(self._map)

    def claim(self, end: int, n: int) -> bool:
        """Rows [end, end + n) for the cache that ends at `end`, if no one wrote past it and they fit."""
        with self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                if self.frontier != end or end + n > len(self.words):
                    return False
                FRONTIER.pack_into(self._map, FRONTIER_AT, end + n)
                os.utime(self._fd)  # "recently written": eviction removes the oldest first
                return True
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


class SharedRowsFolder:
    """The host's folder of SharedRows files, bounded to max_bytes."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = Path(path)
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.path.stat().st_uid != os.getuid() or self.path.stat().st_mode & 0o077:
            raise PermissionError(f"{self.path} must belong to this user alone (mode 0700)")
        # The files this worker has mapped, by name: a file is mapped once however many caches view it
        # (each mapping holds a file descriptor), and unmapped when no cache holds it any more.
        self._mapped: weakref.WeakValueDictionary[bytes, SharedRows] = weakref.WeakValueDictionary()
        disk = os.statvfs(self.path)
        self.max_bytes = min(max_bytes, disk.f_bavail * disk.f_frsize // 2)  # leave the host half of what is free
        # The folder is measured (a scan) once this worker has made an eighth of the budget since the last
        # time, not per file: between scans it may pass the budget by an eighth per worker at most.
        self._made_since_scan = math.inf

    def new_rows(self, capacity: int, hidden: int, name: bytes | None = None):
        """model/cache.py's new_rows: a new file, or rows in this process where none can be made. `name`:
        another host's rows this host copies (service/rows_store.py), by the same name; else a new one."""
        size = file_bytes(capacity, hidden)
        name = name or secrets.token_bytes(NAME_BYTES)
        try:
            if self._made_since_scan + size > self.max_bytes // 8:
                self._make_room(size)
                self._made_since_scan = 0
            self._made_since_scan += size
            fd = os.open(self.path / name.hex(), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                # Taken now, not when first written: a full tmpfs (a container's /dev/shm is 64 MB unless
                # told otherwise) is an error here rather than a SIGBUS in the middle of a request.
                os.posix_fallocate(fd, 0, size)
                rows = SharedRows(name, fd, hidden, capacity)
            except OSError:
                os.close(fd)
                os.unlink(self.path / name.hex())
                raise
        except FileExistsError:  # another worker of this host copies the same rows from Redis now: ours stay here
            return LocalRows(capacity, hidden, name)
        except OSError as e:  # a full /dev/shm, a folder removed under us: this process's rows still work
            log.warning("document cache rows kept in this worker only: %s", e)
            return LocalRows(capacity, hidden, name)
        HEADER.pack_into(rows._map, 0, MAGIC, hidden, capacity)
        self._mapped[name] = rows
        return rows

    def open(self, name: bytes, hidden: int) -> SharedRows | None:
        """The file a token names, if it is still here and is what it should be; else None (rebuild)."""
        if len(name) != NAME_BYTES:
            return None
        mapped = self._mapped.get(name)
        if mapped is not None:
            return mapped if mapped.keys.shape[1] == hidden else None
        try:
            fd = os.open(self.path / name.hex(), os.O_RDWR)
        except OSError:
            return None
        try:
            header = os.pread(fd, HEADER.size, 0)
            magic, file_hidden, capacity = HEADER.unpack(header) if len(header) == HEADER.size else (b"", 0, 0)
            if magic != MAGIC or file_hidden != hidden or os.fstat(fd).st_size != file_bytes(capacity, hidden):
                os.close(fd)
                return None
            rows = self._mapped[name] = SharedRows(name, fd, hidden, capacity)
            return rows
        except (OSError, ValueError):
            os.close(fd)
            return None

    def _make_room(self, size: int) -> None:
        files = []
        for entry in os.scandir(self.path):
            try:
                stat = entry.stat()
            except FileNotFoundError:  # removed by another worker meanwhile
                continue
            files.append((stat.st_mtime, stat.st_size, entry.path))
        used = sum(s for _, s, _ in files)
        for _, file_size, path in sorted(files):
            if used + size <= self.max_bytes:
                break
            try:
                os.unlink(path)  # a worker that has it mapped keeps reading it until it lets go
            except FileNotFoundError:
                pass
            used -= file_size
        if used + size > self.max_bytes:
            raise OSError(f"{size} bytes of rows do not fit in the shared budget of {self.max_bytes}")
