"""The trainer: curriculum, loss weights, budget, checkpoints it writes."""
import math
import re

import torch

from model.checkpoint import list_versions, load_version
from model.evaluation.scoring import evaluate_split
from model.training.data import load_splits
from model.training.options import parse_args
from model.training.run import train
from model.training.trainer import Trainer
from tests.conftest import tiny_train_config, write_tiny_corpus


def test_curriculum_starts_on_short_passages_and_grows(tmp_path):
    corpus = write_tiny_corpus(tmp_path / "corpus", repeats=5)
    # Add long passages: the curriculum must hold them back at first.
    long_passage = " ".join(["The dog is barking at the postman."] * 30)
    with (corpus / "train.txt").open("a") as f:
        f.write("\n\n" + "\n\n".join([long_passage] * 40) + "\n")
    cfg = tiny_train_config(corpus, tmp_path / "models", curriculum_start_tokens=20, batch_size=4)
    tokenizer, splits = load_splits(cfg)
    trainer = Trainer(cfg, tokenizer, splits)
    lengths = [len(p) for p in splits["train"]]
    fake_progress = iter([0.0] * 50 + [0.2999] * 200 + [1.0])  # the cap reaches the longest passage at 0.3
    trainer.progress = lambda: next(fake_progress)
    drawn = list(trainer.phase_batches())  # phase 0: the curriculum
    early = [max(lengths[i] for i in b) for b in drawn[:48]]
    late = [max(lengths[i] for i in b) for b in drawn[50:]]
    assert max(early) <= 20 and max(late) > 150


def test_key_word_accuracy_is_counted_on_those_words_only(tmp_path):
    corpus = write_tiny_corpus(tmp_path / "corpus")
    cfg = tiny_train_config(corpus, tmp_path / "models")
    tokenizer, splits = load_splits(cfg)
    model = Trainer(cfg, tokenizer, splits).model
    passages = [tokenizer.encode("I speak fluent French .") + [tokenizer.eos_id]]
    key = torch.zeros(tokenizer.vocab_size, dtype=torch.bool)
    key[tokenizer.encode("French")[0]] = True
    french = tokenizer.encode("French")[0]
    bias = model.output.bias.data  # a tiny vocabulary gets the full softmax, a Linear layer
    bias.fill_(-10.0)
    bias[french] = 10.0  # "French" is now the model's answer everywhere
    assert evaluate_split(model, passages, tokenizer.pad_id, key)["key_word_accuracy"] == 1.0
    bias[french] = -20.0
    assert evaluate_split(model, passages, tokenizer.pad_id, key)["key_word_accuracy"] == 0.0


def test_dry_run_and_if_missing(tmp_path, capsys):
    corpus = write_tiny_corpus(tmp_path / "corpus")
    models = tmp_path / "models"
    cfg = parse_args(["--corpus-dir", str(corpus), "--models-dir", str(models), "--dry-run", "--min-frequency", "1"])
    path = train(cfg)
    assert list_versions(models) == [path.name]
    loaded = load_version(path)
    assert loaded.metrics["train_tokens_seen"] > 0 and loaded.metrics["test_perplexity"] > 1
    assert loaded.config["training"]["hidden_size"] == 16
    # The version carries its training curve, and the run ends with a one-screen summary.
    assert (path / "training_curve.png").read_bytes()[:4] == b"\x89PNG"
    summary = capsys.readouterr().out
    assert re.search(rf"version +{path}\n", summary) and re.search(r"perplexity +best validation", summary)
    cfg.if_missing = True
    assert train(cfg) is None and list_versions(models) == [path.name]


