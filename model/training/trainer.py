"""The truncated-BPTT training loop: one `Trainer` per run, phase by phase, batch by batch.

    curriculum (short passages first) → epoch 1 → epoch 2 → ... until the budget ends

Each batch of passages (padded to the longest) is cut into bptt windows with the state carried
and detached at each edge (batching.py); the learning rate and the curriculum follow the run's
progress (schedule.py). Validation after each phase (and every --validate-minutes) keeps the best
weights. Between batches the whole state can be saved (resume.py) and a stop asked for by Ctrl-C
or SIGTERM is honoured. run.py builds a Trainer from a corpus and saves what it trained.
"""
from __future__ import annotations

import bisect
import math
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn
from tqdm import tqdm

from model.evaluation.scoring import evaluate_split
from model.rnn_lm import RNNLanguageModel, detach_state
from model.tokenizer import SPECIAL_TOKENS, WordTokenizer
from model.training import resume
from model.training.batching import IGNORE_INDEX, chunk_passages, length_buckets, pad_batch, windows
from model.training.config import TrainConfig
from model.training.distributed import Cluster, device_for_rank
from model.training.regularizers import answer_word_weights, unknown_word_dropout
from model.training.schedule import curriculum_cap, learning_rate, run_progress, target_reached


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
                return (*self.model.target_nll(out.float(), y, IGNORE_INDEX), state)
        return (*self.model.target_nll(out, y, IGNORE_INDEX), state)


