"""Kill a gunicorn worker under load: how many requests fail, and how soon the service is whole again.

    .venv/bin/python scripts/kill_worker.py                      # a tiny model trained on the spot
    .venv/bin/python scripts/kill_worker.py --models-dir models  # the newest version in models/

Serves the model with 2 sync workers, loads it with a bounded Python client (8 threads), SIGKILLs
one worker (a child of the gunicorn master, found in /proc) and keeps the load going. Figures:

- failed requests / total (requirement ≤ 0.5%): any non-200 or connection error seen by the client;
- recovery time (requirement ≤ 3 s), from the kill until both hold:
  (1) the master has its full worker count again, the killed pid gone (polled in /proc every 10 ms), and
  (2) the new worker has answered a request with a 2xx: the access log is switched to a format that
      names the answering worker's pid, and a request the new pid answered shows that it has loaded
      the model and accepts connections. Nothing is added to the API for this.

Exits 1 if a requirement fails.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from scripts.harness.load import PROMPTS, LoadClient
from scripts.harness.processes import LogTail, parse_access
from scripts.harness.server import Server
from scripts.harness.tiny_models import install_version, train_tiny_versions


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--models-dir", type=Path, default=None, help="models folder to serve (default: train a tiny model)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    p.add_argument("--threads", type=int, default=8, help="client threads (concurrent requests)")
    p.add_argument("--kill-after", type=float, default=3.0, help="seconds of load before the kill")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of load in all (kept going until recovery)")
    p.add_argument("--max-failed-percent", type=float, default=0.5, help="requirement: failed / total, in percent")
    p.add_argument("--max-recovery", type=float, default=3.0, help="requirement: seconds until the service is whole")
    p.add_argument("--give-up", type=float, default=30.0, help="stop waiting for recovery after this many seconds")
    p.add_argument("--gunicorn-config", type=Path, default=None,
                   help="gunicorn settings file, to try a variant (default: service/gunicorn.conf.py)")
    p.add_argument("--server-log", type=Path, default=None, help="keep gunicorn's log here (default: a temporary file)")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="kill-worker-") as tmp:
        work = Path(tmp)
        models_dir = args.models_dir
        if models_dir is None:
            models_dir = work / "models"
            install_version(train_tiny_versions(work)[0], models_dir)
        log_path = args.server_log or work / "server.log"
        with Server(log_path, models_dir, workers=args.workers, config=args.gunicorn_config) as server:
            print(f"serving {models_dir} at {server.url} with {args.workers} workers; "
                  f"ready in {server.wait_ready():.1f} s")
            return run(args, server)


def run(args, server: Server) -> int:
    tail = LogTail(server.log_path)
    answered: dict[int, float] = {}  # worker pid → when its first 2xx was seen in the log
    booted: list[int] = []

    def read_log() -> None:
        now = time.monotonic()
        for line in tail.new_lines():
            if (access := parse_access(line)) and 200 <= access[2] < 300:
                answered.setdefault(access[0], now)
            elif "Booting worker with pid:" in line:
                booted.append(int(line.rsplit(":", 1)[1]))

    bodies = [{"prompt": prompt, "k": 5} for prompt in PROMPTS]
    give_up = args.duration + args.give_up
    client = LoadClient(server.url + "/v1/predict", bodies, threads=args.threads, duration_s=give_up).start()
    load_start = time.monotonic()
    try:
        # Wait until every worker has answered, so the kill hits a service in full swing.
        while time.monotonic() - load_start < max(args.kill_after, 1.0) or not set(server.worker_pids()) <= set(answered):
            read_log()
            if time.monotonic() - load_start > args.give_up:
                print(f"FAIL: workers {server.worker_pids()} did not all answer within {args.give_up:.0f} s")
                return 1
            time.sleep(0.01)
        before = server.worker_pids()
        victim = before[0]
        booted.clear()
        t_kill = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        print(f"t={t_kill - load_start:.2f} s: SIGKILL worker {victim} (workers {before})")

        t_full = t_answer = None
        new_pid = None
        while time.monotonic() - t_kill < args.give_up:
            now = time.monotonic()
            read_log()
            pids = server.worker_pids()
            if t_full is None and victim not in pids and len(pids) == args.workers:
                t_full = now
                new_pid = next(iter(set(pids) - set(before)))
            if new_pid is not None and new_pid in answered:
                t_answer = answered[new_pid]
                break
            time.sleep(0.01)
        # Keep the load going for the rest of the run, and at least 1 s after recovery.
        end = max(load_start + args.duration, (t_answer or time.monotonic()) + 1.0)
        while time.monotonic() < end and client.running():
            time.sleep(0.05)
    finally:
        client.stop()
    elapsed = max(r.end for r in client.results) - load_start if client.results else 0.0

    total, failed = len(client.results), client.failures()
    failed_percent = 100.0 * len(failed) / total if total else 100.0
    recovery = (max(t_full, t_answer) - t_kill) if t_answer is not None else None
    print(f"requests: {total} in {elapsed:.1f} s ({total / elapsed if elapsed else 0:.0f} req/s), "
          f"failed: {len(failed)} ({failed_percent:.3f}%; requirement ≤ {args.max_failed_percent}%)")
    for r in failed[:5]:
        print(f"  failed at t={r.start - load_start:.2f} s: {r.error}")
    if t_full is not None:
        print(f"master back to {args.workers} workers: {1000 * (t_full - t_kill):.0f} ms after the kill "
              f"(new worker {new_pid}; booted {booted})")
    if recovery is not None:
        print(f"new worker's first answer: {1000 * recovery:.0f} ms after the kill")
        print(f"recovery time: {recovery:.2f} s (requirement ≤ {args.max_recovery} s)")
    else:
        print(f"recovery time: not recovered within {args.give_up:.0f} s")
    ok = total > 0 and failed_percent <= args.max_failed_percent and recovery is not None and recovery <= args.max_recovery
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
