"""Figures for the docs: accuracy by gap, training curves, gradient norms by distance, keystrokes saved.

Drawn with matplotlib's object-oriented API on the Agg canvas: no pyplot, no global state, no
display needed (safe in a server, a test, or a headless container). Each function writes one
PNG at about 120 dpi (tens of KB) and raises ValueError when it is given nothing to draw.

    from model.evaluation.plots import plot_accuracy_by_gap
    plot_accuracy_by_gap({"lstm": json.load(open("eval_lstm.json")), "rnn": ...}, Path("docs/gap.png"))

    python -m model.evaluation.plots keystrokes RESULT.json [MORE.json ...] --out keystrokes.png
        # keystrokes saved by system and text, from real_text's JSON (systems run apart, merged)
    python -m model.evaluation.plots distance RESULT.json [MORE.json ...] --kind fiction --out far.png
        # keystrokes saved by how far back each word was last written in its document, per system
"""
from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter

DPI = 120
FIGSIZE = (7.5, 4.5)
METRICS = {"top1": "top-1 accuracy", "top3": "top-3 accuracy"}
PROBE_KINDS = (("plain", "-", "o", "plain probes"), ("mention", "--", "s", "with a distracting mention"))


def _figure() -> Figure:
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, out: Path) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, format="png", dpi=DPI)