class Trainer:
    """One training run: the model and optimiser, and where the run stands (phase, batch, tokens, clock,
    curves, best weights), which resume.py saves and restores."""

    def __init__(self, cfg: TrainConfig, tokenizer: WordTokenizer, splits: dict[str, list[list[int]]],
                 cluster: Cluster | None = None):
        self.cfg, self.tokenizer = cfg, tokenizer
        if cfg.chunk_tokens:
            splits = dict(splits, train=chunk_passages(splits["train"], cfg.chunk_tokens))
        self.splits = splits
        self.cluster = cluster or Cluster(device_for_rank(cfg.device))
        self.device = self.cluster.device
        self.rng = random.Random(cfg.seed)  # the batch order: the same on every rank
        torch.manual_seed(cfg.seed)
        self.generator = torch.Generator().manual_seed(cfg.seed)  # unknown-word dropout
        self.model = RNNLanguageModel(cfg.model_config(tokenizer.vocab_size)).to(self.device)
        self.step_module = self.cluster.wrap(LossStep(self.model), bool(self.model.config.adaptive_cutoffs))
        if cfg.compile:
            self.step_module = torch.compile(self.step_module, dynamic=True)  # windows vary in batch and length
        self.optimizer = make_optimizer(cfg, self.model)
        self.protected = torch.tensor([form in SPECIAL_TOKENS for form in tokenizer.display_forms])
        self.word_weights = answer_word_weights(cfg.corpus_dir, tokenizer)
        if self.word_weights is not None:
            self.word_weights = self.word_weights.to(self.device)
        self.lengths = [len(p) for p in splits["train"]]
        self.budget = Budget(cfg, train_tokens=sum(self.lengths))
        self.epoch_batches, self.phase_names = plan_phases(cfg, self.lengths, self.rng)
        # Where the run stands: saved with the state (resume.snapshot).
        self.phase_index, self.phase_step, self.running_loss = 0, 0, None
        self.tokens_seen = 0
        self.train_seconds = 0.0  # training steps and the validations between them
        self.validation_seconds = 0.0  # so curves can also be read in training time alone
        self.curve: list[dict] = []
        self.valid_curve: list[dict] = []
        self.best_ppl, self.best_state = math.inf, None
        self.resumed_at_tokens: list[int] = []
        self.corpus_sha256 = resume.corpus_checksums(cfg.corpus_dir)
        # The clock, and when the last state save and validation were.
        self.start = self.elapsed = 0.0
        self.last_checkpoint = self.last_validation = 0.0
        self.states_saved = 0
        self.stop = resume.StopSignals()
        self.cluster.reseed_dropout(cfg.seed, self.tokens_seen, self.generator)

    def progress(self) -> float:
        """Fraction of the run done, which drives the curriculum and the learning rate."""
        return self.budget.progress(self.tokens_seen, self.elapsed)

    def out_of_budget(self) -> bool:
        return self.budget.exhausted(self.tokens_seen, self.elapsed, self.valid_curve)

    def run(self) -> str:
        """Curriculum phase, then epochs, until the budget runs out; return why it stopped.

        A restored trainer (resume.restore) goes on from the batch its state was saved after.
        """
        self.start = time.monotonic() - self.train_seconds  # a resumed run's clock counts the time already spent
        self.elapsed = self.train_seconds
        self.last_checkpoint = self.last_validation = time.monotonic()
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
                return "target perplexity" if self.budget.target_reached(self.valid_curve) else "budget"
            self.phase_index, self.phase_step, self.running_loss = self.phase_index + 1, 0, None
        return "epochs"

    def phase_batches(self) -> Iterator[list[int]]:
        """The batches of the current phase from `phase_step` on."""
        epoch = self.phase_index - (1 if self.cfg.curriculum else 0)
        if epoch < 0:
            return curriculum_batches(self.lengths, self.cfg, self.rng, self.progress, already_drawn=self.phase_step)
        return iter(self.epoch_batches[epoch][self.phase_step:])

    def train_phase(self, name: str, batches: Iterator[list[int]]) -> str:
        """Train on the given batches. Returns "done" when they run out, "budget" if the budget ended
        the phase early, "stop" if a stop was asked for (Ctrl-C, SIGTERM): always after a whole step.

        A step is one batch per rank (one batch without torchrun); the ranks' gradients are averaged.
        """
        if self.stop.requested:  # asked during the validation before this phase
            return "stop"
        passages, cluster = self.splits["train"], self.cluster
        meter = _PhaseMeter(name, disable=not cluster.is_main)
        self.model.train()
        try:
            for group in cluster.groups(batches):
                step = self.phase_step // len(group)  # this step's place in the phase, resumed runs included
                # Every rank pads to the longest passage of the whole step, so all run the same windows.
                width = max(len(passages[i]) for batch in group for i in batch)
                batch = pad_batch([passages[i] for i in group[cluster.rank]], self.tokenizer.pad_id, width=width)
                tokens, shown = self.train_batch(batch, skip_empty=not cluster.distributed)
                self.running_loss = shown if self.running_loss is None else 0.98 * self.running_loss + 0.02 * shown
                tokens, stop, checkpoint_due, validate_due = self.agree_after_step(tokens)
                self.tokens_seen += tokens
                self.phase_step += len(group)
                meter.update(self, tokens, record=step % 20 == 0)
                if self.out_of_budget():
                    return "budget"
                if stop:
                    self.stop.requested = True
                    return "stop"
                if checkpoint_due:
                    self.save_state()
                if validate_due:
                    # Points on the validation curve between epochs: time-to-quality is read off it.
                    self.validate(name)
                    if self.out_of_budget():  # --target-perplexity reached
                        return "budget"
            return "done"
        finally:
            meter.close()

    def agree_after_step(self, tokens: int) -> tuple[int, bool, bool, bool]:
        """What the ranks must agree on after each step (rank 0 keeps the time): tokens trained, whether
        to stop, to save the state, to validate. Sets the run's clock."""
        cfg, now = self.cfg, time.monotonic()
        checkpoint_due = cfg.checkpoint_minutes > 0 and now - self.last_checkpoint >= cfg.checkpoint_minutes * 60
        validate_due = cfg.validate_minutes > 0 and now - self.last_validation >= cfg.validate_minutes * 60
        tokens, stop, (self.elapsed, checkpoint_due, validate_due) = self.cluster.agree(
            tokens, self.stop.requested, (now - self.start, checkpoint_due, validate_due))
        return tokens, stop, bool(checkpoint_due), bool(validate_due)

    def train_batch(self, batch: torch.Tensor, skip_empty: bool) -> tuple[int, float]:
        """Truncated BPTT over one padded batch (B, L); returns the targets trained on and their mean loss.

        skip_empty=False (under torchrun) also runs windows of padding only, which count for nothing,
        so that every rank takes part in each of the step's gradient averages.
        """
        cfg = self.cfg
        for group in self.optimizer.param_groups:  # fixed for the step: every rank computes the same
            group["lr"] = learning_rate(cfg.lr, self.progress())
        state = self.model.initial_state(batch.size(0), self.device)
        tokens, loss_sum = 0, torch.zeros((), device=self.device)
        for x, y in windows(batch, cfg.bptt, self.tokenizer.pad_id, skip_empty=skip_empty):
            counted = int((y != IGNORE_INDEX).sum())  # on the host: the device is not asked
            x = unknown_word_dropout(x, cfg.unk_dropout, self.tokenizer.unk_id, self.protected, self.generator)
            x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
                nll, targets, state = self.step_module(x, y, state)  # (N,) or (B*T,); see LossStep
            nll = nll.float()
            # The objective weighs answer words more (regularizers.answer_word_weights); the loss shown
            # does not. Ignored positions have nll 0; clamping their id only makes the lookup valid.
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
        """Validation perplexity (and answer-word accuracy on the generated corpus) as a point on the
        validation curve; the best weights so far are kept."""
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
            self.best_ppl, self.best_state, marker = ppl, resume.on_cpu(self.model.state_dict()), " (best)"
        if self.cluster.is_main:
            print(f"validation perplexity {ppl:.2f}{marker}{extra} after {self.tokens_seen:,} tokens, {elapsed:.0f}s",
                  file=sys.stderr)
        self.model.train()

    def save_state(self) -> None:
        """Save everything the run needs to go on from here (resume.py). Call between batches.

        Under torchrun only rank 0 writes; the others hold the same weights and position.
        """
        if not self.cluster.is_main:
            return  # rank 0 keeps the time (Cluster.agree), so only its last_checkpoint counts
        resume.save_train_state(self.cfg.models_dir, resume.snapshot(self))
        self.last_checkpoint = time.monotonic()
        self.states_saved += 1


