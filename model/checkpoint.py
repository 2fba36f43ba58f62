"""Versioned model checkpoints: one directory per version, written atomically, loaded without pickle.

    models/
      20261126-213512-lstm/
        model.safetensors     weights (safetensors: plain tensors, nothing executed on load)
        config.json           {"model": ModelConfig, "training": {...}, "version": ...}
        tokenizer.json        the Hugging Face word-level tokenizer
        display_forms.json    how each word is written in predictions
        metrics.json          training and evaluation figures
        training_curve.png    optional extras (figures) the trainer adds, covered by the manifest too
        manifest.json         sha256 of every file above; written last

A version is written into a hidden temporary directory in the same parent and renamed into
place when complete, so a reader sees either nothing or the whole version. A directory
whose manifest is missing or does not match its files is refused.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_model, save_model

from model.rnn_lm import ModelConfig, RNNLanguageModel
from model.tokenizer import WordTokenizer

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FILES = ("model.safetensors", "config.json", "tokenizer.json", "display_forms.json", "metrics.json")


class CheckpointError(Exception):
    """A model version that is missing, incomplete, corrupt or inconsistent."""


@dataclass
class LoadedModel:
    version: str
    path: Path
    model: RNNLanguageModel
    tokenizer: WordTokenizer
    config: dict
    metrics: dict


def new_version_id(cell: str, models_dir: Path) -> str:
    """A sortable id: UTC time, then the cell; a suffix keeps two versions in one second apart."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    version, n = f"{stamp}-{cell}", 1
    while (models_dir / version).exists():
        n += 1
        version = f"{stamp}-{cell}-{n}"
    return version


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, data: dict | list) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _read_json(path: Path, error: type[Exception], whole: str) -> object:
    """A JSON file of a saved directory; `error` says the directory is incomplete (no such file) or the
    file damaged. `whole` names what the directory is ("the version", "the saved state")."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise error(f"{path.parent}: no {path.name}; {whole} is incomplete") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise error(f"{path.parent}: {path.name} is not valid JSON ({e}); {whole} is damaged") from None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_version(
    models_dir: Path, model: RNNLanguageModel, tokenizer: WordTokenizer, training: dict, metrics: dict,
    version: str | None = None, write_extras: Callable[[Path], None] | None = None,
) -> Path:
    """Write a complete version atomically and return its directory.

    `write_extras(directory)` may add files (figures) before the manifest is written; they are
    checksummed like the rest.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    version = version or new_version_id(model.config.cell, models_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=models_dir))
    try:
        save_model(model, str(tmp / "model.safetensors"))
        _write_json(tmp / "config.json", {
            "format_version": FORMAT_VERSION, "version": version,
            "model": model.config.to_dict(), "training": training,
        })
        tokenizer.save(tmp)
        _write_json(tmp / "metrics.json", metrics)
        if write_extras is not None:
            write_extras(tmp)
        names = sorted(p.name for p in tmp.iterdir() if p.is_file())
        _write_json(tmp / MANIFEST, {name: _sha256(tmp / name) for name in names})
        for name in (*names, MANIFEST):
            os.chmod(tmp / name, 0o644)  # safetensors writes 0600; a service under another user must read it
            with (tmp / name).open("rb") as f:
                os.fsync(f.fileno())
        os.chmod(tmp, 0o755)
        os.rename(tmp, models_dir / version)
        _fsync_dir(models_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return models_dir / version


def listed_file(version_dir: Path, name: str) -> Path | None:
    """A version's optional file (cache.json, ngram.safetensors), only where its manifest lists it, so
    load_version checked it against its checksum; None where the version has none."""
    path, manifest = Path(version_dir) / name, Path(version_dir) / MANIFEST
    if not path.is_file() or not manifest.is_file() or name not in json.loads(manifest.read_text()):
        return None
    return path


def list_versions(models_dir: Path) -> list[str]:
    """Complete versions (those with a manifest), oldest first."""
    if not models_dir.is_dir():
        return []
    return sorted(
        p.name for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).is_file()
    )


