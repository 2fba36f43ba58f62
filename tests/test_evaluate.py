"""The long-range evaluation itself: deterministic probes, disjoint from training text, right arithmetic."""
from corpus.build import synthetic_passages
from corpus.cues import COUNTRY_LANGUAGE, CUE_TEMPLATES, QUERY_TEMPLATES
from model.checkpoint import load_latest
from model.evaluation.probes import GAPS, Probe, accuracy_by_gap, heldout_sentences, make_probes, top_words
from model.predict import Predictor


def test_probes_are_deterministic_for_a_seed_and_cover_every_phrasing():
    a = make_probes(gaps=(0, 50), seed=1)
    assert a == make_probes(gaps=(0, 50), seed=1)
    assert a != make_probes(gaps=(0, 50), seed=2)
    assert len(a) == 2 * len(CUE_TEMPLATES) * len(QUERY_TEMPLATES) * len(COUNTRY_LANGUAGE)
    for probe in a:
        assert probe.language == COUNTRY_LANGUAGE[probe.country]
        assert not probe.text.endswith(probe.language)
        assert probe.text.endswith(("I speak fluent", "My native language is", "I am fluent in"))
    gap50 = [p for p in a if p.gap == 50]
    assert all(len(p.text.split()) >= 50 for p in gap50)


def test_passing_mentions_name_a_country_with_another_language():
    for probe in make_probes(gaps=(25,), mention=True, seed=0)[:100]:
        others = [c for c in COUNTRY_LANGUAGE if c in probe.text and c != probe.country]
        assert others and all(COUNTRY_LANGUAGE[c] != probe.language for c in others)


def test_probe_filler_never_occurs_in_generated_training_text():
    training = "\n".join(synthetic_passages(3000, "0-train", max_gap=400))
    held_out = heldout_sentences()
    assert len(held_out) >= 400
    assert not [s for s in held_out if s in training]


def test_accuracy_by_gap_on_a_hand_made_case():
    probes = [Probe(0, "France", "French", "x"), Probe(0, "Spain", "Spanish", "x"), Probe(10, "Italy", "Italian", "x")]
    predictions = [["French", "German", "Greek"], ["German", "Spanish", "Greek"], ["Greek", "German", "Polish"]]
    table = accuracy_by_gap(probes, predictions)
    assert table == {0: {"top1": 0.5, "top3": 1.0, "n": 2}, 10: {"top1": 0.0, "top3": 0.0, "n": 1}}


def test_batched_top_words_match_the_api_predictor(tiny_models_dir):
    loaded = load_latest(tiny_models_dir)
    texts = ["the clouds are in the", "I grew up in France. I speak fluent", "we eat"]
    batched = top_words(loaded, texts, k=3)
    predictor = Predictor(loaded)
    assert batched == [[p.word for p in predictor.predict(t, 3).predictions] for t in texts]
    assert GAPS[0] == 0 and max(GAPS) >= 400


def test_the_cli_reports_perplexity_table_and_plot(tiny_models_dir, tiny_corpus, tmp_path, monkeypatch, capsys):
    import json
    import sys

    from model.evaluation import probes as ev

    monkeypatch.setattr(sys, "argv", ["evaluate", "--models-dir", str(tiny_models_dir), "--corpus-dir", str(tiny_corpus),
                                      "--gaps", "0", "10", "--out-dir", str(tmp_path)])
    ev.main()
    version = load_latest(tiny_models_dir).version
    result = json.loads((tmp_path / f"{version}.json").read_text())
    metrics = json.loads((tiny_models_dir / version / "metrics.json").read_text())
    # The same test split the trainer scored, so the same perplexity.
    assert abs(result["test_perplexity"] - metrics["test_perplexity"]) < 1e-2
    assert set(result["plain"]) == {"0", "10"} and result["plain"]["0"]["n"] == 288
    assert "| plain top-1 |" in (tmp_path / f"{version}.md").read_text()
    assert (tmp_path / f"{version}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"test perplexity {result['test_perplexity']:.2f}" in capsys.readouterr().out
