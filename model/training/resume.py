"""The state of an unfinished training run, saved so that `python -m model.training --resume` continues it.

    models/
      .train-state/             hidden: list_versions, and so the service, never look at it
        tensors.safetensors     model weights, best weights so far, optimiser tensors, torch RNG states
        state.json              format, training config, where the run stands (trainer's JSON),
                                Python RNG state, optimiser scalars, sha256 of the files below
        tokenizer.json          the run's vocabulary: a resumed run encodes the same ids
        display_forms.json

Nothing is unpickled: tensors are safetensors, everything else JSON. Tensor names:
`model.<name>`, `best.<name>`, `optim.<param index>.<name>` (Adam: step, exp_avg, exp_avg_sq),
`rng.torch` (torch's global generator: dropout) and `rng.dropout` (the unknown-word dropout's).

Written atomically. The new state goes into a temporary directory beside the old one and is
fsynced; a directory cannot be renamed over a non-empty one, so the swap takes two renames:

    .train-state            →  .train-state.old    (the previous state, still complete)
    .train-state.tmp-XXXX   →  .train-state        (the new one)
    rm -r .train-state.old

A kill at any moment leaves one complete state, `.train-state` or, between the two renames,
only `.train-state.old`; `find_train_state` returns whichever is there.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from safetensors.torch import load_file, save_file

from model.checkpoint import _fsync_dir, _read_json, _sha256
from model.tokenizer import WordTokenizer
from model.training.config import OPTIONS, RUN_FIELDS, TrainConfig
from model.training.data import SPLITS

if TYPE_CHECKING:
    from model.training.trainer import Trainer

FORMAT_VERSION = 1
STATE_DIR = ".train-state"
PREVIOUS_DIR = STATE_DIR + ".old"
TEMP_PREFIX = STATE_DIR + ".tmp-"
STATE_JSON = "state.json"
TENSORS = "tensors.safetensors"
HASHED_FILES = (TENSORS, "tokenizer.json", "display_forms.json")


class TrainStateError(Exception):
    """A saved training state that is incomplete, corrupt, or does not fit this run."""


@dataclass
class TrainState:
    config: dict  # the run's TrainConfig, paths as strings
    tokenizer: WordTokenizer
    model: dict[str, torch.Tensor]  # model.state_dict()
    best_model: dict[str, torch.Tensor] | None  # weights of the best validation so far; None before the first
    optimizer: dict  # optimizer.state_dict(): {"state": {index: {name: tensor}}, "param_groups": [...]}
    python_rng: tuple  # random.Random.getstate(): batch order and curriculum draws
    torch_rng: torch.Tensor  # torch.get_rng_state() (uint8): dropout inside the model
    dropout_rng: torch.Tensor  # the unknown-word dropout generator's get_state() (uint8)
    progress: dict  # the trainer's own JSON: where the run stands, curves, corpus checksums


def state_dir(models_dir: Path) -> Path:
    return Path(models_dir) / STATE_DIR


def find_train_state(models_dir: Path) -> Path | None:
    """The directory of the saved state, if there is one (the previous one if a swap was cut short)."""
    for path in (state_dir(models_dir), Path(models_dir) / PREVIOUS_DIR):
        if path.is_dir():
            return path
    return None


def save_train_state(models_dir: Path, state: TrainState) -> Path:
    """Write `state` atomically, replacing any saved before; return its directory."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    _remove_temporaries(models_dir)  # left by a write that was killed
    current, previous = state_dir(models_dir), models_dir / PREVIOUS_DIR
    tmp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=models_dir))
    try:
        tensors, optimizer_json = _flatten(state)
        save_file(tensors, str(tmp / TENSORS))
        state.tokenizer.save(tmp)
        document = {
            "format_version": FORMAT_VERSION,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "config": state.config,
            "progress": state.progress,
            "python_rng": state.python_rng,  # (version, 625 ints, gauss) → a JSON list
            "optimizer": optimizer_json,
            "sha256": {name: _sha256(tmp / name) for name in HASHED_FILES},
        }
        (tmp / STATE_JSON).write_text(json.dumps(document) + "\n")
        for name in (*HASHED_FILES, STATE_JSON):
            with (tmp / name).open("rb") as f:
                os.fsync(f.fileno())
        _fsync_dir(tmp)
        if current.is_dir():
            shutil.rmtree(previous, ignore_errors=True)  # a leftover; `current` is complete
            os.rename(current, previous)
        os.rename(tmp, current)
        _fsync_dir(models_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(previous, ignore_errors=True)
    return current


def load_train_state(models_dir: Path) -> TrainState | None:
    """The saved state, verified; None if there is none. Raises TrainStateError saying what is wrong."""
    path = find_train_state(models_dir)
    if path is None:
        return None
    document = _read_json(path / STATE_JSON, TrainStateError, "the saved state")
    if not isinstance(document, dict) or document.get("format_version") != FORMAT_VERSION:
        found = document.get("format_version") if isinstance(document, dict) else None
        raise TrainStateError(f"{path}: training state format {found} is not {FORMAT_VERSION}")
    checksums = document.get("sha256")
    if not all(isinstance(document.get(key), dict) for key in ("sha256", "config", "progress", "optimizer")):
        raise TrainStateError(f"{path}: {STATE_JSON} lacks sha256, config, progress or optimizer")
    for name in HASHED_FILES:
        if not (path / name).is_file():
            raise TrainStateError(f"{path}: {name} is missing")
        if _sha256(path / name) != checksums.get(name):
            raise TrainStateError(f"{path}: {name} does not match its checksum (corrupt or truncated)")
    try:
        tensors = load_file(str(path / TENSORS))
        tokenizer = WordTokenizer.load(path)
        version, internal, gauss = document["python_rng"]
        return TrainState(
            config=document["config"],
            tokenizer=tokenizer,
            model=_with_prefix(tensors, "model."),
            best_model=_with_prefix(tensors, "best.") or None,
            optimizer=_unflatten_optimizer(tensors, document["optimizer"]),
            python_rng=(version, tuple(internal), gauss),
            torch_rng=tensors["rng.torch"],
            dropout_rng=tensors["rng.dropout"],
            progress=document["progress"],
        )
    except Exception as e:  # any parse or key error in files that passed their checksums
        raise TrainStateError(f"{path}: cannot load ({type(e).__name__}: {e})") from None


def snapshot(trainer: Trainer) -> TrainState:
    """Everything `trainer` needs to go on from where it stands (between two batches)."""
    t = trainer
    progress = {
        "phase_index": t.phase_index, "phase_name": t.phase_names[t.phase_index],
        "phase_step": t.phase_step, "running_loss": t.running_loss,
        "tokens_seen": t.tokens_seen, "train_seconds": time.monotonic() - t.start,
        "validation_seconds": t.validation_seconds,
        "best_ppl": t.best_ppl if math.isfinite(t.best_ppl) else None,  # JSON has no infinity
        "curve": t.curve, "valid_curve": t.valid_curve, "resumed_at_tokens": t.resumed_at_tokens,
        "corpus_sha256": t.corpus_sha256,
    }
    return TrainState(
        config=t.cfg.as_json(), tokenizer=t.tokenizer, model=on_cpu(t.model.state_dict()),
        best_model=t.best_state, optimizer=on_cpu(t.optimizer.state_dict()), python_rng=t.rng.getstate(),
        torch_rng=torch.get_rng_state(), dropout_rng=t.generator.get_state(), progress=progress,
    )


def restore(trainer: Trainer, state: TrainState) -> None:
    """Make `trainer` take over a saved run: weights, optimiser, random generators, position and clock.

    The trainer must have been built as the saved run's was (same config, tokenizer and corpus): the
    epoch orders it drew from the seed are then the saved run's.
    """
    t, p = trainer, state.progress
    trained_on = p.get("corpus_sha256") or {}
    if trained_on != t.corpus_sha256:
        changed = sorted({name for name, _ in set(trained_on.items()) ^ set(t.corpus_sha256.items())})
        raise TrainStateError(
            f"the corpus in {t.cfg.corpus_dir} is not the one the saved run trained on "
            f"({', '.join(changed)} changed); restore it, or train from scratch without --resume"
        )
    try:
        t.model.load_state_dict(state.model)
        t.optimizer.load_state_dict(state.optimizer)
        t.best_state = state.best_model
        t.best_ppl = math.inf if p["best_ppl"] is None else p["best_ppl"]
        t.rng.setstate(state.python_rng)
        torch.set_rng_state(state.torch_rng)
        t.generator.set_state(state.dropout_rng)
        t.phase_index, t.phase_step, t.running_loss = p["phase_index"], p["phase_step"], p["running_loss"]
        t.tokens_seen, t.train_seconds = p["tokens_seen"], p["train_seconds"]
        t.validation_seconds = p.get("validation_seconds", 0.0)  # states saved before it was recorded
        t.curve, t.valid_curve = p["curve"], p["valid_curve"]
        t.resumed_at_tokens = p["resumed_at_tokens"] + [t.tokens_seen]
        t.cluster.reseed_dropout(t.cfg.seed, t.tokens_seen, t.generator)
        if not 0 <= t.phase_index < len(t.phase_names):
            raise ValueError(f"phase {t.phase_index}, and this run has {len(t.phase_names)}")
    except (KeyError, TypeError, ValueError, RuntimeError) as e:  # a state edited by hand, or from other code
        raise TrainStateError(f"the saved state does not fit this run ({type(e).__name__}: {e})") from None


def resumed_config(asked: TrainConfig, saved: dict, given: set[str] | None, say=print) -> TrainConfig:
    """The saved run's config, with this command line's run options (RUN_FIELDS); prints what else it
    asked for in vain.

    `given`: the fields set on the command line (None: compare every field).
    """
    known = set(OPTIONS)
    try:
        cfg = TrainConfig(**{k: v for k, v in saved.items() if k in known})
    except TypeError as e:
        raise TrainStateError(f"the saved config does not fit this trainer ({e})") from None
    for name in RUN_FIELDS:
        setattr(cfg, name, getattr(asked, name))
    ignored = [f"{name}={getattr(asked, name)} (saved: {getattr(cfg, name)})"
               for name in sorted(known - set(RUN_FIELDS))
               if (given is None or name in given) and getattr(asked, name) != getattr(cfg, name)]
    if ignored:
        say(f"--resume continues with the saved run's config; ignoring {', '.join(ignored)}")
    return cfg


def on_cpu(value):
    """A copy of a state dict (nested dicts and lists of tensors) with every tensor on the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: on_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(on_cpu(v) for v in value)
    return value


def corpus_checksums(corpus_dir: Path) -> dict[str, str]:
    """sha256 of each corpus file a run reads: a state is resumed only on the text it was trained on."""
    names = [f"{split}.txt" for split in SPLITS] + ["loss_weights.json"]
    return {name: _sha256(Path(corpus_dir) / name) for name in names if (Path(corpus_dir) / name).is_file()}


def delete_train_state(models_dir: Path) -> None:
    """Remove the saved state (the run it belongs to is finished), and any half-written one."""
    for path in (state_dir(models_dir), Path(models_dir) / PREVIOUS_DIR):
        shutil.rmtree(path, ignore_errors=True)
    _remove_temporaries(Path(models_dir))


def _remove_temporaries(models_dir: Path) -> None:
    for path in models_dir.glob(TEMP_PREFIX + "*"):
        shutil.rmtree(path, ignore_errors=True)


def _flatten(state: TrainState) -> tuple[dict[str, torch.Tensor], dict]:
    """Every tensor under its file name, and the optimiser's non-tensor parts as JSON."""
    tensors = {f"model.{name}": t for name, t in state.model.items()}
    tensors.update({f"best.{name}": t for name, t in (state.best_model or {}).items()})
    scalars: dict[str, dict] = {}
    for index, entries in state.optimizer["state"].items():
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{index}.{name}"] = value
            else:
                scalars.setdefault(str(index), {})[name] = value
    tensors["rng.torch"] = state.torch_rng
    tensors["rng.dropout"] = state.dropout_rng
    return _unshared(tensors), {"param_groups": state.optimizer["param_groups"], "state_scalars": scalars}


def _unshared(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """safetensors refuses tensors that share memory (tied embedding and output weights): copy repeats."""
    seen: set[int] = set()
    out = {}
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        storage = t.untyped_storage().data_ptr()
        out[name] = t.clone() if storage in seen else t
        seen.add(storage)
    return out


def _with_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {name[len(prefix):]: t for name, t in tensors.items() if name.startswith(prefix)}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], optimizer_json: dict) -> dict:
    state: dict[int, dict] = {}
    for name, t in _with_prefix(tensors, "optim.").items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = t
    for index, entries in optimizer_json["state_scalars"].items():
        state.setdefault(int(index), {}).update(entries)
    # JSON turned tuples (Adam's betas) into lists; give them back their type.
    groups = [{k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in g.items()}
              for g in optimizer_json["param_groups"]]
    return {"state": state, "param_groups": groups}


class StopSignals:
    """While active, the first Ctrl-C (SIGINT) or SIGTERM (docker stop) only sets `requested`: training
    stops at the end of the batch, where the state is whole and can be saved. A second one raises
    KeyboardInterrupt at once."""

    def __init__(self) -> None:
        self.requested = False
        self.previous: dict[int, object] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():  # Python lets only the main thread set handlers
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc_info) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)

    def _handle(self, signum: int, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print(f"\n{signal.Signals(signum).name}: stopping at the end of this batch (Ctrl-C again: at once)",
              file=sys.stderr)
