"""The long-range memory experiment, end to end:

1. RNN, GRU and LSTM of the same size, trained on the same corpus with the same token budget,
   and a 5-gram Kneser-Ney model: accuracy by gap on the held-out probes, test perplexity.
2. The truncation study: the LSTM trained with bptt windows of 10, 35, 100 and 300 tokens
   (same budget): does a window shorter than the gap still carry the cue?
3. Vanishing gradients: ||∂loss_T/∂h_(T−k)|| against k for the trained RNN and LSTM.

    python -m model.evaluation.experiment --out-dir docs/experiment          # about 40 minutes on 2 cores
    python -m model.evaluation.experiment --bptts                            # cells and n-gram only (~17 minutes)
    python -m model.evaluation.experiment --smoke --out-dir /tmp/smoke       # a minute: tiny budget, for the tests

Writes OUT/results.json, OUT/summary.md and the plots OUT/accuracy_by_cell.png,
OUT/truncation.png, OUT/gradient_norms.png. Models go to WORK (default data/experiment).
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from corpus.build import build
from model.checkpoint import LoadedModel, load_version
from model.evaluation.gradients import gradient_norms_by_distance
from model.evaluation.plots import plot_accuracy_by_gap, plot_gradient_norms
from model.evaluation.probes import GAPS, accuracy_by_gap, evaluate, make_probes
from model.ngram import KneserNeyLM
from model.training.config import TrainConfig
from model.training.data import encode_passages, read_passages
from model.training.run import train


@dataclass
class ExperimentConfig:
    out_dir: Path = Path("docs/experiment")
    work_dir: Path = Path("data/experiment")
    max_tokens: int = 5_000_000  # per model, as the default model; 7 models ≈ 40 minutes on 2 cores
    cells: tuple[str, ...] = ("rnn", "gru", "lstm")
    bptts: tuple[int, ...] = (10, 35, 100, 300)
    cell_bptt: int = 400  # the cell comparison's window: the committed results (docs/experiment) used 400
    gaps: tuple[int, ...] = GAPS
    ngram_order: int = 5
    gradient_distance: int = 200
    train_overrides: dict = field(default_factory=dict)  # smoke runs shrink the models
    corpus_passages: int = 12000


def train_and_evaluate(cfg: ExperimentConfig, corpus_dir: Path, name: str, **settings) -> tuple[LoadedModel, dict]:
    models_dir = cfg.work_dir / "models" / name
    train_cfg = TrainConfig(corpus_dir=corpus_dir, models_dir=models_dir, max_tokens=cfg.max_tokens,
                            max_minutes=0, **{**cfg.train_overrides, **settings})
    print(f"\n== {name}: {settings}", flush=True)
    loaded = load_version(train(train_cfg))
    result = evaluate(loaded, cfg.gaps)
    result.update(test_perplexity=loaded.metrics["test_perplexity"], train_seconds=loaded.metrics["train_seconds"],
                  tokens_per_second=loaded.metrics["tokens_per_second"], settings=settings)
    return loaded, result


def ngram_baseline(cfg: ExperimentConfig, corpus_dir: Path, reference: LoadedModel) -> dict:
    """The n-gram model on the same vocabulary (the reference model's tokenizer) and the same probes."""
    tok = reference.tokenizer
    split = {s: encode_passages(tok, read_passages(corpus_dir / f"{s}.txt")) for s in ("train", "test")}
    started = time.monotonic()
    lm = KneserNeyLM(tok.vocab_size, order=cfg.ngram_order).fit(split["train"])
    offerable = np.array(tok.word_mask())
    result: dict = {"test_perplexity": round(lm.perplexity(split["test"]), 3)}
    for name, mention in (("plain", False), ("mention", True)):
        probes = make_probes(cfg.gaps, mention=mention)
        predictions = []
        for probe in probes:
            probs = np.where(offerable, lm.distribution(tok.encode(probe.text)), -1.0)
            predictions.append([tok.display_forms[i] for i in np.argsort(-probs)[:3]])
        result[name] = accuracy_by_gap(probes, predictions)
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def summary_table(results: dict[str, dict], gaps, metric: str = "top1") -> str:
    head = "| model | test ppl | " + " | ".join(f"gap {g}" for g in gaps) + " |"
    lines = [head, "|---" * (len(gaps) + 2) + "|"]
    for label, r in results.items():
        for probes in ("plain", "mention"):
            cells = " | ".join(f"{r[probes][g][metric]:.3f}" for g in gaps)
            lines.append(f"| {label} ({probes}) | {r['test_perplexity']:.2f} | {cells} |")
    return "\n".join(lines)


def run(cfg: ExperimentConfig) -> dict:
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    corpus_dir = cfg.work_dir / "corpus"
    if not (corpus_dir / "train.txt").is_file():
        build(corpus_dir, train_passages=cfg.corpus_passages, eval_passages=max(cfg.corpus_passages // 20, 20), user_dir=None)
    cells: dict[str, dict] = {}
    loaded: dict[str, LoadedModel] = {}
    for cell in cfg.cells:
        loaded[cell], cells[cell] = train_and_evaluate(cfg, corpus_dir, cell, cell=cell, bptt=cfg.cell_bptt)
    reference = loaded.get("lstm") or next(iter(loaded.values()))
    cells[f"{cfg.ngram_order}-gram KN"] = ngram_baseline(cfg, corpus_dir, reference)
    truncation: dict[str, dict] = {}
    for bptt in cfg.bptts:
        _, truncation[f"lstm bptt {bptt}"] = train_and_evaluate(cfg, corpus_dir, f"lstm-bptt{bptt}", cell="lstm", bptt=bptt)
    test_passages = read_passages(corpus_dir / "test.txt")
    gradients = {
        f"{cell} ({m.version})": gradient_norms_by_distance(
            m.model, encode_passages(m.tokenizer, test_passages), max_distance=cfg.gradient_distance)
        for cell, m in loaded.items() if cell in ("rnn", "lstm")
    }
    plot_accuracy_by_gap(cells, cfg.out_dir / "accuracy_by_cell.png",
                         title=f"Held-out long-range probes: top-1 by gap ({cfg.max_tokens:,} training tokens each)")
    if truncation:
        plot_accuracy_by_gap(truncation, cfg.out_dir / "truncation.png", title="LSTM: top-1 by gap for each BPTT window")
    plot_gradient_norms(gradients, cfg.out_dir / "gradient_norms.png", title="||dloss_T / dh_(T-k)|| against k")
    results = {"config": {"max_tokens": cfg.max_tokens, "gaps": list(cfg.gaps), "train_overrides": cfg.train_overrides},
               "cells": cells, "truncation": truncation,
               "gradient_norms": {k: {str(d): v for d, v in curve.items()} for k, curve in gradients.items()}}
    (cfg.out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    summary = "## Accuracy by gap (top-1), by cell\n\n" + summary_table(cells, cfg.gaps) + "\n"
    if truncation:
        summary += "\n## Truncation study (LSTM, top-1)\n\n" + summary_table(truncation, cfg.gaps) + "\n"
    (cfg.out_dir / "summary.md").write_text(summary)
    print("\n" + summary)
    return results


def main(argv: list[str] | None = None) -> None:
    d = ExperimentConfig()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out-dir", type=Path, default=d.out_dir, help="where results and plots go")
    p.add_argument("--work-dir", type=Path, default=d.work_dir, help="where the corpus and models go")
    p.add_argument("--max-tokens", type=int, default=d.max_tokens, help="training tokens per model")
    p.add_argument("--cells", nargs="+", default=list(d.cells), choices=["rnn", "gru", "lstm"], help="cells to compare")
    p.add_argument("--bptts", nargs="*", type=int, default=list(d.bptts),
                   help="LSTM windows for the truncation study (none: skip it)")
    p.add_argument("--smoke", action="store_true", help="tiny corpus, models and budget (a minute)")
    a = p.parse_args(argv)
    cfg = ExperimentConfig(out_dir=a.out_dir, work_dir=a.work_dir, max_tokens=a.max_tokens,
                           cells=tuple(a.cells), bptts=tuple(a.bptts))
    if a.smoke:
        cfg.max_tokens, cfg.corpus_passages, cfg.gaps, cfg.bptts = 20_000, 300, (0, 25), (10, 35)
        cfg.gradient_distance = 20
        cfg.train_overrides = dict(embedding_size=16, hidden_size=16, vocab_size=1000, batch_size=16)
    run(cfg)


if __name__ == "__main__":
    main()
