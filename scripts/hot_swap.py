"""Hot swap under load: a new model version goes live with no failed request and no mixed response.

    .venv/bin/python scripts/hot_swap.py                                   # two tiny versions trained on the spot
    .venv/bin/python scripts/hot_swap.py --version-a models/OLD --version-b models/NEW

Serves version A alone (2 sync workers), loads the service with a bounded Python client (8 threads,
a fixed prompt set), then publishes version B into the served folder the way the trainer does
(a hidden temporary directory in the same parent, then one os.rename). The load goes on until
every worker has answered with B for a while. Then:

- zero failed requests (any non-200 or connection error);
- every response equals exactly one version's expected output, and its `model` field names that
  version. The expected outputs are computed offline for each prompt with each version
  (model.checkpoint.load_version + model.predict.Predictor, one torch thread like a worker);
- per worker (the access log names the answering pid of each X-Request-Id), answers go A…A B…B:
  no worker goes back to A once it has answered with B, and every live worker answered with B.

Prints counts per version and per worker; exits 1 on any violation.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import torch

from model.checkpoint import load_version
from model.predict import Predictor
from scripts.harness.load import PROMPTS, LoadClient
from scripts.harness.processes import LogTail, parse_access
from scripts.harness.server import Server
from scripts.harness.tiny_models import install_version, train_tiny_versions

K = 5
# Predictions are rounded to 6 decimals: an equivalent computation in another order may flip the last one.
TOLERANCE = 1.5e-6


def expected_predictions(version_dir: Path) -> tuple[str, list[list[tuple[str, float]]]]:
    predictor = Predictor(load_version(version_dir))
    out = []
    for prompt in PROMPTS:
        result = predictor.predict(prompt, K)
        predictions = getattr(result, "predictions", result)  # a PredictResult, or a bare list
        out.append([(p.word, p.probability) for p in predictions])
    return predictor.version, out


def same(response: list[dict], expected: list[tuple[str, float]]) -> bool:
    return len(response) == len(expected) and all(
        r["word"] == w and abs(r["probability"] - p) <= TOLERANCE for r, (w, p) in zip(response, expected)
    )


def classify(body: dict, prompt_index: int, expected: dict[str, list]) -> tuple[str | None, str | None]:
    """(version, None) when the response is exactly one version's output and names it; else (None, why)."""
    matches = [v for v, outputs in expected.items() if same(body.get("predictions", []), outputs[prompt_index])]
    named = body.get("model")
    if len(matches) == 1 and matches[0] == named:
        return named, None
    if not matches:
        return None, f"predictions match no version (model field {named})"
    return None, f"predictions of {matches} but model field {named}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--version-a", type=Path, default=None, help="version directory served first (default: train a tiny one)")
    p.add_argument("--version-b", type=Path, default=None, help="newer version directory published under load")
    p.add_argument("--threads", type=int, default=8, help="client threads (concurrent requests)")
    p.add_argument("--reload-interval", type=float, default=None,
                   help="NEXTWORD_RELOAD_INTERVAL for the workers (default: the service's own, 2 s)")
    p.add_argument("--before", type=float, default=2.0, help="seconds of load on A before B is published")
    p.add_argument("--settle", type=float, default=3.0, help="seconds of B-only answers, from every worker, before stopping")
    p.add_argument("--give-up", type=float, default=60.0, help="fail if the swap has not settled this long after publishing B")
    p.add_argument("--server-log", type=Path, default=None, help="keep gunicorn's log here (default: a temporary file)")
    args = p.parse_args(argv)
    if (args.version_a is None) != (args.version_b is None):
        p.error("give both --version-a and --version-b, or neither")

    torch.set_num_threads(1)  # as in a worker (NEXTWORD_TORCH_THREADS=1): the same arithmetic, the same digits
    with tempfile.TemporaryDirectory(prefix="hot-swap-") as tmp:
        work = Path(tmp)
        if args.version_a is None:
            a_dir, b_dir = train_tiny_versions(work, seeds=(0, 1))
        else:
            a_dir, b_dir = args.version_a.resolve(), args.version_b.resolve()
        if not b_dir.name > a_dir.name:
            print(f"FAIL: version B ({b_dir.name}) must sort after A ({a_dir.name}) to be the newest")
            return 1
        a, a_out = expected_predictions(a_dir)
        b, b_out = expected_predictions(b_dir)
        alike = [PROMPTS[i] for i in range(len(PROMPTS)) if same([{"word": w, "probability": q} for w, q in a_out[i]], b_out[i])]
        if alike:
            print(f"FAIL: versions A and B predict the same for {alike}: the check could not tell them apart")
            return 1
        expected = {a: a_out, b: b_out}
        models_dir = work / "served"
        install_version(a_dir, models_dir)
        env = {} if args.reload_interval is None else {"NEXTWORD_RELOAD_INTERVAL": str(args.reload_interval)}
        with Server(args.server_log or work / "server.log", models_dir, env=env) as server:
            print(f"A = {a}, B = {b}; serving A at {server.url}; ready in {server.wait_ready():.1f} s")
            return run(args, server, models_dir, b_dir, a, b, expected)