def plot_accuracy_by_gap(
    results: dict[str, dict], out: Path, metric: str = "top1",
    title: str = "Long-range memory: accuracy by gap between cue and query", chance: float | None = None,
) -> None:
    """results: {label: evaluate-result-dict}; one line per label and probe kind (plain probes solid,
    'mention' probes dashed, same colour per label). Gaps are categorical on x (so gap 0 shows and
    long gaps do not crowd), accuracy 0..1 on y; `chance` draws a dotted chance-level line.
    Gap keys may be ints or, as read back from JSON, strings.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}, not {metric!r}")
    if not results:
        raise ValueError("no results to plot")
    series = []  # (label, kind, {gap: accuracy})
    for label, result in results.items():
        for kind, *_ in PROBE_KINDS:
            table = (result or {}).get(kind)
            if not table:
                continue
            try:
                points = {int(gap): float(row[metric]) for gap, row in table.items()}
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError(f"{label} {kind}: rows need an integer gap and a {metric!r} value ({e})") from None
            series.append((label, kind, points))
    if not series:
        raise ValueError("no 'plain' or 'mention' accuracies in the results")

    gaps = sorted({g for _, _, points in series for g in points})
    x_of = {g: i for i, g in enumerate(gaps)}
    fig = _figure()
    ax = fig.add_subplot()
    colours = {label: f"C{i % 10}" for i, label in enumerate(results)}
    style = {kind: (ls, marker, name) for kind, ls, marker, name in PROBE_KINDS}
    for label, kind, points in series:
        ls, marker, name = style[kind]
        xs = sorted(points)
        ax.plot([x_of[g] for g in xs], [points[g] for g in xs], linestyle=ls, marker=marker, markersize=5,
                 color=colours[label], label=f"{label}: {name}")
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle=":", linewidth=1, label=f"chance ({chance:.2g})")
    ax.set_xticks(range(len(gaps)), [str(g) for g in gaps])
    ax.set_xlim(-0.3, len(gaps) - 0.7)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("gap between cue and query (words of filler)")
    ax.set_ylabel(METRICS[metric])
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    _save(fig, out)


def plot_training_curve(metrics: dict, out: Path, title: str = "Training curve") -> None:
    """metrics: a version's metrics.json. Train perplexity exp(train_loss) and validation perplexity
    against tokens seen (log y); answer-word accuracy (valid_key_word_accuracy), where present, on a
    second axis (0..1). Validation points are tagged with their phase.
    """
    train = [(float(r["tokens"]), math.exp(min(float(r["train_loss"]), 700.0)))
             for r in (metrics or {}).get("train_curve") or [] if "train_loss" in r]
    valid_rows = [r for r in (metrics or {}).get("valid_curve") or [] if "valid_perplexity" in r]
    if not train and not valid_rows:
        raise ValueError("metrics has no train_curve or valid_curve points")

    fig = _figure()
    ax = fig.add_subplot()
    handles = []
    if train:
        handles += ax.plot(*zip(*train), color="C0", linewidth=1, alpha=0.8, label="train perplexity")
    if valid_rows:
        xs = [float(r["tokens"]) for r in valid_rows]
        ys = [float(r["valid_perplexity"]) for r in valid_rows]
        handles += ax.plot(xs, ys, color="C1", marker="o", markersize=5, label="validation perplexity")
        for x, y, r in zip(xs, ys, valid_rows):
            if r.get("phase"):
                ax.annotate(str(r["phase"]), (x, y), textcoords="offset points", xytext=(4, 6), fontsize=7,
                            color="C1")
    ax.set_yscale("log")
    ax.set_xlabel("tokens seen")
    ax.set_ylabel("perplexity (log scale)")
    ax.xaxis.set_major_formatter(EngFormatter())
    ax.grid(True, which="both", alpha=0.3)
    accuracy = [(float(r["tokens"]), float(r["valid_key_word_accuracy"]))
                for r in valid_rows if r.get("valid_key_word_accuracy") is not None]
    if accuracy:
        ax2 = ax.twinx()
        handles += ax2.plot(*zip(*accuracy), color="C2", marker="^", markersize=5, linestyle="--",
                            label="validation answer-word accuracy")
        ax2.set_ylim(0, 1.02)
        ax2.set_ylabel("answer-word accuracy")
    ax.set_title(title)
    ax.legend(handles=handles, fontsize="small", loc="center right")
    _save(fig, out)


def plot_gradient_norms(
    curves: dict[str, dict[int, float]], out: Path,
    title: str = "Gradient norm ||d loss_T / d h_(T-k)|| by distance k",
) -> None:
    """curves: {label: {k: mean gradient norm}} (keys may be strings, as read back from JSON); one line
    per label on a log y axis. Zero or non-finite values cannot be shown on it and are left out.
    """
    if not curves:
        raise ValueError("no curves to plot")
    fig = _figure()
    ax = fig.add_subplot()
    drawn = 0
    for i, (label, curve) in enumerate(curves.items()):
        try:
            points = sorted((int(k), float(v)) for k, v in (curve or {}).items())
        except (TypeError, ValueError) as e:
            raise ValueError(f"{label}: keys must be distances and values numbers ({e})") from None
        points = [(k, v) for k, v in points if math.isfinite(v) and v > 0]
        if not points:
            continue
        ax.plot(*zip(*points), color=f"C{i % 10}", linewidth=1.5, label=label)
        drawn += 1
    if not drawn:
        raise ValueError("no positive, finite gradient norms to plot")
    ax.set_yscale("log")
    ax.set_xlabel("distance k (steps back from the predicted position T)")
    ax.set_ylabel("mean ||d loss_T / d h_(T-k)|| (log scale)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    _save(fig, out)


def plot_keystroke_savings(rows: Sequence[dict], out: Path,
                           title: str = "Keystrokes saved with 3 suggestions (higher is better)") -> None:
    """rows: model/evaluation/real_text.py's "keystrokes" entries ({"system", "kind", "savings", ...}); one
    group of bars per text (kind), one bar per system in the order first met, each labelled with its value."""
    table: dict[str, dict[str, float]] = {}  # system → kind → savings
    kinds: list[str] = []
    for row in rows:
        try:
            system, kind, savings = str(row["system"]), str(row["kind"]), float(row["savings"])
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"a keystroke row needs system, kind and savings ({e}): {row!r}") from None
        if kind in table.get(system, {}):
            raise ValueError(f"{system} on {kind} is given twice")
        table.setdefault(system, {})[kind] = savings
        kinds += [kind] if kind not in kinds else []
    if not table:
        raise ValueError("no keystroke rows to plot")
    fig = _figure()
    ax = fig.add_subplot()
    width = 0.8 / len(table)
    for i, (system, by_kind) in enumerate(table.items()):
        xs = [k + (i - (len(table) - 1) / 2) * width for k, kind in enumerate(kinds) if kind in by_kind]
        ys = [by_kind[kind] for kind in kinds if kind in by_kind]
        bars = ax.bar(xs, ys, width=width * 0.95, color=f"C{i % 10}", label=system)
        ax.bar_label(bars, labels=[f"{y:.3f}" for y in ys], fontsize=5.5, padding=1)
    ax.set_xticks(range(len(kinds)), kinds)
    ax.set_ylim(0, min(1.0, max(v for by_kind in table.values() for v in by_kind.values()) * 1.3))  # room for the legend
    ax.set_ylabel("keystrokes saved (1 - typed / letters and spaces)")
    ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", ncol=min(len(table), 4))
    _save(fig, out)


def plot_savings_by_distance(rows: Sequence[dict], out: Path, kind: str | None = None,
                             title: str = "Keystrokes saved by how far back the word was last written") -> None:
    """rows: real_text's "keystrokes" entries with "by_distance" groups; one line per system (for the text
    `kind`, or the first text met), x the distance groups in order ("new to the document" first), y the
    savings of the words in each group; each point labelled with its number of words at the first system."""
    picked = [r for r in rows if r.get("by_distance") and (kind is None or r.get("kind") == kind)]
    if not picked:
        raise ValueError(f"no keystroke rows with savings by distance{f' for {kind!r}' if kind else ''}")
    kind = kind or picked[0]["kind"]
    picked = [r for r in picked if r["kind"] == kind]
    labels = [g["distance"] for g in picked[0]["by_distance"]]
    fig = _figure()
    ax = fig.add_subplot()
    for i, row in enumerate(picked):
        if [g["distance"] for g in row["by_distance"]] != labels:
            raise ValueError(f"{row['system']}: its distance groups differ from {picked[0]['system']}'s")
        points = [(x, g["savings"]) for x, g in enumerate(row["by_distance"]) if g["savings"] is not None]
        ax.plot(*zip(*points), marker="o", markersize=5, color=f"C{i % 10}", label=str(row["system"]))
    names = ["new to the\ndocument" if label == "new" else f"{label}\nwords back" for label in labels]
    counts = [f"{g['words']:,} words" for g in picked[0]["by_distance"]]
    ax.set_xticks(range(len(labels)), [f"{n}\n({c})" for n, c in zip(names, counts)], fontsize=7)
    values = [g["savings"] for row in picked for g in row["by_distance"] if g["savings"] is not None]
    ax.set_ylim(max(0.0, min(values) - 0.05), min(1.0, max(values) + 0.05))  # the gaps between systems are points
    ax.set_ylabel("keystrokes saved on those words")
    ax.set_title(f"{title}: {kind}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    _save(fig, out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m model.evaluation.plots", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="figure", required=True)
    keys = sub.add_parser("keystrokes", help="keystrokes saved by system and text, from real_text JSON files")
    keys.add_argument("results", type=Path, nargs="+", help="real_text --json files (their keystroke rows are merged)")
    keys.add_argument("--out", type=Path, required=True, help="the PNG to write")
    far = sub.add_parser("distance", help="keystrokes saved by how far back the word was last written, per system")
    far.add_argument("results", type=Path, nargs="+", help="real_text --json files (their keystroke rows are merged)")
    far.add_argument("--kind", help="the text to draw (fiction, wikitext, ...; default: the first)")
    far.add_argument("--out", type=Path, required=True, help="the PNG to write")
    a = p.parse_args(argv)
    rows = [row for path in a.results for row in json.loads(path.read_text()).get("keystrokes", [])]
    if a.figure == "keystrokes":
        plot_keystroke_savings(rows, a.out)
    else:
        plot_savings_by_distance(rows, a.out, a.kind)
    print(f"wrote {a.out} ({len(rows)} rows from {len(a.results)} files)")


if __name__ == "__main__":
    main()
