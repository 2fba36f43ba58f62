"""What each training lever buys on CPU: tokens/s and validation perplexity after the same training time.

    .venv/bin/python bench/training_levers.py --data ../shared/data/wikitext-2 --minutes 2 --out data/levers

Each lever is one change to the trainer's WikiText-2 settings (bench/time_to_quality.py's
TRAINER_ARGS), trained for `--minutes` from scratch, one after the other in one run (nothing else
should run meanwhile). tokens/s counts training steps only; the validation perplexity is the one
after the budget, on the first `--eval-passages` articles of WikiText-2's validation split (and
of its test split for the saved version's test figure): a lever is compared with the others, and a
full-softmax evaluation of the whole split takes minutes on 2 cores. Prints a Markdown table and
writes OUT/levers.json.
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

from bench.time_to_quality import ROOT, TRAINER_ARGS, newest_metrics

LEVERS = {
    "as configured (adaptive softmax, Adam, batch 32, 2 threads)": "",
    "full softmax": "--full-softmax",
    "full softmax, tied weights (embedding 512)": "--full-softmax --tie-weights --embedding-size 512",
    "batch 64": "--batch-size 64",
    "1 thread": "--threads 1",
    "bfloat16 autocast": "--bf16",
    "plain SGD, lr 20 (the textbook optimiser)": "--optimizer sgd --lr 20 --clip 0.25",
    "torch.compile": "--compile",
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True, help="WikiText-2 folder")
    p.add_argument("--minutes", type=float, default=2.0, help="training time per lever")
    p.add_argument("--out", type=Path, default=Path("data/levers"))
    p.add_argument("--eval-passages", type=int, default=12, help="articles of valid and test to score (0: all)")
    p.add_argument("--only", nargs="*", help="run only the levers whose names contain one of these")
    a = p.parse_args()
    out = a.out.resolve()
    corpus = out / "corpus"
    if not (corpus / "train.txt").is_file():
        subprocess.run([sys.executable, "-m", "corpus.build", "--text-dir", str(a.data.resolve()), "--no-synthetic",
                        "--out-dir", str(corpus)], cwd=ROOT, check=True)
        if a.eval_passages:
            for split in ("valid", "test"):  # passages are separated by blank lines (corpus/build.py)
                path = corpus / f"{split}.txt"
                passages = path.read_text(encoding="utf-8").split("\n\n")
                path.write_text("\n\n".join(passages[: a.eval_passages]).rstrip("\n") + "\n", encoding="utf-8")
    rows = []
    for i, (name, flags) in enumerate(LEVERS.items()):
        if a.only and not any(word in name for word in a.only):
            continue
        models = out / f"lever-{i}"
        cmd = [sys.executable, "-m", "model.training", "--corpus-dir", str(corpus), "--models-dir", str(models),
               *shlex.split(TRAINER_ARGS), *shlex.split(flags), "--max-minutes", str(a.minutes),
               "--checkpoint-minutes", "0"]
        print("$ " + shlex.join(cmd[1:]), flush=True)
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            error = (done.stderr.strip().splitlines() or ["?"])[-1]
            rows.append({"lever": name, "flags": flags, "error": error[:300]})
            print(f"  failed: {error}", flush=True)
            continue
        metrics = newest_metrics(models)
        row = {"lever": name, "flags": flags, "tokens_per_second": metrics["tokens_per_second"],
               "tokens": metrics["train_tokens_seen"], "valid_perplexity": metrics["best_valid_perplexity"],
               "parameters": metrics["parameters"]}
        rows.append(row)
        print(f"  {row['tokens_per_second']:,.0f} tok/s, validation perplexity {row['valid_perplexity']:.1f}", flush=True)
    (out / "levers.json").write_text(json.dumps({"minutes": a.minutes, "rows": rows}, indent=2) + "\n")
    print(f"\n| lever | tokens/s | validation ppl after {a.minutes:g} min |\n|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['lever']} | failed: {r['error']} | |")
        else:
            print(f"| {r['lever']} | {r['tokens_per_second']:,.0f} | {r['valid_perplexity']:.1f} |")


if __name__ == "__main__":
    main()
