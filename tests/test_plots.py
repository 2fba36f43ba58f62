"""The doc figures: each writes a small, valid PNG from hand-made inputs and refuses empty ones."""
from __future__ import annotations

import json
import math

import pytest

from model.evaluation.plots import (
    main,
    plot_accuracy_by_gap,
    plot_gradient_norms,
    plot_keystroke_savings,
    plot_savings_by_distance,
    plot_training_curve,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 200_000


def assert_small_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert 1_000 < len(data) < MAX_BYTES


def eval_result(version: str, decay: float) -> dict:
    gaps = (0, 10, 25, 50, 100, 200, 400)
    table = lambda f: {g: {"top1": round(f * math.exp(-g / decay), 4), "top3": min(1.0, 1.3 * f), "n": 48}
                       for g in gaps}
    return {"version": version, "plain": table(0.95), "mention": table(0.7)}


def test_accuracy_by_gap(tmp_path):
    results = {"lstm": eval_result("v-lstm", 300), "rnn": eval_result("v-rnn", 20)}
    out = tmp_path / "gap.png"
    plot_accuracy_by_gap(results, out, chance=1 / 12)
    assert_small_png(out)
    # As read back from an evaluate --json file: gap keys are strings; top-3 and plain-only work too.
    from_json = {"lstm": json.loads(json.dumps(results["lstm"]))}
    del from_json["lstm"]["mention"]
    plot_accuracy_by_gap(from_json, tmp_path / "gap3.png", metric="top3", title="top-3")
    assert_small_png(tmp_path / "gap3.png")


def test_training_curve(tmp_path):
    metrics = {
        "train_curve": [{"tokens": 1600 * i, "seconds": 0.1 * i, "train_loss": 8.0 - 0.4 * math.log(i)}
                        for i in range(1, 200)],
        "valid_curve": [
            {"phase": "curriculum", "tokens": 100_000, "seconds": 6.0, "valid_perplexity": 60.0,
             "valid_key_word_accuracy": 0.4},
            {"phase": "epoch 1/2", "tokens": 250_000, "seconds": 16.0, "valid_perplexity": 30.0,
             "valid_key_word_accuracy": 0.8},
            {"phase": "epoch 2/2", "tokens": 318_000, "seconds": 20.0, "valid_perplexity": 25.0},
        ],
    }
    out = tmp_path / "nested" / "train.png"
    plot_training_curve(metrics, out, title="tiny")
    assert_small_png(out)
    # Without the accuracy field (older metrics) and without a validation curve.
    plot_training_curve({"train_curve": metrics["train_curve"]}, tmp_path / "train_only.png")
    assert_small_png(tmp_path / "train_only.png")


def test_gradient_norms(tmp_path):
    curves = {
        "rnn v1": {k: 0.3 * 0.7**k for k in range(201)},  # underflows to 0 far out: left off the log axis
        "lstm v2": {str(k): 0.2 if k == 0 else 0.01 * 0.995**k for k in range(201)},  # JSON-style keys
        "lstm v2 (cell state)": {k: 0.0 if k == 0 else 0.02 for k in range(201)},
    }
    out = tmp_path / "grad.png"
    plot_gradient_norms(curves, out)
    assert_small_png(out)


def keystroke_rows(system: str, savings: dict[str, float]) -> list[dict]:
    return [{"system": system, "kind": kind, "savings": v, "words": 20000} for kind, v in savings.items()]


def test_keystroke_savings_from_real_text_files_merged(tmp_path, capsys):
    ours = tmp_path / "ours.json"
    ours.write_text(json.dumps({"keystrokes": keystroke_rows("model + cache", {"fiction": 0.55, "dialogue": 0.66})}))
    peer = tmp_path / "peer.json"  # another run, one text fewer: its bar is simply absent
    peer.write_text(json.dumps({"keystrokes": keystroke_rows("Presage", {"fiction": 0.43})}))
    out = tmp_path / "keys.png"
    main(["keystrokes", str(ours), str(peer), "--out", str(out)])
    assert_small_png(out)
    assert "3 rows from 2 files" in capsys.readouterr().out


def test_keystroke_savings_refuses_rows_it_cannot_place(tmp_path):
    twice = keystroke_rows("model", {"fiction": 0.5}) * 2
    with pytest.raises(ValueError, match="given twice"):
        plot_keystroke_savings(twice, tmp_path / "k.png")
    with pytest.raises(ValueError, match="needs system, kind and savings"):
        plot_keystroke_savings([{"system": "model", "kind": "fiction"}], tmp_path / "k.png")
    assert not list(tmp_path.iterdir())


def with_distances(system: str, kind: str, savings: list[float | None]) -> dict:
    labels = ["new", "1-10", "11-100", "101-1000", ">1000"]
    return {"system": system, "kind": kind, "savings": 0.5,
            "by_distance": [{"distance": d, "words": 10, "savings": v} for d, v in zip(labels, savings)]}


def test_savings_by_distance(tmp_path, capsys):
    rows = [with_distances("model + cache", "fiction", [0.4, 0.8, 0.7, 0.6, None]),  # an empty group: no point
            with_distances("Presage", "fiction", [0.3, 0.7, 0.5, 0.4, 0.4]),
            with_distances("model + cache", "dialogue", [0.5, 0.9, 0.8, 0.7, 0.6])]
    result = tmp_path / "run.json"
    result.write_text(json.dumps({"keystrokes": rows}))
    main(["distance", str(result), "--kind", "dialogue", "--out", str(tmp_path / "far.png")])
    assert_small_png(tmp_path / "far.png")
    plot_savings_by_distance(rows, tmp_path / "first.png")  # no kind: the first text met
    assert_small_png(tmp_path / "first.png")
    with pytest.raises(ValueError, match="for 'wikitext'"):
        plot_savings_by_distance(rows, tmp_path / "none.png", kind="wikitext")
    other = with_distances("5-gram", "fiction", [0.1, 0.2])
    with pytest.raises(ValueError, match="distance groups differ"):
        plot_savings_by_distance([rows[0], other], tmp_path / "mixed.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["far.png", "first.png", "run.json"]


def test_empty_input_is_refused(tmp_path):
    with pytest.raises(ValueError):
        plot_accuracy_by_gap({}, tmp_path / "a.png")
    with pytest.raises(ValueError):
        plot_accuracy_by_gap({"x": {"version": "v"}}, tmp_path / "a.png")
    with pytest.raises(ValueError):
        plot_accuracy_by_gap({"x": eval_result("v", 10)}, tmp_path / "a.png", metric="top5")
    with pytest.raises(ValueError):
        plot_training_curve({}, tmp_path / "b.png")
    with pytest.raises(ValueError):
        plot_training_curve({"train_curve": [], "valid_curve": []}, tmp_path / "b.png")
    with pytest.raises(ValueError):
        plot_gradient_norms({}, tmp_path / "c.png")
    with pytest.raises(ValueError):
        plot_gradient_norms({"all zero": {0: 0.0, 1: 0.0}}, tmp_path / "c.png")
    with pytest.raises(ValueError):
        plot_keystroke_savings([], tmp_path / "d.png")
    assert not list(tmp_path.iterdir())  # nothing half-written
