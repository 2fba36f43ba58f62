"""Resumable training (model/train_state.py, `--resume`): the saved state round-trips; a run that was
stopped or killed goes on exactly where it was; the service never sees a partial version; a damaged
state is refused with a message."""
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import model.training.trainer as train_module
from model.checkpoint import list_versions, load_version
from model.training.data import load_splits
from model.training.options import main
from model.training.resume import find_train_state, load_train_state, state_dir
from model.training.run import train
from model.training.trainer import Trainer
from tests.conftest import tiny_train_config, write_tiny_corpus

REPO = Path(__file__).resolve().parent.parent


class SimulatedKill(BaseException):
    """Ends the run like SIGKILL would: nothing catches it, nothing is saved on the way out."""


def at_window(monkeypatch, actions: dict) -> None:
    """Call actions[n]() inside the n-th training window (unknown-word dropout runs once per window)."""
    real, calls = train_module.unknown_word_dropout, {"n": 0}

    def counting(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] in actions:
            actions[calls["n"]]()
        return real(*args, **kwargs)

    monkeypatch.setattr(train_module, "unknown_word_dropout", counting)


def send(signum: int):
    return lambda: os.kill(os.getpid(), signum)


def stopped_trainer(tmp_path, monkeypatch, **overrides) -> Trainer:
    """A trainer stopped by Ctrl-C in its 12th window (in epoch 1), with a best and Adam moments."""
    corpus = write_tiny_corpus(tmp_path / "corpus", repeats=5)
    cfg = tiny_train_config(corpus, tmp_path / "models", epochs=2, max_batches=4, checkpoint_minutes=0, **overrides)
    trainer = Trainer(cfg, *load_splits(cfg))
    at_window(monkeypatch, {12: send(signal.SIGINT)})
    assert trainer.run() == "interrupted"
    monkeypatch.undo()
    return trainer