def run(args, server: Server, models_dir: Path, b_dir: Path, a: str, b: str, expected: dict) -> int:
    client = LoadClient(server.url + "/v1/predict", [{"prompt": prompt, "k": K} for prompt in PROMPTS],
                        threads=args.threads, duration_s=args.before + args.give_up + args.settle, keep_json=True)
    tail = LogTail(server.log_path)
    worker_of: dict[str, int] = {}  # request id → pid of the worker that answered it
    version_of: dict[str, str] = {}  # request id → the version whose output it was
    violations: list[str] = []
    seen = 0
    t_last_a = t_first_b = None
    settled = False

    def update() -> None:
        nonlocal seen, t_last_a, t_first_b
        for line in tail.new_lines():
            if access := parse_access(line):
                worker_of[access[1]] = access[0]
        results = client.results
        for r in results[seen:len(results)]:
            if not r.ok:
                continue
            version, why = classify(r.json, r.body_index, expected)
            if why:
                violations.append(f"{r.request_id} ({PROMPTS[r.body_index]!r}): {why}")
                continue
            version_of[r.request_id] = version
            if version == a:
                t_last_a = max(t_last_a or 0.0, r.end)
            elif t_first_b is None or r.end < t_first_b:
                t_first_b = r.end
        seen = len(results)

    def b_answers_per_worker() -> Counter:
        return Counter(worker_of[rid] for rid, v in version_of.items() if v == b and rid in worker_of)

    client.start()
    load_start = time.monotonic()
    try:
        while time.monotonic() - load_start < args.before:
            update()
            time.sleep(0.05)
        install_version(b_dir, models_dir)
        t_publish = time.monotonic()
        print(f"t={t_publish - load_start:.2f} s: published B")
        while time.monotonic() - t_publish < args.give_up and client.running():
            update()
            now = time.monotonic()
            workers = server.worker_pids()
            per_worker = b_answers_per_worker()
            if (t_first_b is not None and now - max(t_last_a or t_publish, t_first_b) >= args.settle
                    and all(per_worker[pid] > 0 for pid in workers)):
                settled = True
                break
            time.sleep(0.05)
    finally:
        client.stop()
    update()
    time.sleep(0.2)  # the last access-log lines
    update()

    results = client.results
    failed = client.failures()
    counts = Counter(version_of.values())
    print(f"requests: {len(results)}, failed: {len(failed)}, answered by A: {counts[a]}, by B: {counts[b]}, "
          f"violations: {len(violations)}")
    for r in failed[:5]:
        print(f"  failed: {r.error}")
    for v in violations[:5]:
        print(f"  violation: {v}")
    if t_first_b is not None:
        print(f"first B answer {t_first_b - t_publish:.2f} s after publishing; "
              f"last A answer {(t_last_a or t_publish) - t_publish:.2f} s after publishing")

    # Per worker, in the order its access-log lines were written: A…A then B…B.
    sequences: dict[int, list[str]] = defaultdict(list)
    for rid, pid in worker_of.items():  # dicts keep insertion order, i.e. log order
        if rid in version_of:
            sequences[pid].append("A" if version_of[rid] == a else "B")
    went_back = []
    for pid, seq in sorted(sequences.items()):
        text = "".join(seq)
        print(f"  worker {pid}: {text.count('A')} × A then {text.count('B')} × B")
        if "BA" in text:
            went_back.append(pid)
    if went_back:
        print(f"  workers {went_back} answered with A again after B")
    unlogged = sum(1 for rid in version_of if rid not in worker_of)
    if unlogged:
        print(f"  ({unlogged} answers not found in the access log)")
    if not settled:
        print(f"not settled: some worker never answered with B within {args.give_up:.0f} s of publishing "
              f"(B answers per worker: {dict(b_answers_per_worker())}, workers {server.worker_pids()})")
    ok = settled and not failed and not violations and not went_back and counts[a] > 0 and counts[b] > 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
