import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch

from model import checkpoint
from model.checkpoint import CheckpointError, list_versions, load_latest, load_version, save_version, share_weights
from model.rnn_lm import ModelConfig, RNNLanguageModel
from model.tokenizer import train_tokenizer


def _saved(tmp_path, cell="lstm", tie=False, cutoffs=()):
    tok = train_tokenizer(["the clouds are in the sky", "I speak fluent French"], vocab_size=50, min_frequency=1)
    torch.manual_seed(0)
    size = 16  # the adaptive softmax gives its second tail cluster size / 16 units
    model = RNNLanguageModel(ModelConfig(vocab_size=tok.vocab_size, cell=cell, embedding_size=size,
                                         hidden_size=size, tie_weights=tie, adaptive_cutoffs=cutoffs)).eval()
    path = save_version(tmp_path, model, tok, training={"note": "test"}, metrics={"test_perplexity": 1.0})
    return model, tok, path


@pytest.mark.parametrize("cell,tie,cutoffs", [("lstm", False, (4, 8)), ("gru", False, ()), ("rnn", True, ())])
def test_round_trip_gives_identical_outputs(tmp_path, cell, tie, cutoffs):
    model, tok, path = _saved(tmp_path, cell, tie, cutoffs)
    loaded = load_version(path)
    tokens = torch.tensor([tok.encode("the clouds are in the")])
    with torch.inference_mode():
        assert torch.equal(model(tokens)[0], loaded.model(tokens)[0])  # log-probs at every position
    assert loaded.tokenizer.display_forms == tok.display_forms
    assert loaded.config["model"]["adaptive_cutoffs"] == list(cutoffs)
    assert loaded.config["model"]["cell"] == cell and loaded.metrics["test_perplexity"] == 1.0
    assert loaded.version == path.name and list_versions(tmp_path) == [path.name]


def test_weights_are_safetensors_not_pickle(tmp_path):
    _, _, path = _saved(tmp_path)
    header_len = int.from_bytes((path / "model.safetensors").read_bytes()[:8], "little")
    header = json.loads((path / "model.safetensors").read_bytes()[8 : 8 + header_len])
    assert "rnn.weight_hh_l0" in header


@pytest.mark.parametrize("damage", ["flip_byte", "truncate", "no_manifest", "bad_config", "wrong_vocab"])
def test_a_damaged_version_is_refused_with_a_clear_error(tmp_path, damage):
    _, _, path = _saved(tmp_path)
    weights = path / "model.safetensors"
    if damage == "flip_byte":
        data = bytearray(weights.read_bytes())
        data[len(data) // 2] ^= 0xFF
        weights.write_bytes(bytes(data))
        expected = "does not match its checksum"
    elif damage == "truncate":
        weights.write_bytes(weights.read_bytes()[:100])
        expected = "does not match its checksum"
    elif damage == "no_manifest":
        (path / "manifest.json").unlink()
        expected = "incomplete"
    else:
        config = json.loads((path / "config.json").read_text())
        if damage == "bad_config":
            config["model"]["cell"] = "transformer"
            expected = "cell must be one of"
        else:
            config["model"]["vocab_size"] += 1
            expected = "tokenizer has"
        (path / "config.json").write_text(json.dumps(config))
        manifest = json.loads((path / "manifest.json").read_text())
        manifest["config.json"] = checkpoint._sha256(path / "config.json")  # checksum right, content wrong
        (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match=expected):
        load_version(path)


def test_load_latest_skips_a_broken_newer_version(tmp_path):
    _, _, good = _saved(tmp_path)
    newer = tmp_path / "99999999-999999-lstm"
    shutil.copytree(good, newer)
    (newer / "model.safetensors").write_bytes(b"garbage")
    assert load_latest(tmp_path).version == good.name
    with pytest.raises(CheckpointError, match="no model version found"):
        load_latest(tmp_path / "empty")


def test_a_failed_save_leaves_nothing_visible(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint, "_write_json", boom)
    with pytest.raises(OSError):
        _saved(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_extra_files_are_covered_by_the_manifest(tmp_path):
    tok = train_tokenizer(["the clouds are in the sky"], vocab_size=50, min_frequency=1)
    model = RNNLanguageModel(ModelConfig(vocab_size=tok.vocab_size, cell="gru", embedding_size=8, hidden_size=8))
    path = save_version(tmp_path, model, tok, {}, {}, write_extras=lambda d: (d / "figure.png").write_bytes(b"png"))
    assert "figure.png" in json.loads((path / "manifest.json").read_text())
    load_version(path)
    (path / "figure.png").write_bytes(b"changed")
    with pytest.raises(CheckpointError, match="figure.png does not match"):
        load_version(path)


def _mapped_ranges(path) -> list[tuple[int, int]]:
    """Address ranges of this process's memory maps of `path` (Linux /proc)."""
    ranges = []
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[5] == str(path):
            lo, hi = fields[0].split("-")
            ranges.append((int(lo, 16), int(hi, 16)))
    return ranges


@pytest.mark.parametrize("cell,tie,cutoffs", [("lstm", False, (4, 8)), ("gru", True, ())])
def test_shared_weights_are_read_from_the_file_map_and_answer_as_the_copies(tmp_path, cell, tie, cutoffs):
    _, tok, path = _saved(tmp_path, cell, tie, cutoffs)
    copied, shared = load_version(path), load_version(path)
    assert share_weights(shared) == len(list(shared.model.parameters()))  # every one (a tied weight once)
    ranges = _mapped_ranges((path / "model.safetensors").resolve())
    assert ranges
    for name, param in shared.model.named_parameters():
        address = param.data_ptr()
        assert any(lo <= address < hi for lo, hi in ranges), name
    tokens = torch.tensor([tok.encode("the clouds are in the")])
    with torch.inference_mode():
        torch.testing.assert_close(shared.model(tokens)[0], copied.model(tokens)[0], atol=1e-6, rtol=0)


def test_a_write_to_a_shared_weight_stays_in_the_process(tmp_path):
    _, _, path = _saved(tmp_path)
    weights = path / "model.safetensors"
    before = hashlib.sha256(weights.read_bytes()).hexdigest()
    loaded = load_version(path)
    share_weights(loaded)
    with torch.no_grad():
        for param in loaded.model.parameters():
            param.add_(1.0)  # copy-on-write: this process's pages only
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == before
    load_version(path)  # still matches its manifest


def test_weights_changed_on_disk_after_the_checks_are_refused(tmp_path):
    _, _, path = _saved(tmp_path)
    loaded = load_version(path)
    other = RNNLanguageModel(loaded.model.config)  # same shapes, other values
    checkpoint.save_model(other, str(path / "model.safetensors"))
    with pytest.raises(CheckpointError, match="changed after it was verified"):
        share_weights(loaded)
