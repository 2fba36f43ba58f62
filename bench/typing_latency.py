"""Typing through the API with the document cache: each worker's own caches against rows the workers share,
and, across hosts, rebuilding against rows kept in Redis.

    .venv/bin/python bench/typing_latency.py --models-dir models-english --text ../shared/data/gutenberg-fiction/valid.txt.xz
    .venv/bin/python bench/typing_latency.py --models-dir models-english --text ... --hosts 2

What a client typing sends: its document's first --history words once, then one word a request, each
with the state token of the response before (so every request carries a token no worker has seen
twice). gunicorn with 2 sync workers hands each request to either, so without shared rows about half
of them reach the worker that did not issue the token, which rebuilds the cache from its recipe.
The setups run one after the other on the same text: NEXTWORD_SHARED_CACHE_MB=0 (each worker's own
LRU only), then the default (service/shared_rows.py), then the default with NEXTWORD_REDIS_URL (what
publishing the rows to Redis adds where one host needs none of it). --clients threads type documents of their own
at once (each from its own place in the text); Python clients cost a little CPU beside the server.
Prints p50 / p90 / p99 / mean of the one-word requests and how each worker found its caches
(nextword_document_cache_total: hit, shared, rebuilt, redis; letters answered from a kept mixture
count as hits). --letters N: before each word, its first N letters one request each, as the page
sends them (no new text, the token of the word before, the prefix): their latencies on a row of
their own.

--hosts 2: two servers of one worker each, each with its own shared folder as two hosts would have,
and every client alternating between them word by word (a balancer without stickiness): each request
arrives where the token was not issued. Without Redis each one rebuilds; with NEXTWORD_REDIS_URL (a
redis-server started here, Debian's) each one reads the rows the other host published. Also prints
the Redis memory the documents hold at the end (used_memory, and the bytes of their rows).
"""
from __future__ import annotations

import argparse
import contextlib
import secrets
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests

from model.evaluation.texts import read_lines
from scripts.harness.redis_server import RedisServer
from scripts.harness.server import Server


def type_document(urls: list[str], words: list[str], history: int, latencies: dict[str, list[float]],
                  deadline: float, letters: int = 0) -> None:
    """The history in one request, then a word a request, round robin over `urls`; with `letters`, before
    each word the first `letters` of its letters one at a time, as the page sends them (no new text, the
    token of the word before, the letters typed so far as the prefix)."""
    body = requests.post(urls[0], json={"prompt": " ".join(words[:history]), "k": 3}, timeout=60).json()
    sent = 0

    def post(kind: str, payload: dict) -> dict:
        nonlocal sent
        sent += 1
        t0 = time.perf_counter()
        r = requests.post(urls[sent % len(urls)], json=payload, timeout=60)
        latencies[kind].append((time.perf_counter() - t0) * 1e3)
        r.raise_for_status()
        return r.json()

    for word in words[history:]:
        if time.monotonic() > deadline:
            return
        for n in range(1, min(letters, len(word) - 1) + 1):  # a word typed in full is sent as the next word
            post("letter", {"prompt": "", "k": 3, "state": body["state"], "prefix": word[:n]})
        body = post("word", {"prompt": word, "k": 3, "state": body["state"]})


def cache_counts(url: str) -> dict[str, int]:
    lines = requests.get(url.replace("/v1/predict", "/metrics"), timeout=10).text.splitlines()
    return {line.split('"')[1]: int(float(line.split()[-1]))
            for line in lines if line.startswith("nextword_document_cache_total{")}


def run(models_dir: Path, env: dict[str, str], documents: list[list[str]], history: int,
        max_seconds: float, hosts: int = 1, letters: int = 0) -> tuple[dict[str, list[float]], dict]:
    """One server of 2 workers, or `hosts` servers of one worker each (a shared folder each)."""
    workers = 2 if hosts == 1 else 1
    env = {"NEXTWORD_STATE_SECRET": secrets.token_hex(32), **env}  # one key: any server verifies any token
    with tempfile.TemporaryDirectory() as work, contextlib.ExitStack() as stack:
        servers = [stack.enter_context(Server(Path(work) / f"server{i}.log", models_dir, workers=workers, env=env,
                                              access_log=False)) for i in range(hosts)]
        for server in servers:
            server.wait_ready()
        urls = [server.url + "/v1/predict" for server in servers]
        latencies: dict[str, list[float]] = {"word": [], "letter": []}
        deadline = time.monotonic() + max_seconds
        threads = [threading.Thread(target=type_document, args=(urls, words, history, latencies, deadline, letters))
                   for words in documents]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        counts: dict[str, int] = {}
        for url in urls:
            for k, v in cache_counts(url).items():
                counts[k] = counts.get(k, 0) + v
        return latencies, counts


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument("--text", type=Path, required=True, help="text to type (.xz read as xz)")
    p.add_argument("--history", type=int, default=2000, help="words sent in the first request of each document")
    p.add_argument("--words", type=int, default=300, help="words then typed one a request, per client")
    p.add_argument("--clients", type=int, default=1)
    p.add_argument("--max-seconds", type=float, default=120, help="per setup, at most")
    p.add_argument("--hosts", type=int, choices=(1, 2), default=1,
                   help="2: two one-worker servers, alternated word by word, without and with Redis")
    p.add_argument("--letters", type=int, default=0,
                   help="also send up to this many letters of each word as a prefix before the word, as the page does")
    a = p.parse_args()
    per_client = a.history + a.words
    words = " ".join(read_lines(a.text, 4 * per_client * a.clients)).split()
    documents = [words[i * per_client:(i + 1) * per_client] for i in range(a.clients)]
    print(f"{a.models_dir}: {a.clients} client(s), each {a.history} words then {a.words} one-word requests"
          + (f", each after up to {a.letters} of its letters one a request" if a.letters else ""))
    print("| setup | requests | p50 ms | p90 ms | p99 ms | mean ms | caches: hit / shared / redis / rebuilt |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work, contextlib.ExitStack() as stack:
        redis = stack.enter_context(RedisServer(Path(work)))
        if a.hosts == 1:  # the third: what publishing every request's rows to Redis costs where it is not needed
            setups = [("each worker's own caches", {"NEXTWORD_SHARED_CACHE_MB": "0"}), ("rows shared by the workers", {}),
                      ("rows shared, and published to Redis", {"NEXTWORD_REDIS_URL": redis.url})]
        else:
            setups = [("2 hosts, no Redis", {}), ("2 hosts, rows in Redis", {"NEXTWORD_REDIS_URL": redis.url})]
        for name, env in setups:
            latencies, counts = run(a.models_dir, env, documents, a.history, a.max_seconds, a.hosts, a.letters)
            found = " / ".join(str(counts.get(k, 0)) for k in ("hit", "shared", "redis", "rebuilt"))
            for kind, times in latencies.items():
                if times:
                    q = np.percentile(times, [50, 90, 99])
                    print(f"| {name}{', letters' if kind == 'letter' else ''} | {len(times)} | {q[0]:.1f} | {q[1]:.1f} | "
                          f"{q[2]:.1f} | {statistics.mean(times):.1f} | {found if kind == 'word' else ''} |")
        if a.hosts == 2:
            keys = redis.client.keys("nextword:rows:*")
            rows_bytes = sum(redis.client.strlen(k) for k in keys)
            print(f"Redis at the end: {len(keys)} keys, {rows_bytes / 2**20:.1f} MiB of rows, "
                  f"used_memory {redis.client.info('memory')['used_memory'] / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
