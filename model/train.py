"""Train a word-level RNN language model with truncated BPTT and write a new model version.

    python -m model.train --corpus-dir data/corpus --models-dir models
    python -m model.train --help            # every flag, with its default
    python -m model.train --dry-run ...     # seconds-long smoke run (tiny model, a few batches)
    python -m model.train --resume ...      # continue the run that was stopped or killed

Steps: learn the vocabulary from train.txt → encode the splits → train on passages batched
by length, cut into bptt windows with the state carried and detached (model/batching.py) →
validate after each phase and keep the best weights → test perplexity → save the version
atomically (model/checkpoint.py). Training starts with a length curriculum (short passages
first), then runs shuffled epochs. A token budget (`--max-tokens`) bounds the work, so a busy
machine trains the same model, only slower; `--max-minutes` is a safety stop. The learning
rate decays linearly over whichever budget runs out first.

Every `--checkpoint-minutes` the whole training state (weights, optimiser, random generators,
position in the batch order, clock) is saved at a batch boundary into `models/.train-state/`
(model/train_state.py), which the service never reads; `--resume` continues from there exactly.
Ctrl-C or SIGTERM (docker stop) stops at the end of the current batch, saves that state, then
evaluates and saves the best weights so far as a version; a second Ctrl-C stops at once. The
state is deleted once a run that was not interrupted has saved its version.
"""
from __future__ import annotations

import argparse
import bisect
import json
import logging
import math
import random
import sys
import time
from dataclasses import asdict, dataclass, fields
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from model.batching import IGNORE_INDEX, length_buckets, pad_batch, unknown_word_dropout, windows
from model.checkpoint import list_versions, load_version, save_version
from model.plots import plot_training_curve
from model.data import check_corpus_dir, encode_passages, read_passages
from model.distributed import Cluster, device_for_rank
from model.rnn_lm import CELLS, ModelConfig, RNNLanguageModel, detach_state
from model.tokenizer import SPECIAL_TOKENS, WordTokenizer, train_tokenizer
from model.scoring import evaluate_perplexity, evaluate_split
from model.train_state import (
    StopSignals, TrainState, TrainStateError, corpus_checksums, delete_train_state, find_train_state,
    load_train_state, save_train_state,
)

log = logging.getLogger("model.train")


@dataclass
class TrainConfig:
    corpus_dir: Path = Path("data/corpus")
    models_dir: Path = Path("models")
    cell: str = "gru"  # found the cue binding reliably where the LSTM was marginal (docs/results.md)
    embedding_size: int = 128
    hidden_size: int = 256
    num_layers: int = 1
    dropout: float = 0.1
    embedding_dropout: float = 0.0  # word types dropped from a window's input (AWD-LSTM); 0 = off
    weight_drop: float = 0.0  # DropConnect on the recurrent matrices (AWD-LSTM); 0 = off
    tie_weights: bool = False
    adaptive_softmax: bool = True  # ~2x faster training at 10k words on CPU; see model/rnn_lm.py
    vocab_size: int = 10000  # the output layer dominates the cost; 10k covers everyday text
    min_frequency: int = 2  # words seen once are left to <unk>, which then gets trained
    as_is_tokens: bool = False  # case kept, whitespace split only (pre-tokenized corpora: WikiText)
    batch_size: int = 32
    # Cut training passages into pieces of at most this many tokens, each trained from the zero state.
    # For corpora of long documents (a WikiText article is ~3,300 tokens): a batch then mixes many
    # documents instead of walking the same few for dozens of consecutive updates. 0 = whole passages.
    chunk_tokens: int = 0
    bptt: int = 35  # window length; the cue still crosses 400-word gaps, and more steps per token: docs/results.md
    lr: float = 4e-3  # Adam; 3e-3 learned the cue binding markedly slower (docs/results.md)
    optimizer: str = "adam"  # or "sgd" (plain, as the textbook loop: lr ~20)
    clip: float = 1.0  # gradient-norm clipping, against the exploding side of BPTT
    epochs: int = 3
    max_tokens: int = 5_000_000  # training budget in tokens: the same work, and model, on a busy machine
    max_minutes: float = 15.0  # a safety stop on a slow machine (~5 min for 5M tokens on 2 idle cores)
    unk_dropout: float = 0.1  # share of input words replaced by <unk>: robustness to unseen words
    curriculum: bool = True  # start on short passages, then let the length grow (see Trainer.curriculum_batches)
    curriculum_start_tokens: int = 64  # longest passage drawn at first
    curriculum_end: float = 0.3  # share of the run after which every passage may be drawn
    seed: int = 0
    threads: int = 0  # torch intra-op threads; 0 keeps torch's default (one per core)
    max_batches: int = 0  # stop each epoch after this many batches; 0 = no limit (smoke runs)
    if_missing: bool = False
    checkpoint_minutes: float = 1.0  # how often the resumable state is saved; ~0.1 s for the default model
    resume: bool = False
    validate_minutes: float = 0.0  # also validate every this many minutes mid-phase; 0 = after each phase only
    target_perplexity: float = 0.0  # stop once a validation reaches this; 0 = train the whole budget
    device: str = "cpu"  # "cuda": one GPU per process (cuDNN's recurrent kernels)
    bf16: bool = False  # bfloat16 autocast for the forward pass (GPUs; CPUs with AVX512-BF16/AMX)
    compile: bool = False  # torch.compile the training step (docs/benchmarks.md: measured, did not pay on CPU)
    evaluate: bool = False  # after saving: long-range accuracy by gap on the held-out probes (~30 s)

    def model_config(self, vocab_size: int) -> ModelConfig:
        # Head: the 2,000 most frequent words; then a cluster of the next 4,000; then the rest.
        cutoffs = tuple(c for c in (2000, 6000) if c < vocab_size - 1) if self.adaptive_softmax else ()
        return ModelConfig(
            vocab_size=vocab_size, cell=self.cell, embedding_size=self.embedding_size,
            hidden_size=self.hidden_size, num_layers=self.num_layers, dropout=self.dropout,
            embedding_dropout=self.embedding_dropout, weight_drop=self.weight_drop,
            tie_weights=self.tie_weights, adaptive_cutoffs=cutoffs,
        )


