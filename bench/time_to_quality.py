"""Time to quality on WikiText-2: the textbook loop for N minutes, then the project's trainer until it
matches the textbook's final validation perplexity — one after the other, in one run.

    .venv/bin/python bench/time_to_quality.py --data ../shared/data/wikitext-2 --minutes 20 --out data/ttq

1. `bench/textbook_lstm.py` trains for `--minutes` of training time (validations not counted) and
   reports its validation perplexity P at the end.
2. The corpus is built from the same files (`corpus.build --text-dir`), and `model.training` trains with
   `--as-is-tokens` (the same whitespace tokens, case kept), validating every `--validate-minutes`
   and stopping once two consecutive validations are at or below P (`--target-perplexity`).
3. Time to quality is the trainer's training time at that point (its validations not counted,
   as for the baseline); the speed-up is the baseline's minutes over it.

Prints both curves and writes them with the result to OUT/result.json. Nothing else should run on
the machine meanwhile: both runs use every core.
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from model.training.schedule import target_reached

ROOT = Path(__file__).resolve().parent.parent

# The project's trainer on WikiText-2 (`make wikitext`'s preset, with the tokens as they are).
TRAINER_ARGS = "--preset wikitext --as-is-tokens"


def run(cmd: list[str]) -> None:
    print("$ " + shlex.join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def newest_metrics(models_dir: Path) -> dict:
    versions = sorted(p for p in models_dir.iterdir() if (p / "manifest.json").is_file())
    return json.loads((versions[-1] / "metrics.json").read_text())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True, help="WikiText-2 folder (train.txt, valid.txt, test.txt)")
    p.add_argument("--minutes", type=float, default=20.0, help="the baseline's training time")
    p.add_argument("--validate-minutes", type=float, default=0.5, help="the trainer's validation interval")
    p.add_argument("--trainer-args", default=TRAINER_ARGS, help="model.training flags (model and optimiser)")
    p.add_argument("--out", type=Path, default=Path("data/ttq"), help="work folder; result.json goes here")
    p.add_argument("--baseline-json", type=Path, help="reuse this textbook_lstm.py result instead of running it")
    a = p.parse_args()
    out = a.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    data = a.data.resolve()

    started = time.monotonic()
    baseline_json = a.baseline_json or out / "textbook.json"
    if not a.baseline_json:
        run([python, "bench/textbook_lstm.py", "--data", str(data), "--minutes", str(a.minutes),
             "--json", str(baseline_json)])
    baseline = json.loads(baseline_json.read_text())
    target = baseline["curve"][-1]["valid_perplexity"]
    baseline_minutes = baseline["curve"][-1]["train_minutes"]
    print(f"baseline: validation perplexity {target} after {baseline_minutes} min of training", flush=True)

    corpus, models = out / "corpus", out / "models"
    run([python, "-m", "corpus.build", "--text-dir", str(data), "--no-synthetic", "--out-dir", str(corpus)])
    run([python, "-m", "model.training", "--corpus-dir", str(corpus), "--models-dir", str(models),
         *shlex.split(a.trainer_args), "--max-minutes", str(a.minutes), "--validate-minutes", str(a.validate_minutes),
         "--target-perplexity", str(target), "--checkpoint-minutes", "0"])
    metrics = newest_metrics(models)
    curve = [pt for pt in metrics["valid_curve"] if "training_seconds" in pt]
    # Reached when it holds at two consecutive validations (the trainer's own stopping rule): the
    # curve is not monotone, and a single dip under the target is not a quality the run has.
    ppls = [pt["valid_perplexity"] for pt in curve]
    reached = next((curve[i] for i in range(len(curve)) if target_reached(ppls[: i + 1], target)), None)
    result = {
        "baseline": {"minutes": baseline_minutes, "valid_perplexity": target, "curve": baseline["curve"],
                     "vocabulary": baseline["vocabulary"]},
        "trainer": {"args": a.trainer_args, "vocabulary": metrics.get("vocab_size"), "valid_curve": curve,
                    "tokens_per_second": metrics.get("tokens_per_second")},
        "reached": reached,
        "speedup": round(baseline_minutes * 60 / reached["training_seconds"], 2) if reached else None,
        "wall_minutes": round((time.monotonic() - started) / 60, 1),
    }
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    if reached:
        print(f"trainer: validation perplexity {reached['valid_perplexity']} (the second in a row at or under the target) after "
              f"{reached['training_seconds'] / 60:.2f} min of training ({reached['tokens']:,} tokens): "
              f"{result['speedup']}x sooner than the baseline's {baseline_minutes} min")
    else:
        print(f"trainer: did not hold {target} within {a.minutes} min; best {metrics.get('best_valid_perplexity')}")


if __name__ == "__main__":
    main()
