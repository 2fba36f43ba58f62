"""Document cache rows in Redis, so that a token continued on another host costs a transfer, not a rebuild.

The workers of one host read each other's rows in place (service/shared_rows.py). A token taken to
another host (several hosts behind one balancer, a replica restarted elsewhere) found nothing there
and rebuilt its cache from the recipe: 2,000 words re-read, ~300 ms. With NEXTWORD_REDIS_URL set,
each request also appends the rows it wrote to a Redis string named after the rows' storage, and a
worker that has neither the rows in its LRU nor in the host's folder reads the token's rows [start,
end) from there: one GETRANGE of (4·H + 8)·n bytes (4 MB for 2,000 rows of 512), checked against
the recipe's words. Redis only accelerates: missing, evicted, expired, stale or down, the recipe
still rebuilds the same cache.

    key  nextword:rows:<32 hex digits of the rows' name>:<H>
    value, row after row: key (H × float32) | next word (int64) | chain digest (uint64), little-endian

Rows are written once and never changed (model/cache.py), so the value only ever grows by appending,
and an append is made only where the value ends exactly where the new rows start (a Lua script,
atomic in Redis); otherwise the writer sends what Redis lacks. A host that reads a token's rows from
here keeps them under the same name (service/document_cache.py stored_cache): when the text comes
back to it, it reads only the rows it lacks, and the rows it appends extend the same value. Two hosts
continuing one token with different words both append at the same row: the first wins in Redis, and
the digest chain (model/cache.py chain_digests; the token carries its rows' last) tells every reader
which copy is the token's, so a diverged copy is never read as another text's.
Memory: every key expires `ttl_s` after its last append, holds at most one storage's capacity (two
windows), and the server's own `maxmemory` with an LRU policy bounds the rest (docker-compose.yml).
"""
from __future__ import annotations

import logging
import threading
import time

import numpy as np

from model import chain_digests
from service import metrics

log = logging.getLogger(__name__)

KEY_PREFIX = "nextword:rows:"
# Append ARGV[2] to KEYS[1] if it is exactly ARGV[1] bytes long; refresh the TTL (ARGV[3] s) of a key
# that exists. Returns the key's length after: ARGV[1] + len(ARGV[2]) when appended.
APPEND_AT = """
local have = redis.call('STRLEN', KEYS[1])
if have == tonumber(ARGV[1]) then
  have = redis.call('APPEND', KEYS[1], ARGV[2])
end
if have > 0 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
end
return have
"""
# After an error, Redis is left alone this long: a slow or absent Redis must not slow every request.
BACKOFF_S = 5.0


def row_dtype(hidden: int) -> np.dtype:
    return np.dtype([("key", "<f4", (hidden,)), ("word", "<i8"), ("digest", "<u8")])


def key_for(name: bytes, hidden: int) -> str:
    return f"{KEY_PREFIX}{name.hex()}:{hidden}"


class RedisRowsStore:
    """Rows published to and read from one Redis server (or anything speaking its protocol)."""

    def __init__(self, url: str, ttl_s: int = 3600, timeout_s: float = 0.5) -> None:
        import redis  # only where it is configured

        self.ttl_s = int(ttl_s)
        if self.ttl_s < 1:
            raise ValueError(f"the rows' TTL must be at least 1 s (got {ttl_s})")
        self.client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        self._append_at = self.client.register_script(APPEND_AT)
        self._errors = (redis.RedisError, OSError)
        self._down_until = 0.0
        self._lock = threading.Lock()
        self.failures = 0  # errors since start (logged, then Redis is skipped for BACKOFF_S)

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, action: str, error: Exception) -> None:
        metrics.count_rows_store_error()
        with self._lock:
            self.failures += 1
            first = time.monotonic() >= self._down_until
            self._down_until = time.monotonic() + BACKOFF_S
        if first:
            log.warning("Redis rows store: %s failed (%s); skipped for %.0f s", action, error, BACKOFF_S)

    def publish(self, rows, written_from: int, end: int) -> bool:
        """Make Redis hold rows [0, end) of `rows` (a model.cache Rows with a name): append [written_from,
        end), the rows this request wrote, or, where Redis holds fewer, everything it lacks. True if it
        holds them after."""
        if end <= 0 or not self._available():
            return False
        hidden = rows.keys.shape[1]
        size = row_dtype(hidden).itemsize
        key = key_for(rows.name, hidden)
        start = min(max(written_from, 0), end)
        try:
            for _ in range(2):  # the guess, then what Redis says it has
                have = int(self._append_at(keys=[key], args=[start * size, self._pack(rows, start, end), self.ttl_s]))
                if have >= end * size:  # there already: ours, unless another host's words came first
                    last = self.client.getrange(key, end * size - 8, end * size - 1)
                    return last == int(rows.digests[end - 1]).to_bytes(8, "little")
                if have % size or have > start * size:
                    return False  # not a prefix of these rows (another writer's, or corrupt): leave it
                start = have // size
            return False
        except self._errors as e:
            self._failed("publishing rows", e)
            return False

    @staticmethod
    def _pack(rows, start: int, end: int) -> bytes:
        packed = np.empty(end - start, dtype=row_dtype(rows.keys.shape[1]))  # (n,) rows
        packed["key"], packed["word"], packed["digest"] = rows.keys[start:end], rows.words[start:end], rows.digests[start:end]
        return packed.tobytes()

    def fetch(self, name: bytes, hidden: int, start: int, end: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Rows [start, end) of the storage `name`: keys (n, H) float32 and words (n,) int64, or None
        where Redis does not hold all of them (or is down). Their digests are not read: fetch_chain
        recomputes them, to check the words against a token's."""
        if end <= start or not self._available():
            return None
        dtype = row_dtype(hidden)
        try:
            raw = self.client.getrange(key_for(name, hidden), start * dtype.itemsize, end * dtype.itemsize - 1)
        except self._errors as e:
            self._failed("reading rows", e)
            return None
        if len(raw) != (end - start) * dtype.itemsize:
            return None
        rows = np.frombuffer(raw, dtype=dtype)
        return np.ascontiguousarray(rows["key"]), rows["word"].astype(np.int64)

    def fetch_chain(self, name: bytes, hidden: int, start: int, end: int, previous: int,
                    last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """fetch, with the rows' digests chained from `previous` (row start - 1's, or the storage's seed),
        if the last one is `last` (the token's): then they are the words the token describes. Else None."""
        fetched = self.fetch(name, hidden, start, end)
        if fetched is None:
            return None
        digests = chain_digests(previous, fetched[1])
        return (*fetched, digests) if int(digests[-1]) == last else None
