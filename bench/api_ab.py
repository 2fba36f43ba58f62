"""Is checkout B's incremental predict faster than checkout A's? Both served and loaded at once.

    git worktree add /tmp/before HEAD~1
    .venv/bin/python bench/api_ab.py --a /tmp/before                 # B is this checkout
    .venv/bin/python bench/api_ab.py --a . --b .                      # A/A: the noise floor

On this shared VM one server's req/s drifts by more than the changes worth measuring from one
minute to the next, even with nothing of ours running (docs/benchmarks.md), so bench/api_speed.py's
figures taken at different times cannot rank two versions of the code. Here both checkouts are
served at the same time (gunicorn with each checkout's service/gunicorn.conf.py, 2 sync workers
each, no access log; this venv's packages, so the other checkout needs none; one models folder),
and in each round two wrk processes drive them together,
8 connections each, with the same incremental request (one new word plus the state token after
--history words, 10 by default): a slow moment of the machine hits both alike, and B's req/s ÷ A's in a round measures
the change. Four workers then share 2 cores, so the req/s are lower than bench/api_speed.py's and
only the ratio means anything. Prints each round and the median ratio (> 1: B is faster).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
from pathlib import Path

from bench.api_speed import NEW_WORD, state_after
from scripts.harness.load import run_wrk
from scripts.harness.server import Server


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--a", type=Path, required=True, help="checkout A (the baseline)")
    p.add_argument("--b", type=Path, default=Path("."), help="checkout B")
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="models folder both serve (its newest version)")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--seconds", type=float, default=6.0, help="length of a round")
    p.add_argument("--history", type=int, default=10,
                   help="words of history behind the token (2,000: a document cache's whole window)")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="api-ab-") as tmp:
        work = Path(tmp)
        with Server(work / "a.log", args.models_dir.resolve(), access_log=False, root=args.a) as a, \
                Server(work / "b.log", args.models_dir.resolve(), access_log=False, root=args.b) as b:
            servers = {"A": a, "B": b}
            bodies = {}
            for name, server in servers.items():
                server.wait_ready()
                token = state_after(server.url + "/v1/predict", args.history)
                bodies[name] = {"prompt": NEW_WORD, "k": 5, "state": token}
                run_wrk(server.url + "/v1/predict", [bodies[name]], work, 2, 8)  # warm-up
            print(f"A = {args.a.resolve()}\nB = {args.b.resolve()}\nmodels: {args.models_dir.resolve()}")
            ratios, failed = [], 0
            for r in range(args.rounds):
                figures: dict[str, dict] = {}

                def drive(name: str, figures: dict = figures) -> None:
                    figures[name] = run_wrk(servers[name].url + "/v1/predict", [bodies[name]], work,
                                            args.seconds, 8, threads=1)[0]

                threads = [threading.Thread(target=drive, args=(name,)) for name in servers]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                failed += sum(f["non2xx"] + f["socket_errors"] for f in figures.values())
                ratios.append(figures["B"]["rps"] / figures["A"]["rps"])
                print(f"round {r + 1}: A {figures['A']['rps']:,.0f} req/s, B {figures['B']['rps']:,.0f} req/s, "
                      f"B/A {ratios[-1]:.3f}", flush=True)
    print(f"median B/A over {len(ratios)} rounds: {statistics.median(ratios):.3f} "
          f"(rounds from {min(ratios):.3f} to {max(ratios):.3f}); failed requests: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
