"""A whole training run: corpus → Trainer → a new model version (and, on --resume, the saved run).

    train(TrainConfig.from_preset("tiny", corpus_dir=..., models_dir=...))   # returns the version's path

Steps: learn the vocabulary from train.txt and encode the splits (data.py) → train (trainer.py) →
the best weights' test perplexity → save the version atomically (model/checkpoint.py), with its
config, metrics and training curve. Every rank of a torchrun cluster trains; rank 0 alone prints
and writes. A run that was not interrupted deletes the training state it saved (resume.py).
"""
from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from model.checkpoint import list_versions, load_version, save_version
from model.evaluation.plots import plot_training_curve
from model.evaluation.scoring import evaluate_perplexity
from model.training import resume
from model.training.config import TrainConfig
from model.training.data import load_splits
from model.training.distributed import Cluster, device_for_rank
from model.training.trainer import Trainer

log = logging.getLogger("model.training")


def train(cfg: TrainConfig, given: set[str] | None = None) -> Path | None:
    """The whole run; returns the new version's directory (None with --if-missing and a model present).

    With `cfg.resume`, continues the run saved in the models directory, if any, with its
    config; `given` names the fields the command line set, to report those it asked in vain.
    """
    cluster = Cluster(device_for_rank(cfg.device))
    try:
        path = train_in_cluster(cfg, given, cluster)
        cluster.barrier()  # no rank tears the group down while another still uses it
        return path
    finally:
        cluster.close()


def train_in_cluster(cfg: TrainConfig, given: set[str] | None, cluster: Cluster) -> Path | None:
    """`train` as one of the cluster's processes: all of them train; rank 0 alone prints and writes."""
    say = print if cluster.is_main else (lambda *args, **kwargs: None)
    existing = list_versions(cfg.models_dir) if cfg.if_missing else []
    if existing:
        say(f"a model already exists in {cfg.models_dir} ({existing[-1]}); not training")
        return None
    cfg, saved = take_saved_run(cfg, given, say)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    t0 = time.monotonic()
    tokenizer, splits = load_splits(cfg, saved.tokenizer if saved is not None else None)
    counts = {s: sum(len(p) for p in ps) for s, ps in splits.items()}
    say(f"corpus {cfg.corpus_dir}: {counts['train']:,} / {counts['valid']:,} / {counts['test']:,} tokens "
        f"(train/valid/test), vocabulary {tokenizer.vocab_size:,}; prepared in {time.monotonic() - t0:.1f}s")
    trainer = Trainer(cfg, tokenizer, splits, cluster)
    if saved is not None:
        resume.restore(trainer, saved)
        say(f"resuming in {trainer.phase_names[trainer.phase_index]} after batch {trainer.phase_step}: "
            f"{trainer.tokens_seen:,} tokens and {trainer.train_seconds:.0f}s of training done")
    n_params = sum(p.numel() for p in trainer.model.parameters())
    ranks = f"; {cluster.world} processes, each step one batch of {cfg.batch_size} per process" if cluster.distributed else ""
    say(f"model: {cfg.cell} {cfg.num_layers}x{cfg.hidden_size}, embedding {cfg.embedding_size}, "
        f"{n_params / 1e6:.2f}M parameters on {trainer.device}; budget {cfg.max_tokens:,} tokens, {cfg.max_minutes:g} min "
        f"or {cfg.epochs} epochs, whichever ends first{ranks}")
    stopped_by = trainer.run()
    cluster.check_identical(trainer.model)
    if cluster.distributed:
        say(f"weights identical on all {cluster.world} processes after {trainer.tokens_seen:,} tokens")
    if not cluster.is_main:
        return None
    if trainer.best_state is None:
        print("no training step was completed; nothing saved", file=sys.stderr)
        return None
    path = save_trained(trainer, stopped_by, counts, n_params)
    if cfg.evaluate:
        evaluate_version(path)
    # The saved state is this run's if it resumed or saved one; another run's is left alone.
    if saved is not None or trainer.states_saved:
        if stopped_by == "interrupted":
            print(f"training state kept in {resume.find_train_state(cfg.models_dir)}: add --resume to continue this run")
        else:
            resume.delete_train_state(cfg.models_dir)
    return path


def take_saved_run(cfg: TrainConfig, given: set[str] | None, say) -> tuple[TrainConfig, resume.TrainState | None]:
    """With --resume, the saved run's state and config (if there is one); without, a note if one is there."""
    if not cfg.resume:
        if found := resume.find_train_state(cfg.models_dir):
            say(f"note: {found} holds an unfinished run: add --resume to continue it "
                "(this run replaces it when it saves its own state)")
        return cfg, None
    saved = resume.load_train_state(cfg.models_dir)
    if saved is None:
        say(f"no saved training state in {cfg.models_dir}; training from scratch")
        return cfg, None
    return resume.resumed_config(cfg, saved.config, given, say), saved


