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
    for r in [*results["cells"].values(), *results["truncation"].values()]:
        assert set(r["plain"]) == {"0", "25"} and r["plain"]["0"]["n"] == 288
        assert 0 <= r["plain"]["25"]["top1"] <= 1 and r["test_perplexity"] > 1
    assert results["truncation"]["lstm bptt 10"]["settings"]["bptt"] == 10
    assert len(results["gradient_norms"]) == 2 and all(len(c) == 16 for c in results["gradient_norms"].values())
    for name in ("accuracy_by_cell.png", "truncation.png", "gradient_norms.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| lstm (plain) |" in (tmp_path / "out" / "summary.md").read_text()
