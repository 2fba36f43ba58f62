"""Kill a training run with SIGKILL mid-epoch, resume it, and report what was seen (about 40 s).

    .venv/bin/python scripts/check_resume.py              # in a temporary directory, removed afterwards
    .venv/bin/python scripts/check_resume.py --keep DIR   # keep corpus, models and logs in DIR

On a small generated corpus and a small GRU (one thread), three runs of `python -m model.training`:
  1. the reference, never interrupted;
  2. the same run saving its state every ~1 s, killed with SIGKILL half a second after a state
     from the middle of an epoch appeared (so the work after that state is lost);
  3. run 2 again with `--resume`.
During runs 2 and 3 the models directory is listed every 10 ms, as the service lists it, and each
entry it would see is loaded: a partial version would fail to load. Checks: run 3 leaves exactly
one version and no training state; no partial version was ever visible; its weights, tokens and
validation curve equal the reference's. Exit status 0 when every check passes.
"""
from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from model.checkpoint import list_versions, load_version
from model.training.resume import STATE_DIR, STATE_JSON

REPO = Path(__file__).resolve().parent.parent

TRAIN_ARGS = ["--embedding-size", "32", "--hidden-size", "64", "--batch-size", "16", "--bptt", "100",
              "--epochs", "2", "--max-minutes", "0", "--threads", "1"]


class ModelsDirWatcher:
    """Lists the models directory as the service would and loads each version it has not seen yet."""

    def __init__(self, models: Path) -> None:
        self.models, self.seen, self.polls, self.partial = models, set(), 0, []

    def poll(self) -> None:
        self.polls += 1
        for entry in self.models.iterdir() if self.models.is_dir() else []:
            if entry.name.startswith(".") or entry.name in self.seen:
                continue
            try:
                load_version(entry)
            except Exception as e:  # noqa: BLE001 - any failure to load is what we look for
                self.partial.append(f"{entry.name}: {e}")
            self.seen.add(entry.name)


def saved_progress(models: Path) -> dict | None:
    try:
        return json.loads((models / STATE_DIR / STATE_JSON).read_text())["progress"]
    except (OSError, ValueError, KeyError):  # none yet, or between the two renames of a swap
        return None


def run_until(command: list[str], log: Path, watcher: ModelsDirWatcher | None, timeout: float, until=None):
    """Run `command`; while it runs, poll the watcher; return (process, seconds) once it ends or `until()`."""
    start = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        while process.poll() is None and not (until and until()):
            if watcher:
                watcher.poll()
            if time.monotonic() - start > timeout:
                process.kill()
                sys.exit(f"timed out after {timeout:.0f}s; see {log}")
            time.sleep(0.01)
    if watcher:
        watcher.poll()
    return process, time.monotonic() - start


def check(ok: bool, what: str, results: list[bool]) -> None:
    print(f"  {'PASS' if ok else 'FAIL'}  {what}")
    results.append(ok)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it (default: a temporary one)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="check-resume-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return check_resume(work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def check_resume(work: Path) -> int:
    python = [sys.executable, "-m"]
    corpus, empty = work / "corpus", work / "no-user-text"
    empty.mkdir(exist_ok=True)
    subprocess.run([*python, "corpus.build", "--out-dir", str(corpus), "--train-passages", "600", "--eval-passages",
                    "40", "--max-gap", "100", "--user-dir", str(empty)], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    print(f"corpus: {corpus} (600 generated passages); logs and models in {work}")

    reference_dir, models = work / "models-reference", work / "models"
    train = [*python, "model.training", "--corpus-dir", str(corpus), *TRAIN_ARGS]
    process, seconds = run_until([*train, "--models-dir", str(reference_dir)], work / "reference.log", None, 120)
    if process.returncode != 0:
        sys.exit(f"the reference run failed; see {work / 'reference.log'}")
    reference = load_version(reference_dir / list_versions(reference_dir)[-1])
    print(f"1. reference run: {seconds:.1f}s, {reference.metrics['train_tokens_seen']:,} tokens, version {reference.version}")

    watcher = ModelsDirWatcher(models)
    killed_at: dict = {}

    def half_a_second_after_a_state_mid_epoch() -> bool:
        progress = saved_progress(models)
        if progress and progress["phase_name"].startswith("epoch") and progress["phase_step"] > 0:
            killed_at.setdefault("first_seen", time.monotonic())
        return "first_seen" in killed_at and time.monotonic() - killed_at["first_seen"] > 0.5

    process, seconds = run_until([*train, "--models-dir", str(models), "--checkpoint-minutes", "0.015"],
                                 work / "killed.log", watcher, 120, until=half_a_second_after_a_state_mid_epoch)
    process.send_signal(signal.SIGKILL)
    returncode = process.wait(timeout=10)
    state = saved_progress(models)
    last = f"{state['phase_name']} after batch {state['phase_step']}, {state['tokens_seen']:,} tokens" if state else "none"
    print(f"2. killed with SIGKILL after {seconds:.1f}s (exit status {returncode}); the last state saved: {last}; "
          f"versions visible: {list_versions(models) or 'none'}")

    process, seconds = run_until([*train, "--models-dir", str(models), "--resume"], work / "resumed.log", watcher, 120)
    log = (work / "resumed.log").read_text()
    resuming = next((line for line in log.splitlines() if line.startswith("resuming")), "(no 'resuming' line)")
    print(f"3. --resume: exit status {process.returncode} after {seconds:.1f}s; it said: {resuming}")
    print(f"   the models directory was listed {watcher.polls:,} times during runs 2 and 3; "
          f"versions seen: {sorted(watcher.seen) or 'none'}")

    results: list[bool] = []
    print("checks:")
    check(returncode == -signal.SIGKILL and state is not None, "run 2 was killed mid-epoch, after a state was saved",
          results)
    check(process.returncode == 0 and len(list_versions(models)) == 1, "run 3 finished and left exactly one version",
          results)
    leftovers = [p.name for p in models.iterdir() if p.name.startswith(STATE_DIR)] if models.is_dir() else []
    check(not leftovers, "no training state left behind" + (f": {leftovers}" if leftovers else ""), results)
    check(not watcher.partial, "no partial version was ever visible" + (f": {watcher.partial}" if watcher.partial else ""),
          results)
    if process.returncode == 0 and list_versions(models):
        resumed = load_version(models / list_versions(models)[-1])
        weights, expected = resumed.model.state_dict(), reference.model.state_dict()
        diff = max(float((weights[name] - expected[name]).abs().max()) for name in expected)
        check(diff <= 1e-6, f"weights equal the reference's (largest difference {diff:.2g})", results)
        same = resumed.metrics["train_tokens_seen"] == reference.metrics["train_tokens_seen"] and [
            v["valid_perplexity"] for v in resumed.metrics["valid_curve"]] == [
            v["valid_perplexity"] for v in reference.metrics["valid_curve"]]
        check(same, f"same tokens seen ({resumed.metrics['train_tokens_seen']:,}) and validation curve "
              f"({[v['valid_perplexity'] for v in resumed.metrics['valid_curve']]})", results)
    print("all checks passed" if all(results) else "SOME CHECKS FAILED")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