def load_version(path: Path) -> LoadedModel:
    """Load and verify one version directory; raise CheckpointError with the reason if it is unusable."""
    path = Path(path)
    manifest = _read_json(path / MANIFEST, CheckpointError, "the version")
    if not isinstance(manifest, dict):
        raise CheckpointError(f"{path}: {MANIFEST} is not a JSON object")
    for name in FILES:
        if name not in manifest:
            raise CheckpointError(f"{path}: {MANIFEST} does not list {name}")
    for name in manifest:
        if Path(name).name != name:
            raise CheckpointError(f"{path}: {MANIFEST} lists {name!r}, which is not a file of this version")
        if not (path / name).is_file():
            raise CheckpointError(f"{path}: {name} is missing")
        if _sha256(path / name) != manifest[name]:
            raise CheckpointError(f"{path}: {name} does not match its checksum (corrupt or truncated)")
    try:
        config = json.loads((path / "config.json").read_text())
        metrics = json.loads((path / "metrics.json").read_text())
        if config.get("format_version") != FORMAT_VERSION:
            raise CheckpointError(f"{path}: checkpoint format {config.get('format_version')} is not {FORMAT_VERSION}")
        if config.get("version") != path.name:
            # A renamed or copied directory: responses would name a version that is not on disk.
            raise CheckpointError(f"{path}: config.json names version {config.get('version')!r}, not {path.name!r}")
        model_config = ModelConfig.from_dict(config["model"])
        tokenizer = WordTokenizer.load(path)
        if tokenizer.vocab_size != model_config.vocab_size:
            raise CheckpointError(
                f"{path}: tokenizer has {tokenizer.vocab_size} words, model expects {model_config.vocab_size}"
            )
        model = RNNLanguageModel(model_config)
        missing, unexpected = load_model(model, str(path / "model.safetensors"), strict=False)
        if unexpected or [m for m in missing if not (model_config.tie_weights and m == "output.weight")]:
            raise CheckpointError(f"{path}: weights do not fit the config (missing {missing}, unexpected {unexpected})")
    except CheckpointError:
        raise
    except Exception as e:  # any parse or shape error of a file that passed its checksum
        raise CheckpointError(f"{path}: cannot load ({type(e).__name__}: {e})") from None
    model.eval()
    return LoadedModel(config["version"], path, model, tokenizer, config, metrics)


def share_weights(loaded: LoadedModel) -> int:
    """Point the model's parameters at safetensors' memory map of model.safetensors instead of a
    private copy; return how many were moved.

    Every process serving the version then reads one physical copy, the file's page cache. Under
    load the weights are mostly out of the CPU caches when a request comes (model/fast_step.py),
    and the weights one gunicorn worker has just read can still be cached when the other needs
    them: up to ~8% more incremental requests/s in paired runs (docs/benchmarks.md). The map is private
    (copy-on-write), so a write to a parameter gives that process its own page and never reaches
    the file. Each mapped tensor must equal the one load_version verified against the manifest, or
    the version is refused (CheckpointError): it changed on disk since. A version must not be
    changed in place while served (the trainer never does): a truncated file under a live map
    faults the process that reads it, as with any memory-mapped model.
    """
    params = dict(loaded.model.named_parameters())  # a tied output weight is the embedding's
    moved = 0
    with safe_open(loaded.path / "model.safetensors", framework="pt") as f:
        for name in f.keys():
            param = params.get(name)
            mapped = f.get_tensor(name)  # a view of the map, which lives as long as a tensor uses it
            if param is None or mapped.dtype != param.dtype or mapped.shape != param.shape:
                continue  # load_version already refused a version whose weights do not fit
            if not torch.equal(mapped, param.data):
                raise CheckpointError(f"{loaded.path}: model.safetensors changed after it was verified")
            param.data = mapped
            moved += 1
    return moved


def load_latest(models_dir: Path) -> LoadedModel:
    """The newest complete version that loads; a broken newer one is skipped with its reason kept."""
    errors = []
    for version in reversed(list_versions(Path(models_dir))):
        try:
            return load_version(Path(models_dir) / version)
        except CheckpointError as e:
            log.error("refusing model version: %s", e)
            errors.append(str(e))
    detail = "; ".join(errors) if errors else "no model version found"
    raise CheckpointError(f"no usable model in {models_dir}: {detail}")