def save_trained(trainer: Trainer, stopped_by: str, counts: dict[str, int], n_params: int) -> Path:
    """The best weights' test perplexity, then a new version with the run's metrics and curve."""
    cfg, tokenizer = trainer.cfg, trainer.tokenizer
    trainer.model.load_state_dict(trainer.best_state)
    test_ppl = evaluate_perplexity(trainer.model, trainer.splits["test"], tokenizer.pad_id)
    trainer.model.to("cpu")  # versions are served on the CPU
    train_seconds = trainer.train_seconds
    metrics = {
        "stopped_by": stopped_by,
        "train_seconds": round(train_seconds, 1),
        "train_tokens_seen": trainer.tokens_seen,
        "tokens_per_second": round(trainer.tokens_seen / max(train_seconds, 1e-9), 1),
        "corpus_tokens": counts,
        "parameters": n_params,
        "best_valid_perplexity": round(trainer.best_ppl, 3),
        "test_perplexity": round(test_ppl, 3),
        "train_curve": trainer.curve,
        "valid_curve": trainer.valid_curve,
    }
    if trainer.resumed_at_tokens:
        metrics["resumed_at_tokens"] = trainer.resumed_at_tokens
    extras = [lambda directory: write_training_curve(metrics, cfg, directory)]
    if cfg.tune_cache:
        extras.append(tuned_cache(trainer, metrics))
    path = save_version(cfg.models_dir, trainer.model, tokenizer, cfg.as_json(), metrics,
                        write_extras=lambda directory: [write(directory) for write in extras])
    print_summary(path, metrics, stopped_by)
    return path


def tuned_cache(trainer: Trainer, metrics: dict) -> Callable[[Path], None]:
    """--tune-cache: the document cache's settings tuned on the validation split (model/evaluation/cache_scoring.py);
    returns what writes them into the new version (cache.json, cache_tuning.json)."""
    from model.cache import CacheSettings
    from model.evaluation.cache_scoring import tune_passages, write_cache_files

    ngram = None
    if trainer.cfg.ngram_order > 0:
        from model.ngram import KneserNeyLM

        t0 = time.monotonic()
        ngram = KneserNeyLM(trainer.model.config.vocab_size, order=trainer.cfg.ngram_order).fit(trainer.splits["train"])
        print(f"{trainer.cfg.ngram_order}-gram fitted on the training split in {time.monotonic() - t0:.0f}s")
    t0 = time.monotonic()
    tuning = tune_passages(trainer.model, trainer.splits["valid"], max_tokens=trainer.cfg.cache_tune_tokens, ngram=ngram)
    settings = CacheSettings.from_json(tuning["settings"])
    metrics["cache"] = {k: v for k, v in tuning.items() if k != "grid"}
    print(f"document cache tuned on {tuning['tokens']:,} validation tokens in {time.monotonic() - t0:.0f}s: {settings}; "
          f"validation perplexity {tuning['perplexity_without_cache']} → {tuning['perplexity_with_cache']}")

    return lambda directory: write_cache_files(directory, settings, tuning, ngram)


def write_training_curve(metrics: dict, cfg: TrainConfig, directory: Path) -> None:
    """training_curve.png in the new version: train and validation perplexity against tokens."""
    try:
        plot_training_curve(metrics, directory / "training_curve.png",
                            title=f"{cfg.cell}, hidden {cfg.hidden_size}, bptt {cfg.bptt}: training curve")
    except ValueError as e:  # nothing to draw (a run stopped before its first point)
        log.warning("no training curve drawn: %s", e)


def print_summary(path: Path, metrics: dict, stopped_by: str) -> None:
    """One screen at the end: what was trained, how well, and where it went."""
    rows = [
        ("version", str(path)),
        ("stopped by", f"{stopped_by} after {metrics['train_seconds']:.0f}s"),
        ("tokens", f"{metrics['train_tokens_seen']:,} ({metrics['tokens_per_second']:,.0f} tok/s)"),
        ("perplexity", f"best validation {metrics['best_valid_perplexity']:.2f}, test {metrics['test_perplexity']:.2f}"),
    ]
    accuracy = [p["valid_key_word_accuracy"] for p in metrics["valid_curve"] if "valid_key_word_accuracy" in p]
    if accuracy:
        rows.append(("answer words", f"{accuracy[-1]:.3f} top-1 on the validation split's cue answers"))
    if (path / "training_curve.png").is_file():
        rows.append(("training curve", str(path / "training_curve.png")))
    width = max(len(k) for k, _ in rows)
    print("\n" + "\n".join(f"  {k:<{width}}  {v}" for k, v in rows))


def evaluate_version(path: Path) -> None:
    """--evaluate: long-range accuracy by gap on the held-out probes, printed and saved (data/eval)."""
    from model.evaluation.probes import evaluate, markdown_table, write_report

    loaded = load_version(path)
    result = evaluate(loaded)
    result["test_perplexity"] = loaded.metrics["test_perplexity"]
    print("\nlong-range accuracy on held-out probes (python -m model.evaluation):\n" + markdown_table(result))
    for written in write_report(result, Path("data/eval")):
        print(f"wrote {written}")