class LossStep(nn.Module):
    """One window's forward pass down to the per-target losses: the module DDP wraps, since DDP
    averages the gradients of what its forward computed."""

    def __init__(self, model: RNNLanguageModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, y: torch.Tensor, state):
        """x, y (B, T) → nll and target ids, the final state. Adaptive softmax: (N,) each, over the N real
        targets. Full softmax: (B*T,) each, every position, nll 0 where the target is IGNORE_INDEX (no
        data-dependent shape: on a GPU the step never waits for the device)."""
        out, state = self.model.encode(x, state)  # (B, T, H)
        if not self.model.config.adaptive_cutoffs:
            return self.model.position_nll(out, y, IGNORE_INDEX), y.flatten(), state
        if torch.is_autocast_enabled(out.device.type):
            # The adaptive softmax writes its clusters' results into a float32 tensor, which bfloat16
            # autocast breaks: it runs in float32 (autocast speeds up the recurrence only).
            with torch.autocast(out.device.type, enabled=False):
                nll, targets = self.model.target_nll(out.float(), y, IGNORE_INDEX)
        else:
            nll, targets = self.model.target_nll(out, y, IGNORE_INDEX)
        return nll, targets, state


class Trainer:
    """One training run: owns the model, optimiser, clock, best weights, and where the run stands."""

    def __init__(self, cfg: TrainConfig, tokenizer: WordTokenizer, splits: dict[str, list[list[int]]],
                 cluster: Cluster | None = None):
        self.cfg = cfg
        self.tokenizer = tokenizer
        if cfg.chunk_tokens:
            splits = dict(splits, train=chunk_passages(splits["train"], cfg.chunk_tokens))
        self.splits = splits
        self.cluster = cluster or Cluster(device_for_rank(cfg.device))
        self.device = self.cluster.device
        self.rng = random.Random(cfg.seed)  # the batch order: the same on every rank
        torch.manual_seed(cfg.seed)
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.model = RNNLanguageModel(cfg.model_config(tokenizer.vocab_size)).to(self.device)
        self.step_module = self.cluster.wrap(LossStep(self.model), bool(self.model.config.adaptive_cutoffs))
        if cfg.compile:
            self.step_module = torch.compile(self.step_module, dynamic=True)  # windows vary in batch and length
        optimizers = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}
        # Fused Adam on a GPU: one kernel for all parameters instead of a few per tensor.
        fused = {"fused": True} if self.device.type == "cuda" and cfg.optimizer == "adam" else {}
        self.optimizer = optimizers[cfg.optimizer](self.model.parameters(), lr=cfg.lr, **fused)
        self.protected = torch.tensor([tokenizer.display_forms[i] in SPECIAL_TOKENS for i in range(tokenizer.vocab_size)])
        self.word_weights = load_word_weights(cfg.corpus_dir, tokenizer)
        if self.word_weights is not None:
            self.word_weights = self.word_weights.to(self.device)
        self.train_tokens = sum(len(p) for p in splits["train"])
        self.budget_s = cfg.max_minutes * 60
        self.tokens_seen = 0
        self.curve: list[dict] = []
        self.valid_curve: list[dict] = []
        self.best_ppl = math.inf
        self.best_state: dict | None = None
        self.start = 0.0
        self.elapsed = 0.0  # the run's clock as of the last step (rank 0's, under torchrun)
        self.train_seconds = 0.0  # time spent in training steps and the validations between epochs
        # Time spent validating, so curves can also be read in training time alone (the textbook
        # baseline in bench/ does not count its validations either).
        self.validation_seconds = 0.0
        self.lengths = [len(p) for p in splits["train"]]
        # Every epoch's order is drawn here, before any curriculum draw, as the run always did;
        # a resumed run draws them again from the seed, then takes the saved generator state.
        self.epoch_batches = [length_buckets(self.lengths, cfg.batch_size, self.rng)[: cfg.max_batches or None]
                              for _ in range(cfg.epochs)]
        epochs = [f"epoch {e + 1}/{cfg.epochs}" for e in range(cfg.epochs)]
        self.phase_names = (["curriculum"] if cfg.curriculum else []) + epochs
        # Where the run stands, saved with the state: phase, batches done in it, the loss shown.
        self.phase_index = 0
        self.phase_step = 0
        self.running_loss: float | None = None
        self.resumed_at_tokens: list[int] = []
        self.corpus_sha256 = corpus_checksums(cfg.corpus_dir)
        self.stop = StopSignals()
        self.last_checkpoint = 0.0
        self.last_validation = 0.0
        self.states_saved = 0
        self.reseed_dropout()

    def reseed_dropout(self) -> None:
        """Under torchrun each rank draws its own dropout masks (from the seed, its rank and the tokens
        done, so a resumed run draws fresh ones); a single process keeps the seed's."""
        if self.cluster.distributed:
            seed = self.cfg.seed + 1_000_003 * (self.cluster.rank + 1) + self.tokens_seen
            torch.manual_seed(seed)
            self.generator.manual_seed(seed)

    def planned_tokens(self) -> int:
        epochs = self.cfg.epochs * self.train_tokens
        return min(epochs, self.cfg.max_tokens) if self.cfg.max_tokens else epochs

    def progress(self) -> float:
        """Fraction of the run done, which drives the curriculum and the learning rate.

        Counted in tokens: a busy machine (or one whose torch threads contend with another
        process's) then trains the same schedule, only slower; the time budget merely stops it.
        Without a token budget, whichever of tokens or time is further along.
        """
        by_tokens = self.tokens_seen / max(self.planned_tokens(), 1)
        if self.cfg.max_tokens or self.budget_s <= 0:
            return min(by_tokens, 1.0)
        return min(max(by_tokens, self.elapsed / self.budget_s), 1.0)

    def eta(self, tokens_per_second: float) -> str:
        """Time left: the budget's, or the planned epochs' at the current rate if that ends sooner."""
        left = self.planned_tokens() - self.tokens_seen
        seconds = left / max(tokens_per_second, 1e-9)
        if self.budget_s > 0:
            seconds = min(seconds, self.budget_s - self.elapsed)
        minutes, secs = divmod(int(max(seconds, 0)), 60)
        return f"{minutes}:{secs:02d}"

    def out_of_budget(self) -> bool:
        if self.cfg.target_perplexity > 0 and self.best_ppl <= self.cfg.target_perplexity:
            return True
        if self.cfg.max_tokens and self.tokens_seen >= self.cfg.max_tokens:
            return True
        return self.budget_s > 0 and self.elapsed >= self.budget_s

    def run(self) -> str:
        """Curriculum phase, then epochs, until the budget runs out; return why it stopped.

        A restored trainer (restore_state) goes on from the batch its state was saved after.
        """
        self.start = time.monotonic() - self.train_seconds  # a resumed run's clock counts the time already spent
        self.elapsed = self.train_seconds
        self.last_checkpoint = time.monotonic()
        self.last_validation = time.monotonic()
        with self.stop:
            try:
                stopped_by = self.train_phases()
            except KeyboardInterrupt:
                # Raised inside a step, whose update may be half done: this state is not saved
                # (the last one saved stays), but its best weights still become a version.
                stopped_by = "interrupted"
            if stopped_by == "interrupted":
                self.train_seconds = time.monotonic() - self.start
                print("\ninterrupted: evaluating and saving the best weights so far", file=sys.stderr)
                self.validate("interrupted")
        return stopped_by

    def train_phases(self) -> str:
        while self.phase_index < len(self.phase_names):
            name = self.phase_names[self.phase_index]
            ended = self.train_phase(name, self.phase_batches())
            if ended == "stop":
                if self.cfg.checkpoint_minutes > 0:
                    self.save_state()  # before the extra validation, which an uninterrupted run would not do
                return "interrupted"
            self.train_seconds = time.monotonic() - self.start
            self.validate(name)
            if ended == "budget" or self.out_of_budget():  # also: this validation reached the target
                target = self.cfg.target_perplexity
                return "target perplexity" if 0 < target and self.best_ppl <= target else "budget"
            self.phase_index, self.phase_step, self.running_loss = self.phase_index + 1, 0, None
        return "epochs"

    def phase_batches(self) -> Iterator[list[int]]:
        """The batches of the current phase from `phase_step` on."""
        epoch = self.phase_index - (1 if self.cfg.curriculum else 0)
        if epoch < 0:
            return self.curriculum_batches(self.lengths, already_drawn=self.phase_step)
        return iter(self.epoch_batches[epoch][self.phase_step:])

    def curriculum_batches(self, lengths: list[int], already_drawn: int = 0) -> Iterator[list[int]]:
        """Batches drawn at random from those whose passages fit a length cap that grows with progress.

        A sequence-length warm-up: for the first third of the curriculum only passages of up to
        `curriculum_start_tokens` are drawn (on the generated corpus: cues with short gaps, many
        answers per token, where the country → language binding is found in seconds); then the
        cap grows geometrically to the longest passage, reached at nine tenths of the
        curriculum, so the gaps the model must bridge grow with it. Without this the binding was not learned at all in 5.5 minutes (docs/results.md).
        """
        buckets = length_buckets(lengths, self.cfg.batch_size, rng=None, ascending=True)
        longest = [max(lengths[i] for i in b) for b in buckets]
        start, top = self.cfg.curriculum_start_tokens, max(longest)
        drawn = already_drawn
        while (progress := self.progress()) < self.cfg.curriculum_end:
            if self.cfg.max_batches and drawn >= self.cfg.max_batches:
                return
            # 0 for the first third of the curriculum, 1 from nine tenths on.
            share = min(max((progress / self.cfg.curriculum_end - 1 / 3) / (0.9 - 1 / 3), 0.0), 1.0)
            cap = top if share >= 1 or top <= start else start * (top / start) ** share
            eligible = max(bisect.bisect_right(longest, cap), 1)
            drawn += 1
            yield buckets[self.rng.randrange(eligible)]

    def train_phase(self, name: str, batches: Iterator[list[int]]) -> str:
        """Train on the given batches. Returns "done" when they run out, "budget" if the budget ended
        the phase early, "stop" if a stop was asked for (Ctrl-C, SIGTERM): always after a whole step.

        A step is one batch per rank (one batch without torchrun); the ranks' gradients are averaged.
        """
        cfg, cluster = self.cfg, self.cluster
        passages = self.splits["train"]
        pad = self.tokenizer.pad_id
        if self.stop.requested:  # asked during the validation before this phase
            return "stop"
        bar = tqdm(desc=name, unit="tok", unit_scale=True, dynamic_ncols=True, mininterval=1.0,
                   disable=not cluster.is_main)
        running, phase_start, phase_tokens = self.running_loss, time.monotonic(), 0
        self.model.train()
        for group in cluster.groups(batches):
            step = self.phase_step // len(group)  # this step's place in the phase, resumed runs included
            # Every rank pads to the longest passage of the whole step, so all run the same windows.
            width = max(len(passages[i]) for batch in group for i in batch)
            batch = pad_batch([passages[i] for i in group[cluster.rank]], pad, width=width)
            tokens, shown = self.train_batch(batch, skip_empty=not cluster.distributed)
            running = shown if running is None else 0.98 * running + 0.02 * shown
            # What the ranks must agree on after each step; rank 0 keeps the time.
            now = time.monotonic()
            checkpoint_due = cfg.checkpoint_minutes > 0 and now - self.last_checkpoint >= cfg.checkpoint_minutes * 60
            validate_due = cfg.validate_minutes > 0 and now - self.last_validation >= cfg.validate_minutes * 60
            tokens, stop, (self.elapsed, checkpoint_due, validate_due) = cluster.agree(
                tokens, self.stop.requested, (now - self.start, checkpoint_due, validate_due))
            self.tokens_seen += tokens
            phase_tokens += tokens
            self.phase_step, self.running_loss = self.phase_step + len(group), running
            bar.update(tokens)
            if step % 20 == 0:
                rate = phase_tokens / max(time.monotonic() - phase_start, 1e-9)
                bar.set_postfix(loss=f"{running:.3f}", ppl=f"{math.exp(min(running, 50)):.1f}", tok_s=f"{rate:,.0f}",
                                eta=self.eta(rate))
                self.curve.append({"tokens": self.tokens_seen, "seconds": round(self.elapsed, 2),
                                   "train_loss": round(running, 4)})
            if self.out_of_budget():
                bar.close()
                return "budget"
            if stop:
                self.stop.requested = True
                bar.close()
                return "stop"
            if checkpoint_due:
                self.save_state()
            if validate_due:
                # Points on the validation curve between epochs: time-to-quality is read off it.
                self.validate(name)
                if self.out_of_budget():  # --target-perplexity reached
                    bar.close()
                    return "budget"
        bar.close()
        return "done"

    def train_batch(self, batch: torch.Tensor, skip_empty: bool) -> tuple[int, float]:
        """Truncated BPTT over one padded batch (B, L); returns the targets trained on and their mean loss.

        skip_empty=False (under torchrun) also runs windows of padding only, which count for nothing,
        so that every rank takes part in each of the step's gradient averages.
        """
        cfg = self.cfg
        lr = cfg.lr * (1.0 - 0.9 * self.progress())  # fixed for the step: every rank computes the same
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        state = self.model.initial_state(batch.size(0), self.device)
        tokens, loss_sum = 0, torch.zeros((), device=self.device)
        for x, y in windows(batch, cfg.bptt, self.tokenizer.pad_id, skip_empty=skip_empty):
            counted = int((y != IGNORE_INDEX).sum())  # on the host: the device is not asked
            x = unknown_word_dropout(x, cfg.unk_dropout, self.tokenizer.unk_id, self.protected, self.generator)
            x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
                nll, targets, state = self.step_module(x, y, state)  # (N,) or (B*T,); see LossStep
            nll = nll.float()
            # The objective weighs answer words more (load_word_weights); the loss shown does not.
            # (Ignored positions have nll 0; clamping their id only makes the lookup valid.)
            weighted = nll * self.word_weights[targets.clamp(min=0)] if self.word_weights is not None else nll
            loss = weighted.sum() / max(counted, 1)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip)
            self.optimizer.step()
            state = detach_state(state)  # the gradient stops at the window edge
            tokens += counted
            loss_sum += nll.detach().sum()  # summed on the device: read once per batch, not per window
        return tokens, loss_sum.item() / max(tokens, 1)

    def validate(self, phase: str) -> None:
        if self.tokens_seen == 0 or (self.valid_curve and self.valid_curve[-1]["tokens"] == self.tokens_seen):
            return  # nothing trained since the last validation (a run stopped right after one)
        key_words = self.word_weights > 1 if self.word_weights is not None else None
        began = time.monotonic()
        result = evaluate_split(self.model, self.splits["valid"], self.tokenizer.pad_id, key_words)
        ppl = result["perplexity"]
        elapsed = began - self.start  # the point is where training stood, before this validation
        point = {"phase": phase, "tokens": self.tokens_seen, "seconds": round(elapsed, 2),
                 "training_seconds": round(elapsed - self.validation_seconds, 2), "valid_perplexity": round(ppl, 3)}
        self.validation_seconds += time.monotonic() - began
        extra = ""
        if "key_word_accuracy" in result:
            point["valid_key_word_accuracy"] = round(result["key_word_accuracy"], 4)
            extra = f", answer-word accuracy {result['key_word_accuracy']:.3f}"
        self.valid_curve.append(point)
        self.last_validation = time.monotonic()
        marker = ""
        if ppl < self.best_ppl:
            self.best_ppl, self.best_state, marker = ppl, on_cpu(self.model.state_dict()), " (best)"
        if self.cluster.is_main:
            print(f"validation perplexity {ppl:.2f}{marker}{extra} after {self.tokens_seen:,} tokens, {elapsed:.0f}s",
                  file=sys.stderr)
        self.model.train()

    def save_state(self) -> None:
        """Save everything the run needs to go on from here (model/train_state.py). Call between batches.

        Under torchrun only rank 0 writes; the others hold the same weights and position.
        """
        if not self.cluster.is_main:
            return  # rank 0 keeps the time (Cluster.agree), so only its last_checkpoint counts
        progress = {
            "phase_index": self.phase_index, "phase_name": self.phase_names[self.phase_index],
            "phase_step": self.phase_step, "running_loss": self.running_loss,
            "tokens_seen": self.tokens_seen, "train_seconds": time.monotonic() - self.start,
            "validation_seconds": self.validation_seconds,
            "best_ppl": self.best_ppl if math.isfinite(self.best_ppl) else None,  # JSON has no infinity
            "curve": self.curve, "valid_curve": self.valid_curve, "resumed_at_tokens": self.resumed_at_tokens,
            "corpus_sha256": self.corpus_sha256,
        }
        save_train_state(self.cfg.models_dir, TrainState(
            config=config_as_json(self.cfg), tokenizer=self.tokenizer, model=on_cpu(self.model.state_dict()),
            best_model=self.best_state, optimizer=on_cpu(self.optimizer.state_dict()), python_rng=self.rng.getstate(),
            torch_rng=torch.get_rng_state(), dropout_rng=self.generator.get_state(), progress=progress,
        ))
        self.last_checkpoint = time.monotonic()
        self.states_saved += 1

    def restore_state(self, state: TrainState) -> None:
        """Take over a saved run: weights, optimiser, random generators, position and clock.

        The trainer must have been built as the saved run's was (same config, tokenizer and
        corpus): the epoch orders it drew from the seed are then the saved run's.
        """
        p = state.progress
        trained_on = p.get("corpus_sha256") or {}
        if trained_on != self.corpus_sha256:
            changed = sorted({name for name, _ in set(trained_on.items()) ^ set(self.corpus_sha256.items())})
            raise TrainStateError(
                f"the corpus in {self.cfg.corpus_dir} is not the one the saved run trained on "
                f"({', '.join(changed)} changed); restore it, or train from scratch without --resume"
            )
        try:
            self.model.load_state_dict(state.model)
            self.optimizer.load_state_dict(state.optimizer)
            self.best_state = state.best_model
            self.best_ppl = math.inf if p["best_ppl"] is None else p["best_ppl"]
            self.rng.setstate(state.python_rng)
            torch.set_rng_state(state.torch_rng)
            self.generator.set_state(state.dropout_rng)
            self.phase_index, self.phase_step, self.running_loss = p["phase_index"], p["phase_step"], p["running_loss"]
            self.tokens_seen, self.train_seconds = p["tokens_seen"], p["train_seconds"]
            self.validation_seconds = p.get("validation_seconds", 0.0)  # states saved before it was recorded
            self.curve, self.valid_curve = p["curve"], p["valid_curve"]
            self.resumed_at_tokens = p["resumed_at_tokens"] + [self.tokens_seen]
            self.reseed_dropout()
            if not 0 <= self.phase_index < len(self.phase_names):
                raise ValueError(f"phase {self.phase_index}, and this run has {len(self.phase_names)}")
        except (KeyError, TypeError, ValueError, RuntimeError) as e:  # a state edited by hand, or from other code
            raise TrainStateError(f"the saved state does not fit this run ({type(e).__name__}: {e})") from None