def assert_same_tensors(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


@pytest.mark.parametrize("tie_weights", [False, True])  # tied weights share memory, which safetensors refuses
def test_a_saved_state_loads_back_equal(tmp_path, monkeypatch, tie_weights):
    trainer = stopped_trainer(tmp_path, monkeypatch, tie_weights=tie_weights, embedding_size=24)
    trainer.save_state()
    saved = load_train_state(trainer.cfg.models_dir)

    assert_same_tensors(saved.model, trainer.model.state_dict())
    assert_same_tensors(saved.best_model, trainer.best_state)
    optimizer = trainer.optimizer.state_dict()
    assert saved.optimizer["param_groups"] == optimizer["param_groups"]
    assert saved.optimizer["state"].keys() == optimizer["state"].keys()
    for index, entries in optimizer["state"].items():
        assert_same_tensors(saved.optimizer["state"][index], entries)
    assert optimizer["state"][0]["step"] > 0
    assert saved.python_rng == trainer.rng.getstate()
    assert torch.equal(saved.torch_rng, torch.get_rng_state())
    assert torch.equal(saved.dropout_rng, trainer.generator.get_state())
    assert saved.config == trainer.cfg.as_json()
    assert saved.tokenizer.tokenizer.get_vocab() == trainer.tokenizer.tokenizer.get_vocab()
    assert saved.tokenizer.display_forms == trainer.tokenizer.display_forms
    p = saved.progress
    assert (p["phase_name"], p["phase_step"], p["tokens_seen"]) == ("epoch 1/2", trainer.phase_step, trainer.tokens_seen)
    assert p["best_ppl"] == trainer.best_ppl and p["valid_curve"] == trainer.valid_curve
    # A second save replaces the first and leaves nothing else beside it; the service sees no version.
    trainer.save_state()
    assert [p.name for p in trainer.cfg.models_dir.iterdir()] == [".train-state"]
    assert list_versions(trainer.cfg.models_dir) == []


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The reference: the run below, never stopped."""
    root = tmp_path_factory.mktemp("uninterrupted")
    cfg = tiny_train_config(write_tiny_corpus(root / "corpus"), root / "models", checkpoint_minutes=0)
    return cfg, load_version(train(cfg))


@pytest.mark.parametrize("how, window, phase", [
    ("sigterm", 40, "curriculum"),  # docker stop: a state saved at the end of the batch, and a version
    ("killed", 150, "epoch"),  # SIGKILL: the state saved after every batch is all there is
])
def test_a_stopped_run_resumed_ends_as_if_never_stopped(tmp_path, monkeypatch, uninterrupted, how, window, phase):
    reference_cfg, reference = uninterrupted
    cfg = replace(reference_cfg, models_dir=tmp_path / "models", checkpoint_minutes=1.0)
    if how == "sigterm":
        at_window(monkeypatch, {window: send(signal.SIGTERM)})
        assert load_version(train(cfg)).metrics["stopped_by"] == "interrupted"
    else:
        def save_after_every_batch():  # from here on only: a save costs ~40 ms of fsync
            cfg.checkpoint_minutes = 1e-9

        def kill():
            raise SimulatedKill

        at_window(monkeypatch, {window - 30: save_after_every_batch, window: kill})
        with pytest.raises(SimulatedKill):
            train(cfg)
        assert list_versions(cfg.models_dir) == []
    monkeypatch.undo()
    saved = load_train_state(cfg.models_dir)
    assert saved.progress["phase_name"].startswith(phase) and saved.progress["phase_step"] > 0

    resumed = load_version(train(replace(cfg, resume=True, checkpoint_minutes=0)))

    assert find_train_state(cfg.models_dir) is None
    assert resumed.metrics["resumed_at_tokens"] == [saved.progress["tokens_seen"]]
    assert resumed.metrics["stopped_by"] == reference.metrics["stopped_by"] == "epochs"
    assert resumed.metrics["train_tokens_seen"] == reference.metrics["train_tokens_seen"]
    # The same losses after the same tokens, at every step logged and every validation.
    assert [(c["tokens"], c["train_loss"]) for c in resumed.metrics["train_curve"]] == \
        [(c["tokens"], c["train_loss"]) for c in reference.metrics["train_curve"]]
    assert [(v["phase"], v["valid_perplexity"]) for v in resumed.metrics["valid_curve"]] == \
        [(v["phase"], v["valid_perplexity"]) for v in reference.metrics["valid_curve"]]
    weights, expected = resumed.model.state_dict(), reference.model.state_dict()
    for name in expected:
        torch.testing.assert_close(weights[name], expected[name], rtol=0, atol=1e-6)


def test_a_trainer_killed_with_sigkill_resumes_and_never_shows_a_partial_version(tmp_path):
    corpus, models = write_tiny_corpus(tmp_path / "corpus"), tmp_path / "models"
    command = [sys.executable, "-m", "model.training", "--corpus-dir", str(corpus), "--models-dir", str(models),
               "--embedding-size", "16", "--hidden-size", "24", "--vocab-size", "200", "--min-frequency", "1",
               "--batch-size", "8", "--bptt", "8", "--lr", "2e-2", "--unk-dropout", "0", "--epochs", "8",
               "--curriculum-end", "0.1", "--max-minutes", "0", "--threads", "1", "--checkpoint-minutes", "0.002"]
    seen: set[str] = set()

    def visible_versions_are_complete() -> None:
        for entry in models.iterdir() if models.is_dir() else []:
            if not entry.name.startswith(".") and entry.name not in seen:
                load_version(entry)  # a partial version raises CheckpointError
                seen.add(entry.name)

    def saved_mid_epoch() -> bool:
        try:
            progress = json.loads((state_dir(models) / "state.json").read_text())["progress"]
        except (OSError, ValueError):  # none yet, or between the two renames of a swap
            return False
        return progress["phase_name"].startswith("epoch") and progress["phase_step"] > 0

    def watch(process: subprocess.Popen, timeout: float, until=lambda: False) -> None:
        deadline = time.monotonic() + timeout
        while process.poll() is None and not until():
            visible_versions_are_complete()
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"no progress in {timeout}s; log: {(tmp_path / 'log').read_text()[-2000:]}")
            time.sleep(0.01)
        visible_versions_are_complete()

    with (tmp_path / "log").open("w") as log:
        first = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        watch(first, 60, until=saved_mid_epoch)
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
        assert list_versions(models) == [] and find_train_state(models) is not None

        resume = [*command, "--resume", "--checkpoint-minutes", "1"]  # the run-time flags may change
        second = subprocess.Popen(resume, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        watch(second, 120)
        assert second.wait(timeout=10) == 0, (tmp_path / "log").read_text()[-2000:]

    output = (tmp_path / "log").read_text()
    assert "resuming in epoch" in output
    assert list_versions(models) == sorted(seen) and len(seen) == 1
    version = load_version(models / seen.pop())
    assert version.metrics["stopped_by"] == "epochs" and len(version.metrics["resumed_at_tokens"]) == 1
    assert not [p.name for p in models.iterdir() if p.name.startswith(".train-state")]


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage, message", [
    (lambda d: flip_a_byte(d / "tensors.safetensors"), "tensors.safetensors does not match its checksum"),
    (lambda d: (d / "state.json").write_text((d / "state.json").read_text()[:100]), "state.json is not valid JSON"),
    (lambda d: (d / "tokenizer.json").unlink(), "tokenizer.json is missing"),
])
def test_a_damaged_state_is_refused_with_a_message(tmp_path, monkeypatch, damage, message):
    trainer = stopped_trainer(tmp_path, monkeypatch)
    trainer.save_state()
    damage(state_dir(trainer.cfg.models_dir))
    with pytest.raises(SystemExit) as exit_info:  # main's sys.exit(message): status 1, no traceback
        main(["--models-dir", str(trainer.cfg.models_dir), "--resume", "--threads", "1"])
    assert str(exit_info.value.code).startswith("error: ") and message in str(exit_info.value.code)
    assert list_versions(trainer.cfg.models_dir) == []


def test_a_changed_corpus_is_refused(tmp_path, monkeypatch):
    trainer = stopped_trainer(tmp_path, monkeypatch)
    trainer.save_state()
    with (trainer.cfg.corpus_dir / "train.txt").open("a") as f:
        f.write("\nA new passage.\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["--models-dir", str(trainer.cfg.models_dir), "--resume", "--threads", "1"])
    assert "train.txt changed" in str(exit_info.value.code)


def test_resume_uses_the_saved_config_and_names_what_it_ignores(tmp_path, monkeypatch, capsys):
    trainer = stopped_trainer(tmp_path, monkeypatch)
    trainer.save_state()
    main(["--models-dir", str(trainer.cfg.models_dir), "--resume", "--hidden-size", "32", "--threads", "1"])
    out = capsys.readouterr().out
    assert "ignoring hidden_size=32 (saved: 24)" in out and "resuming in epoch 1/2" in out
    [version] = list_versions(trainer.cfg.models_dir)
    assert load_version(trainer.cfg.models_dir / version).config["model"]["hidden_size"] == 24
    assert find_train_state(trainer.cfg.models_dir) is None


def test_without_resume_a_saved_state_is_pointed_out_and_left_alone(tmp_path, monkeypatch, capsys):
    trainer = stopped_trainer(tmp_path, monkeypatch)
    trainer.save_state()
    before = {p.name: p.read_bytes() for p in state_dir(trainer.cfg.models_dir).iterdir()}
    assert train(replace(trainer.cfg, checkpoint_minutes=1.0)) is not None  # too short to save a state
    assert "add --resume to continue it" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in state_dir(trainer.cfg.models_dir).iterdir()} == before


def test_resume_without_a_saved_state_trains_from_scratch(tmp_path, capsys):
    cfg = tiny_train_config(write_tiny_corpus(tmp_path / "corpus", repeats=5), tmp_path / "models", epochs=1,
                            resume=True)
    assert train(cfg) is not None
    assert "no saved training state" in capsys.readouterr().out
