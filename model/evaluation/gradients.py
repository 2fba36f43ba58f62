"""Vanishing gradients, made visible: how strongly the loss at step T reaches back to step T − k.

With backpropagation through time, ∂loss_T/∂h_{T−k} is a product of k step Jacobians. For a
plain tanh RNN that product shrinks geometrically with k, so a word k steps back can barely
move the prediction at T; an LSTM's additive cell state (forget gate near 1) keeps the signal
alive far longer. This module measures the curve k ↦ E‖∂loss_T/∂h_{T−k}‖ on real passages:

    python -m model.evaluation.gradients --version-dir models/<version> [--version-dir models/<other> ...] \\
        --corpus-dir data/corpus --out docs/gradient_norms.png --json gradient_norms.json

Method. Positions T are sampled (seeded) among those with at least `max_distance` tokens
before them in their passage and a next word to predict. Each sample's recurrence starts from
the zero state at its passage start, as in training; the prefix that lies more than
`max_distance` steps back is run without a graph (it is a constant for every derivative asked
for), then the last max_distance + 1 steps are run one at a time, with the top layer's hidden
output at every step fed on as part of the state, so that the tensor whose gradient is taken is
the one the rest of the computation depends on. One backward pass over the summed losses of
the batch gives every sample's gradients at every distance (samples do not interact in eval
mode). The gradient is taken with `torch.autograd.grad`, so the model's `.grad` fields are
left untouched.
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch

from model.rnn_lm import RNNLanguageModel

Position = tuple[int, int]  # (passage index, T)


def sample_positions(passages: list[list[int]], max_distance: int, n_samples: int, seed: int = 0) -> list[Position]:
    """Draw up to n_samples distinct positions (passage index, T), uniformly over all eligible ones.

    T is eligible when max_distance <= T <= len(passage) − 2: there are max_distance tokens before it
    and a target (the token at T + 1) after it. Fewer than n_samples eligible positions → all of them.
    """
    if max_distance < 0 or n_samples < 1:
        raise ValueError("max_distance must be >= 0 and n_samples >= 1")
    counts = [max(0, len(p) - 1 - max_distance) for p in passages]
    total = sum(counts)
    if total == 0:
        raise ValueError(f"no passage has the {max_distance + 2} tokens needed for max_distance={max_distance}")
    picks = range(total) if total <= n_samples else sorted(random.Random(seed).sample(range(total), n_samples))
    positions: list[Position] = []
    passage, start = 0, 0  # start: flat index of the passage's first eligible position
    for flat in picks:
        while flat >= start + counts[passage]:
            start += counts[passage]
            passage += 1
        positions.append((passage, max_distance + flat - start))
    return positions


def _prefix_states(model: RNNLanguageModel, prefixes: list[list[int]], dtype: torch.dtype):
    """The recurrent state after each prefix (zero state for an empty one), without a graph: (L, B, H) tensors."""
    cfg = model.config
    shape = (cfg.num_layers, len(prefixes), cfg.hidden_size)
    h = torch.zeros(shape, dtype=dtype)
    c = torch.zeros(shape, dtype=dtype) if cfg.cell == "lstm" else None
    rows = [i for i, p in enumerate(prefixes) if p]
    if not rows:
        return h, c
    lengths = torch.tensor([len(prefixes[i]) for i in rows])
    tokens = torch.zeros(len(rows), int(lengths.max()), dtype=torch.long)
    for j, i in enumerate(rows):
        tokens[j, : len(prefixes[i])] = torch.tensor(prefixes[i])
    with torch.no_grad():
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            model.embedding(tokens), lengths, batch_first=True, enforce_sorted=False
        )
        _, state = model.rnn(packed)  # final state of each row at its own length, in input order
    index = torch.tensor(rows)
    if c is not None:
        h[:, index], c[:, index] = state[0], state[1]
    else:
        h[:, index] = state
    return h, c


def gradient_norms_per_sample(
    model: RNNLanguageModel, passages: list[list[int]], positions: list[Position], max_distance: int
) -> dict[str, torch.Tensor]:
    """‖∂loss_T/∂h_{T−k}‖ for every sample and k = 0..max_distance, as {"h": (B, D+1)} plus, for an
    LSTM, {"c": (B, D+1)} for the cell state c_{T−k} (zero at k = 0: loss_T does not depend on c_T).

    Column k is distance k. Runs in eval mode (restoring the previous mode) with one backward pass.
    """
    if not positions:
        raise ValueError("no positions given")
    for p, t in positions:
        if not max_distance <= t <= len(passages[p]) - 2:
            raise ValueError(f"position {t} of passage {p} (length {len(passages[p])}) is not eligible")
    D = max_distance
    dtype = model.embedding.weight.dtype
    was_training = model.training
    model.eval()
    try:
        h0, c0 = _prefix_states(model, [passages[p][: t - D] for p, t in positions], dtype)
        window = torch.tensor([passages[p][t - D : t + 1] for p, t in positions])  # (B, D+1): steps T−D..T
        targets = torch.tensor([passages[p][t + 1] for p, t in positions])  # (B,)
        with torch.enable_grad():
            x = model.embedding(window)  # (B, D+1, E)
            if not x.requires_grad:  # frozen weights: still build the graph through the recurrence
                x.requires_grad_(True)
            h, c = h0, c0
            tops: list[torch.Tensor] = []  # top-layer h at each step, (B, H)
            cells: list[torch.Tensor] = []  # the full cell state at each step, (L, B, H)
            for step in range(D + 1):
                out, state = model.rnn(x[:, step : step + 1], (h, c) if c is not None else h)
                top = out[:, 0]  # equal to the state's top layer; use this tensor for both roles
                h_new = state[0] if c is not None else state
                h = torch.cat([h_new[:-1], top.unsqueeze(0)]) if h_new.size(0) > 1 else top.unsqueeze(0)
                tops.append(top)
                if c is not None:
                    c = state[1]
                    cells.append(c)
            nll, _ = model.target_nll(tops[-1].unsqueeze(1), targets.unsqueeze(1))
            inputs = tops + cells
            grads = torch.autograd.grad(nll.sum(), inputs, allow_unused=True)
    finally:
        model.train(was_training)

    def norms(gs, pick) -> torch.Tensor:
        cols = [torch.zeros(len(positions), dtype=dtype) if g is None else pick(g).norm(dim=-1) for g in gs]
        return torch.stack(cols[::-1], dim=1).detach()  # step T−D..T reversed → k = 0..D

    result = {"h": norms(grads[: D + 1], lambda g: g)}
    if cells:
        result["c"] = norms(grads[D + 1 :], lambda g: g[-1])
    return result


def gradient_norm_curves(
    model: RNNLanguageModel, passages: list[list[int]], max_distance: int = 200, n_samples: int = 32,
    seed: int = 0, batch_size: int | None = None,
) -> dict[str, dict[int, float]]:
    """{"h": {k: mean norm}} and, for an LSTM, {"c": {k: mean norm}}; see gradient_norms_by_distance."""
    positions = sample_positions(passages, max_distance, n_samples, seed)
    batch_size = batch_size or len(positions)
    sums: dict[str, torch.Tensor] = {}
    for i in range(0, len(positions), batch_size):
        for name, per_sample in gradient_norms_per_sample(
            model, passages, positions[i : i + batch_size], max_distance
        ).items():
            sums[name] = sums.get(name, 0) + per_sample.double().sum(dim=0)
    return {name: {k: float(v) / len(positions) for k, v in enumerate(s.tolist())} for name, s in sums.items()}


def gradient_norms_by_distance(
    model: RNNLanguageModel, passages: list[list[int]], max_distance: int = 200, n_samples: int = 32, seed: int = 0
) -> dict[int, float]:
    """For sampled positions T (with at least max_distance tokens before them in a passage), the mean
    over samples of || d loss_T / d h_{T-k} || for k = 0..max_distance, where loss_T is the NLL of the
    target at T (the token following T) and h_t is the top layer's hidden output at step t (for an
    LSTM, the h output; `gradient_norm_curves` also gives the cell state). Returns {k: mean norm}.
    """
    return gradient_norm_curves(model, passages, max_distance, n_samples, seed)["h"]


def main(argv: list[str] | None = None) -> None:
    from model.checkpoint import load_version
    from model.evaluation.plots import plot_gradient_norms  # matplotlib is needed for the figure only
    from model.training.data import encode_passages, read_passages

    p = argparse.ArgumentParser(description="Gradient norm ||d loss_T / d h_(T-k)|| against distance k.")
    p.add_argument("--version-dir", type=Path, action="append", required=True, help="a model version (repeatable)")
    p.add_argument("--corpus-dir", type=Path, default=Path("data/corpus"), help="passages come from its test.txt")
    p.add_argument("--max-distance", type=int, default=200)
    p.add_argument("--n-samples", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cell-state", action="store_true", help="also plot an LSTM's cell-state curve")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads; 0 = torch's default. One is fastest for these small per-step ops")
    p.add_argument("--out", type=Path, help="write the figure here (PNG)")
    p.add_argument("--json", type=Path, help="write the curves here")
    a = p.parse_args(argv)

    if a.threads > 0:
        torch.set_num_threads(a.threads)
    lines = read_passages(a.corpus_dir / "test.txt")
    report: dict[str, dict] = {}
    curves: dict[str, dict[int, float]] = {}
    for version_dir in a.version_dir:
        loaded = load_version(version_dir)
        cell = loaded.model.config.cell
        label = f"{cell} {loaded.version}"
        while label in report:
            label += "'"
        passages = encode_passages(loaded.tokenizer, lines)
        start = time.perf_counter()
        result = gradient_norm_curves(loaded.model, passages, a.max_distance, a.n_samples, a.seed)
        seconds = time.perf_counter() - start
        n = len(sample_positions(passages, a.max_distance, a.n_samples, a.seed))
        report[label] = {"version": loaded.version, "cell": cell, "max_distance": a.max_distance,
                         "n_samples": n, "seed": a.seed, "seconds": round(seconds, 2), **result}
        curves[label] = result["h"]
        if a.cell_state and "c" in result:
            curves[f"{label} (cell state)"] = result["c"]
        shown = [k for k in (0, 1, 10, 20, 50, 100, 200, 400) if k <= a.max_distance]
        print(f"{label}: {n} samples, {seconds:.1f} s")
        for name, curve in result.items():
            print(f"  {name}: " + "  ".join(f"k={k}: {curve[k]:.3g}" for k in shown))
    if a.json:
        a.json.write_text(json.dumps(report, indent=2) + "\n")
    if a.out:
        samples = ", ".join(sorted({str(r["n_samples"]) for r in report.values()}))
        plot_gradient_norms(curves, a.out, title=f"Gradient norm by distance ({samples} test positions)")
        print(f"figure written to {a.out}")


if __name__ == "__main__":
    main()