def chunk_passages(passages: list[list[int]], size: int) -> list[list[int]]:
    """Each passage cut into consecutive pieces of at most `size` tokens (pieces of one token, which
    predict nothing, left out)."""
    return [p[i : i + size] for p in passages for i in range(0, len(p), size) if len(p[i : i + size]) > 1]


def on_cpu(value):
    """A copy of a state dict (nested dicts and lists of tensors) with every tensor on the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: on_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(on_cpu(v) for v in value)
    return value


def load_word_weights(corpus_dir: Path, tokenizer: WordTokenizer) -> torch.Tensor | None:
    """Per-word loss weights from the corpus's `loss_weights.json` ({"French": 30, ...}), if it has one.

    The generated corpus up-weights its answer words: one answer per ~150 tokens is too
    rare a signal for the country → language binding to be found in minutes of training.
    Perplexities are always reported unweighted.
    """
    path = Path(corpus_dir) / "loss_weights.json"
    if not path.is_file():
        return None
    weights = torch.ones(tokenizer.vocab_size)
    for word, weight in json.loads(path.read_text()).items():
        ids = tokenizer.encode(word)
        if len(ids) == 1 and ids[0] != tokenizer.unk_id:
            weights[ids[0]] = float(weight)
    return weights


def load_splits(
    cfg: TrainConfig, tokenizer: WordTokenizer | None = None
) -> tuple[WordTokenizer, dict[str, list[list[int]]]]:
    """The encoded splits, with a vocabulary learned from train.txt unless `tokenizer` is given (--resume)."""
    check_corpus_dir(cfg.corpus_dir)
    text = {s: read_passages(cfg.corpus_dir / f"{s}.txt") for s in ("train", "valid", "test")}
    if not text["train"]:
        raise ValueError(f"{cfg.corpus_dir}/train.txt holds no text")
    if tokenizer is None:
        tokenizer = train_tokenizer([line for p in text["train"] for line in p], cfg.vocab_size, cfg.min_frequency,
                                    as_is=cfg.as_is_tokens)
    return tokenizer, {s: encode_passages(tokenizer, p) for s, p in text.items()}


def config_as_json(cfg: TrainConfig) -> dict:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}


# How to run rather than what to train: on --resume these come from the command line.
RUN_FIELDS = ("models_dir", "threads", "checkpoint_minutes", "resume", "if_missing", "evaluate", "device")


def resumed_config(asked: TrainConfig, saved: dict, given: set[str] | None, say=print) -> TrainConfig:
    """The saved run's config, with this command line's RUN_FIELDS; prints what else it asked for in vain.

    `given`: the fields set on the command line (None: compare every field).
    """
    known = {f.name for f in fields(TrainConfig)}
    try:
        cfg = TrainConfig(**{k: v for k, v in saved.items() if k in known})
    except TypeError as e:
        raise TrainStateError(f"the saved config does not fit this trainer ({e})") from None
    cfg.corpus_dir = Path(cfg.corpus_dir)
    for name in RUN_FIELDS:
        setattr(cfg, name, getattr(asked, name))
    ignored = [f"{name}={getattr(asked, name)} (saved: {getattr(cfg, name)})"
               for name in sorted(known - set(RUN_FIELDS))
               if (given is None or name in given) and getattr(asked, name) != getattr(cfg, name)]
    if ignored:
        say(f"--resume continues with the saved run's config; ignoring {', '.join(ignored)}")
    return cfg


def train(cfg: TrainConfig, given: set[str] | None = None) -> Path | None:
    """The whole run; returns the new version's directory (None with --if-missing and a model present).

    With `cfg.resume`, continues the run saved in the models directory, if any, with its
    config; `given` names the fields the command line set, to report those it asked in vain.
    """
    cluster = Cluster(device_for_rank(cfg.device))
    try:
        path = train_in_cluster(cfg, given, cluster)
        cluster.barrier()  # no rank tears the group down while another still uses it
        return path
    finally:
        cluster.close()


def train_in_cluster(cfg: TrainConfig, given: set[str] | None, cluster: Cluster) -> Path | None:
    """`train` as one of the cluster's processes: all of them train; rank 0 alone prints and writes."""
    say = print if cluster.is_main else (lambda *args, **kwargs: None)
    existing = list_versions(cfg.models_dir) if cfg.if_missing else []
    if existing:
        say(f"a model already exists in {cfg.models_dir} ({existing[-1]}); not training")
        return None
    saved = None
    if cfg.resume:
        saved = load_train_state(cfg.models_dir)
        if saved is None:
            say(f"no saved training state in {cfg.models_dir}; training from scratch")
        else:
            cfg = resumed_config(cfg, saved.config, given, say)
    elif find_train_state(cfg.models_dir):
        say(f"note: {find_train_state(cfg.models_dir)} holds an unfinished run: add --resume to continue it "
            "(this run replaces it when it saves its own state)")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    t0 = time.monotonic()
    tokenizer, splits = load_splits(cfg, saved.tokenizer if saved is not None else None)
    counts = {s: sum(len(p) for p in ps) for s, ps in splits.items()}
    say(f"corpus {cfg.corpus_dir}: {counts['train']:,} / {counts['valid']:,} / {counts['test']:,} tokens "
        f"(train/valid/test), vocabulary {tokenizer.vocab_size:,}; prepared in {time.monotonic() - t0:.1f}s")
    trainer = Trainer(cfg, tokenizer, splits, cluster)
    if saved is not None:
        trainer.restore_state(saved)
        say(f"resuming in {trainer.phase_names[trainer.phase_index]} after batch {trainer.phase_step}: "
            f"{trainer.tokens_seen:,} tokens and {trainer.train_seconds:.0f}s of training done")
    n_params = sum(p.numel() for p in trainer.model.parameters())
    ranks = f"; {cluster.world} processes, each step one batch of {cfg.batch_size} per process" if cluster.distributed else ""
    say(f"model: {cfg.cell} {cfg.num_layers}x{cfg.hidden_size}, embedding {cfg.embedding_size}, "
        f"{n_params / 1e6:.2f}M parameters on {trainer.device}; budget {cfg.max_tokens:,} tokens, {cfg.max_minutes:g} min "
        f"or {cfg.epochs} epochs, whichever ends first{ranks}")
    stopped_by = trainer.run()
    cluster.check_identical(trainer.model)
    if cluster.distributed:
        say(f"weights identical on all {cluster.world} processes after {trainer.tokens_seen:,} tokens")
    if not cluster.is_main:
        return None
    train_seconds = trainer.train_seconds
    if trainer.best_state is None:
        print("no training step was completed; nothing saved", file=sys.stderr)
        return None
    trainer.model.load_state_dict(trainer.best_state)
    test_ppl = evaluate_perplexity(trainer.model, splits["test"], tokenizer.pad_id)
    trainer.model.to("cpu")  # versions are served on the CPU
    metrics = {
        "stopped_by": stopped_by,
        "train_seconds": round(train_seconds, 1),
        "train_tokens_seen": trainer.tokens_seen,
        "tokens_per_second": round(trainer.tokens_seen / max(train_seconds, 1e-9), 1),
        "corpus_tokens": counts,
        "parameters": n_params,
        "best_valid_perplexity": round(trainer.best_ppl, 3),
        "test_perplexity": round(test_ppl, 3),
        "train_curve": trainer.curve,
        "valid_curve": trainer.valid_curve,
    }
    if trainer.resumed_at_tokens:
        metrics["resumed_at_tokens"] = trainer.resumed_at_tokens
    path = save_version(cfg.models_dir, trainer.model, tokenizer, config_as_json(cfg), metrics,
                        write_extras=lambda directory: write_training_curve(metrics, cfg, directory))
    print_summary(path, metrics, stopped_by)
    if cfg.evaluate:
        evaluate_version(path)
    # The saved state is this run's if it resumed or saved one; another run's is left alone.
    if saved is not None or trainer.states_saved:
        if stopped_by == "interrupted":
            print(f"training state kept in {find_train_state(cfg.models_dir)}: add --resume to continue this run")
        else:
            delete_train_state(cfg.models_dir)
    return path