def test_ctrl_c_stops_cleanly_and_keeps_the_best_weights(tmp_path, monkeypatch):
    import model.training.trainer as train_module

    corpus = write_tiny_corpus(tmp_path / "corpus")
    calls = {"n": 0}
    real_dropout = train_module.unknown_word_dropout

    def interrupt_on_the_20th_step(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 20:
            raise KeyboardInterrupt
        return real_dropout(*args, **kwargs)

    monkeypatch.setattr(train_module, "unknown_word_dropout", interrupt_on_the_20th_step)
    path = train(tiny_train_config(corpus, tmp_path / "models", epochs=50))
    loaded = load_version(path)
    assert loaded.metrics["stopped_by"] == "interrupted"
    assert loaded.metrics["train_tokens_seen"] > 0 and loaded.metrics["valid_curve"][-1]["phase"] == "interrupted"
    assert list_versions(tmp_path / "models") == [path.name]


def test_validation_every_few_minutes_adds_points_inside_epochs(tmp_path):
    corpus = write_tiny_corpus(tmp_path / "corpus")
    phases_only = load_version(train(tiny_train_config(corpus, tmp_path / "a", epochs=2))).metrics["valid_curve"]
    frequent = load_version(train(tiny_train_config(corpus, tmp_path / "b", epochs=2, validate_minutes=1e-6)))
    curve = frequent.metrics["valid_curve"]
    assert len(phases_only) == 3  # curriculum, epoch 1, epoch 2
    assert len(curve) > 2 * len(phases_only)
    assert [p["tokens"] for p in curve] == sorted(p["tokens"] for p in curve)
    # Training time excludes the validations: the time spent validating before each point (the
    # clock less the training time) never shrinks, and is positive once some validations ran.
    # Both figures are rounded to 0.01 s.
    validating = [p["seconds"] - p["training_seconds"] for p in curve]
    assert all(v >= -0.01 for v in validating)
    assert all(b >= a - 0.02 for a, b in zip(validating, validating[1:]))
    assert validating[-1] > 0


def test_training_stops_at_the_target_perplexity(tmp_path):
    corpus = write_tiny_corpus(tmp_path / "corpus")
    full = load_version(train(tiny_train_config(corpus, tmp_path / "a", epochs=6, validate_minutes=1e-6)))
    curve = [p["valid_perplexity"] for p in full.metrics["valid_curve"]]
    target = curve[len(curve) // 2]  # reached about half way
    early = load_version(train(tiny_train_config(corpus, tmp_path / "b", epochs=6, validate_minutes=1e-6,
                                                 target_perplexity=target)))
    assert early.metrics["stopped_by"] == "target perplexity"
    reached = [p["valid_perplexity"] for p in early.metrics["valid_curve"]]
    # It stops at the first two consecutive validations at or under the target, not before.
    assert reached[-1] <= target and reached[-2] <= target  # rounded to 3 decimals
    assert not any(a <= target and b <= target for a, b in zip(reached[:-2], reached[1:-1]))
    assert early.metrics["train_tokens_seen"] < full.metrics["train_tokens_seen"]


def test_bf16_autocast_trains_through_an_adaptive_softmax():
    """Under bfloat16 autocast the recurrence runs in bf16 and the adaptive softmax in float32 (it
    writes its clusters' results into a float32 tensor); the loss and gradients stay finite."""
    from model.rnn_lm import ModelConfig, RNNLanguageModel
    from model.training.trainer import LossStep

    torch.manual_seed(0)
    model = RNNLanguageModel(ModelConfig(vocab_size=100, cell="gru", embedding_size=8, hidden_size=8,
                                         adaptive_cutoffs=(20, 60)))
    x, y = torch.randint(0, 100, (4, 12)), torch.randint(0, 100, (4, 12))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        nll, targets, _ = LossStep(model)(x, y, None)
    assert nll.dtype == torch.float32 and nll.shape == (48,) and torch.isfinite(nll).all()
    nll.mean().backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_a_training_step_counts_real_targets_and_reports_their_mean_loss(tmp_path):
    """The step's loss is summed on the device over every position (padding scores 0 there) and divided by
    the targets counted on the host: with lr 0 and no dropout it is the scorer's mean loss on that batch."""
    from model.training.batching import pad_batch

    corpus = write_tiny_corpus(tmp_path / "corpus")
    cfg = tiny_train_config(corpus, tmp_path / "models", lr=0.0, dropout=0.0, unk_dropout=0.0, bptt=5)
    tokenizer, splits = load_splits(cfg)
    trainer = Trainer(cfg, tokenizer, splits)
    assert not trainer.model.config.adaptive_cutoffs  # the full-softmax step is the one under test
    passages = sorted(splits["train"], key=len)[:3] + [max(splits["train"], key=len)]  # much padding
    tokens, mean_loss = trainer.train_batch(pad_batch(passages, tokenizer.pad_id), skip_empty=True)
    assert tokens == sum(len(p) - 1 for p in passages)
    scored = evaluate_split(trainer.model, passages, tokenizer.pad_id)["perplexity"]
    assert abs(mean_loss - math.log(scored)) < 1e-4


def test_chunked_passages_cover_the_text_in_order_and_train(tmp_path):
    from model.training.batching import chunk_passages

    passages = [list(range(10)), [20, 21, 22], [30]]
    assert chunk_passages(passages, 4) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9], [20, 21, 22]]
    assert chunk_passages([[1, 2, 3, 4, 5]], 2) == [[1, 2], [3, 4]]  # the lone last token predicts nothing
    corpus = write_tiny_corpus(tmp_path / "corpus")
    cfg = tiny_train_config(corpus, tmp_path / "models", chunk_tokens=6)
    tokenizer, splits = load_splits(cfg)
    trainer = Trainer(cfg, tokenizer, splits)
    assert max(map(len, trainer.splits["train"])) == 6 < max(map(len, splits["train"]))
    assert trainer.splits["valid"] is splits["valid"]  # scored whole, from the zero state, as at inference
