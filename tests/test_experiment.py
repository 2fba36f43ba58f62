"""A smoke run of the whole experiment: every model, the n-gram, the truncation study, the plots."""
import json

import pytest

from model.evaluation.experiment import ExperimentConfig, run

pytestmark = pytest.mark.slow


def test_smoke_experiment_writes_results_and_plots(tmp_path):
    cfg = ExperimentConfig(
        out_dir=tmp_path / "out", work_dir=tmp_path / "work", max_tokens=15_000, gaps=(0, 25), bptts=(10, 35),
        gradient_distance=15, corpus_passages=200,
        train_overrides=dict(embedding_size=16, hidden_size=16, vocab_size=800, batch_size=16),
    )
    run(cfg)
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert set(results["cells"]) == {"rnn", "gru", "lstm", "5-gram KN"}
    assert set(results["truncation"]) == {"lstm bptt 10", "lstm bptt 35"}
    vocab_size = cfg.train_overrides["vocab_size"]
    for r in [*results["cells"].values(), *results["truncation"].values()]:
        assert set(r["plain"]) == {"0", "25"} and set(r["mention"]) == {"0", "25"}
        for score in [*r["plain"].values(), *r["mention"].values()]:
            assert score["n"] == 288
            assert abs(score["top1"] * 288 - round(score["top1"] * 288)) < 0.02  # a share of 288 probes
            assert score["top1"] <= score["top3"]
        # 15k tokens teach these models little (test perplexity ~100-700), but each must beat a
        # uniform guess over its vocabulary (at most vocab_size words), and no model is perfect.
        assert r["test_perplexity"] < vocab_size and r["test_perplexity"] > 1
    assert results["truncation"]["lstm bptt 10"]["settings"]["bptt"] == 10
    assert results["truncation"]["lstm bptt 35"]["settings"]["bptt"] == 35
    norms = results["gradient_norms"]
    assert sorted(name.split()[0] for name in norms) == ["lstm", "rnn"]
    for curve in norms.values():
        assert list(curve) == [str(d) for d in range(16)]
        assert all(v >= 0 for v in curve.values()) and curve["0"] > 0
        assert curve["15"] < curve["0"]  # the gradient reaching back 15 steps is smaller than at the step itself
    for name in ("accuracy_by_cell.png", "truncation.png", "gradient_norms.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| lstm (plain) |" in (tmp_path / "out" / "summary.md").read_text()