def write_training_curve(metrics: dict, cfg: TrainConfig, directory: Path) -> None:
    """training_curve.png in the new version: train and validation perplexity against tokens."""
    try:
        plot_training_curve(metrics, directory / "training_curve.png",
                            title=f"{cfg.cell}, hidden {cfg.hidden_size}, bptt {cfg.bptt}: training curve")
    except ValueError as e:  # nothing to draw (a run stopped before its first point)
        log.warning("no training curve drawn: %s", e)


def print_summary(path: Path, metrics: dict, stopped_by: str) -> None:
    """One screen at the end: what was trained, how well, and where it went."""
    rows = [
        ("version", str(path)),
        ("stopped by", f"{stopped_by} after {metrics['train_seconds']:.0f}s"),
        ("tokens", f"{metrics['train_tokens_seen']:,} ({metrics['tokens_per_second']:,.0f} tok/s)"),
        ("perplexity", f"best validation {metrics['best_valid_perplexity']:.2f}, test {metrics['test_perplexity']:.2f}"),
    ]
    accuracy = [p["valid_key_word_accuracy"] for p in metrics["valid_curve"] if "valid_key_word_accuracy" in p]
    if accuracy:
        rows.append(("answer words", f"{accuracy[-1]:.3f} top-1 on the validation split's cue answers"))
    if (path / "training_curve.png").is_file():
        rows.append(("training curve", str(path / "training_curve.png")))
    width = max(len(k) for k, _ in rows)
    print("\n" + "\n".join(f"  {k:<{width}}  {v}" for k, v in rows))