def plan_phases(cfg: TrainConfig, lengths: list[int], rng: random.Random) -> tuple[list[list[list[int]]], list[str]]:
    """Every epoch's batch order, and the names of the run's phases (the curriculum, then the epochs).

    The orders are drawn first, before any curriculum draw: a resumed run draws them again from the
    seed, then takes the saved generator state.
    """
    epoch_batches = [length_buckets(lengths, cfg.batch_size, rng)[: cfg.max_batches or None] for _ in range(cfg.epochs)]
    epochs = [f"epoch {e + 1}/{cfg.epochs}" for e in range(cfg.epochs)]
    return epoch_batches, (["curriculum"] if cfg.curriculum else []) + epochs


@dataclass(frozen=True)
class Budget:
    """When the run ends (tokens, minutes or the target perplexity, whichever first) and how far along it is."""

    cfg: TrainConfig
    train_tokens: int

    def planned_tokens(self) -> int:
        epochs = self.cfg.epochs * self.train_tokens
        return min(epochs, self.cfg.max_tokens) if self.cfg.max_tokens else epochs

    def progress(self, tokens_seen: int, elapsed: float) -> float:
        """schedule.run_progress: counted in tokens where there is a token budget."""
        return run_progress(tokens_seen, self.planned_tokens(), elapsed, self.cfg.max_minutes * 60,
                            token_budget=bool(self.cfg.max_tokens))

    def target_reached(self, valid_curve: list[dict]) -> bool:
        return target_reached([p["valid_perplexity"] for p in valid_curve], self.cfg.target_perplexity)

    def exhausted(self, tokens_seen: int, elapsed: float, valid_curve: list[dict]) -> bool:
        if self.target_reached(valid_curve):
            return True
        if self.cfg.max_tokens and tokens_seen >= self.cfg.max_tokens:
            return True
        return self.cfg.max_minutes > 0 and elapsed >= self.cfg.max_minutes * 60

    def eta(self, tokens_seen: int, elapsed: float, tokens_per_second: float) -> str:
        """Time left: the budget's, or the planned epochs' at the current rate if that ends sooner."""
        seconds = (self.planned_tokens() - tokens_seen) / max(tokens_per_second, 1e-9)
        if self.cfg.max_minutes > 0:
            seconds = min(seconds, self.cfg.max_minutes * 60 - elapsed)
        minutes, secs = divmod(int(max(seconds, 0)), 60)
        return f"{minutes}:{secs:02d}"


def curriculum_batches(lengths: list[int], cfg: TrainConfig, rng: random.Random, progress: Callable[[], float],
                       already_drawn: int = 0) -> Iterator[list[int]]:
    """Batches drawn at random among those whose passages fit the curriculum's length cap
    (schedule.curriculum_cap), until the curriculum's share of the run (`progress()`) is done."""
    buckets = length_buckets(lengths, cfg.batch_size, rng=None, ascending=True)
    longest = [max(lengths[i] for i in b) for b in buckets]
    drawn = already_drawn
    while (done := progress()) < cfg.curriculum_end:
        if cfg.max_batches and drawn >= cfg.max_batches:
            return
        cap = curriculum_cap(done, cfg.curriculum_end, cfg.curriculum_start_tokens, max(longest))
        eligible = max(bisect.bisect_right(longest, cap), 1)
        drawn += 1
        yield buckets[rng.randrange(eligible)]


def make_optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=cfg.lr)
    # Fused Adam: one kernel for all parameters instead of a few per tensor. On the CPU too: there torch's
    # default loop took ~65 ms a step for the english model's 14M parameters, fused ~11 (docs/benchmarks.md).
    return torch.optim.Adam(model.parameters(), lr=cfg.lr, fused=True)


class _PhaseMeter:
    """The progress bar of a phase, and the training-loss curve's points (every 20th step)."""

    def __init__(self, name: str, disable: bool) -> None:
        self.bar = tqdm(desc=name, unit="tok", unit_scale=True, dynamic_ncols=True, mininterval=1.0, disable=disable)
        self.start, self.tokens = time.monotonic(), 0

    def update(self, trainer: Trainer, tokens: int, record: bool) -> None:
        self.tokens += tokens
        self.bar.update(tokens)
        if not record:
            return
        rate = self.tokens / max(time.monotonic() - self.start, 1e-9)
        loss = trainer.running_loss
        self.bar.set_postfix(loss=f"{loss:.3f}", ppl=f"{math.exp(min(loss, 50)):.1f}", tok_s=f"{rate:,.0f}",
                             eta=trainer.budget.eta(trainer.tokens_seen, trainer.elapsed, rate))
        trainer.curve.append({"tokens": trainer.tokens_seen, "seconds": round(trainer.elapsed, 2),
                              "train_loss": round(loss, 4)})

    def close(self) -> None:
        self.bar.close()