def evaluate_version(path: Path) -> None:
    """--evaluate: long-range accuracy by gap on the held-out probes, printed and saved (data/eval)."""
    from model.evaluate import evaluate, markdown_table, write_report

    loaded = load_version(path)
    result = evaluate(loaded)
    result["test_perplexity"] = loaded.metrics["test_perplexity"]
    print("\nlong-range accuracy on held-out probes (model.evaluate):\n" + markdown_table(result))
    for written in write_report(result, Path("data/eval")):
        print(f"wrote {written}")


def build_parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--corpus-dir", type=Path, default=d.corpus_dir, help="directory with train/valid/test.txt")
    p.add_argument("--models-dir", type=Path, default=d.models_dir, help="where model versions are written")
    p.add_argument("--cell", choices=sorted(CELLS), default=d.cell, help="recurrent cell")
    p.add_argument("--embedding-size", type=int, default=d.embedding_size, help="word embedding width")
    p.add_argument("--hidden-size", type=int, default=d.hidden_size, help="recurrent state width")
    p.add_argument("--num-layers", type=int, default=d.num_layers, help="stacked recurrent layers")
    p.add_argument("--dropout", type=float, default=d.dropout, help="dropout on embeddings and outputs")
    p.add_argument("--embedding-dropout", type=float, default=d.embedding_dropout,
                   help="share of word types dropped from each window's input (0 = off)")
    p.add_argument("--weight-drop", type=float, default=d.weight_drop,
                   help="DropConnect on the recurrent hidden-to-hidden matrices (0 = off)")
    p.add_argument("--tie-weights", action="store_true", help="share embedding and output weights (full softmax)")
    p.add_argument("--full-softmax", dest="adaptive_softmax", action="store_false",
                   help="a plain softmax over the whole vocabulary instead of the adaptive one")
    p.add_argument("--vocab-size", type=int, default=d.vocab_size, help="largest vocabulary, specials included")
    p.add_argument("--min-frequency", type=int, default=d.min_frequency, help="rarer words become <unk>")
    p.add_argument("--as-is-tokens", action="store_true",
                   help="keep case and split on whitespace only (pre-tokenized text such as WikiText)")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="passages per batch")
    p.add_argument("--chunk-tokens", type=int, default=d.chunk_tokens,
                   help="cut training passages into pieces of at most this many tokens (0 = whole passages)")
    p.add_argument("--bptt", type=int, default=d.bptt, help="truncated-BPTT window, in tokens")
    p.add_argument("--lr", type=float, default=d.lr, help="learning rate at the start (decays linearly to a tenth)")
    p.add_argument("--optimizer", choices=("adam", "sgd"), default=d.optimizer, help="Adam, or plain SGD")
    p.add_argument("--clip", type=float, default=d.clip, help="gradient norm clipping threshold")
    p.add_argument("--epochs", type=int, default=d.epochs, help="passes over the training split at most")
    p.add_argument("--max-tokens", type=int, default=d.max_tokens, help="training budget in tokens; 0 = none")
    p.add_argument("--max-minutes", type=float, default=d.max_minutes, help="training time budget; 0 = none")
    p.add_argument("--unk-dropout", type=float, default=d.unk_dropout, help="share of input words replaced by <unk>")
    p.add_argument("--no-curriculum", dest="curriculum", action="store_false", help="no length warm-up: shuffled epochs only")
    p.add_argument("--curriculum-start-tokens", type=int, default=d.curriculum_start_tokens,
                   help="longest passage drawn at the start of the curriculum")
    p.add_argument("--curriculum-end", type=float, default=d.curriculum_end,
                   help="share of the run (time or tokens) spent in the curriculum")
    p.add_argument("--seed", type=int, default=d.seed, help="random seed")
    p.add_argument("--threads", type=int, default=d.threads, help="torch threads (0 = torch default)")
    p.add_argument("--max-batches", type=int, default=d.max_batches, help="batches per epoch at most (0 = all)")
    p.add_argument("--if-missing", action="store_true", help="do nothing if a model version already exists")
    p.add_argument("--checkpoint-minutes", type=float, default=d.checkpoint_minutes,
                   help="save the resumable training state (MODELS_DIR/.train-state/) this often, and on "
                        "Ctrl-C/SIGTERM; 0 = never")
    p.add_argument("--resume", action="store_true",
                   help="continue the run saved in MODELS_DIR/.train-state/ from the batch it was saved after, with "
                        "its config, vocabulary, random state and clock; other training flags given are ignored "
                        "(and listed); only --models-dir, --threads, --checkpoint-minutes, --if-missing and --evaluate apply. "
                        "Without a saved state: train from scratch")
    p.add_argument("--validate-minutes", type=float, default=d.validate_minutes,
                   help="also measure validation perplexity every this many minutes (0: after each epoch only)")
    p.add_argument("--target-perplexity", type=float, default=d.target_perplexity,
                   help="stop as soon as a validation reaches this perplexity (0: train the whole budget)")
    p.add_argument("--device", choices=("cpu", "cuda"), default=d.device,
                   help="where to train; cuda: one GPU per process (LOCAL_RANK under torchrun). Versions are served on the CPU")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast in the forward pass (GPU; CPUs with AVX512-BF16)")
    p.add_argument("--compile", action="store_true", help="torch.compile the training step (needs a C compiler on CPU)")
    p.add_argument("--evaluate", action="store_true",
                   help="after saving, measure long-range accuracy by gap (model.evaluate; report in data/eval/)")
    p.add_argument("--dry-run", action="store_true", help="smoke run: tiny model, 1 epoch of 3 batches")
    return p


DRY_RUN = dict(embedding_size=16, hidden_size=16, epochs=1, max_batches=3)


def parse_command_line(argv: list[str] | None = None) -> tuple[TrainConfig, set[str]]:
    """The config, and the names of the fields the command line set (for --resume to report)."""
    args = vars(build_parser().parse_args(argv))
    if args.pop("dry_run"):
        args.update(DRY_RUN, vocab_size=min(args["vocab_size"], 500))
    known = {f.name for f in fields(TrainConfig)}
    # Parsed again with a default no value can equal, to tell flags given from defaults.
    unset = object()
    explicit = build_parser()
    explicit.set_defaults(**{name: unset for name in (*known, "dry_run")})
    given = {name for name, value in vars(explicit.parse_args(argv)).items() if value is not unset}
    if "dry_run" in given:
        given |= {*DRY_RUN, "vocab_size"}
    return TrainConfig(**{k: v for k, v in args.items() if k in known}), given - {"dry_run"}


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    return parse_command_line(argv)[0]


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    cfg, given = parse_command_line(argv)
    try:
        train(cfg, given)
    except (FileNotFoundError, ValueError, TrainStateError) as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
