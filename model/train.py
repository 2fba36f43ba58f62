"""Train a word-level RNN language model with truncated BPTT and write a new model version.

    python -m model.train --corpus-dir data/corpus --models-dir models
    python -m model.train --help            # every flag, with its default
    python -m model.train --dry-run ...     # seconds-long smoke run (tiny model, a few batches)

Steps: learn the vocabulary from train.txt → encode the splits → train on passages batched
by length, cut into bptt windows with the state carried and detached (model/batching.py) →
validate after each phase and keep the best weights → test perplexity → save the version
atomically (model/checkpoint.py). Training starts with a length curriculum (short passages
first), then runs shuffled epochs. A token budget (`--max-tokens`) bounds the work, so a busy
machine trains the same model, only slower; `--max-minutes` is a safety stop. The learning
rate decays linearly over whichever budget runs out first. Ctrl-C stops training, then
evaluates and saves the best weights so far.
"""
from __future__ import annotations

import argparse
import bisect
import copy
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
from tqdm import tqdm

from model.batching import IGNORE_INDEX, length_buckets, pad_batch, unknown_word_dropout, windows
from model.checkpoint import list_versions, save_version
from model.data import check_corpus_dir, encode_passages, read_passages
from model.rnn_lm import CELLS, ModelConfig, RNNLanguageModel, detach_state
from model.tokenizer import SPECIAL_TOKENS, WordTokenizer, train_tokenizer

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
    tie_weights: bool = False
    adaptive_softmax: bool = True  # ~2x faster training at 10k words on CPU; see model/rnn_lm.py
    vocab_size: int = 10000  # the output layer dominates the cost; 10k covers everyday text
    min_frequency: int = 2  # words seen once are left to <unk>, which then gets trained
    batch_size: int = 32
    bptt: int = 400  # window length: most cue → query gaps fit inside one window (the truncation study measures shorter ones)
    lr: float = 4e-3  # Adam; 3e-3 learned the cue binding markedly slower (docs/results.md)
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

    def model_config(self, vocab_size: int) -> ModelConfig:
        # Head: the 2,000 most frequent words; then a cluster of the next 4,000; then the rest.
        cutoffs = tuple(c for c in (2000, 6000) if c < vocab_size - 1) if self.adaptive_softmax else ()
        return ModelConfig(
            vocab_size=vocab_size, cell=self.cell, embedding_size=self.embedding_size,
            hidden_size=self.hidden_size, num_layers=self.num_layers, dropout=self.dropout,
            tie_weights=self.tie_weights, adaptive_cutoffs=cutoffs,
        )


@torch.inference_mode()
def evaluate_split(
    model: RNNLanguageModel, passages: list[list[int]], pad_id: int, key_words: torch.Tensor | None = None,
    batch_size: int = 64, bptt: int = 400,
) -> dict[str, float]:
    """Perplexity (exp of the mean next-word cross-entropy over every target of every passage),
    and, given a bool mask `key_words` (V,), top-1 accuracy where the target is one of those words."""
    model.eval()
    total_loss, total_count, key_right, key_count = 0.0, 0, 0, 0
    lengths = [len(p) for p in passages]
    for indices in length_buckets(lengths, batch_size, rng=None):
        batch = pad_batch([passages[i] for i in indices], pad_id)
        state = model.initial_state(batch.size(0))
        for x, y in windows(batch, bptt, pad_id):
            out, state = model.encode(x, state)
            nll, _ = model.target_nll(out, y, IGNORE_INDEX)
            total_loss += nll.sum().item()
            total_count += nll.numel()
            if key_words is not None:
                at_key = (y != IGNORE_INDEX) & key_words[y.clamp(min=0)]  # (B, T)
                if at_key.any():
                    guess = model.log_probs(out[at_key]).argmax(-1)  # (N,)
                    key_right += int((guess == y[at_key]).sum())
                    key_count += int(at_key.sum())
    result = {"perplexity": math.exp(total_loss / max(total_count, 1))}
    if key_count:
        result["key_word_accuracy"] = key_right / key_count
    return result


def evaluate_perplexity(model: RNNLanguageModel, passages: list[list[int]], pad_id: int) -> float:
    return evaluate_split(model, passages, pad_id)["perplexity"]


class Trainer:
    """One training run: owns the model, optimiser, clock and best weights."""

    def __init__(self, cfg: TrainConfig, tokenizer: WordTokenizer, splits: dict[str, list[list[int]]]):
        self.cfg = cfg
        self.tokenizer = tokenizer
        self.splits = splits
        self.rng = random.Random(cfg.seed)
        torch.manual_seed(cfg.seed)
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.model = RNNLanguageModel(cfg.model_config(tokenizer.vocab_size))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        self.protected = torch.tensor([tokenizer.display_forms[i] in SPECIAL_TOKENS for i in range(tokenizer.vocab_size)])
        self.word_weights = load_word_weights(cfg.corpus_dir, tokenizer)
        self.train_tokens = sum(len(p) for p in splits["train"])
        self.budget_s = cfg.max_minutes * 60
        self.tokens_seen = 0
        self.curve: list[dict] = []
        self.valid_curve: list[dict] = []
        self.best_ppl = math.inf
        self.best_state: dict | None = None
        self.start = 0.0
        self.train_seconds = 0.0  # time spent in training steps and the validations between epochs

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
        return min(max(by_tokens, (time.monotonic() - self.start) / self.budget_s), 1.0)

    def eta(self, tokens_per_second: float) -> str:
        """Time left: the budget's, or the planned epochs' at the current rate if that ends sooner."""
        left = self.planned_tokens() - self.tokens_seen
        seconds = left / max(tokens_per_second, 1e-9)
        if self.budget_s > 0:
            seconds = min(seconds, self.budget_s - (time.monotonic() - self.start))
        minutes, secs = divmod(int(max(seconds, 0)), 60)
        return f"{minutes}:{secs:02d}"

    def out_of_budget(self) -> bool:
        if self.cfg.max_tokens and self.tokens_seen >= self.cfg.max_tokens:
            return True
        return self.budget_s > 0 and time.monotonic() - self.start >= self.budget_s

    def run(self) -> str:
        """Curriculum phase, then epochs, until the budget runs out; return why it stopped."""
        self.start = time.monotonic()
        stopped_by = "epochs"
        lengths = [len(p) for p in self.splits["train"]]
        phases: list[tuple[str, Iterator[list[int]]]] = []
        if self.cfg.curriculum:
            phases.append(("curriculum", self.curriculum_batches(lengths)))
        for epoch in range(self.cfg.epochs):
            batches = length_buckets(lengths, self.cfg.batch_size, self.rng)
            phases.append((f"epoch {epoch + 1}/{self.cfg.epochs}", iter(batches[: self.cfg.max_batches or None])))
        try:
            for name, batches in phases:
                finished = self.train_phase(name, batches)
                self.train_seconds = time.monotonic() - self.start
                self.validate(name)
                if not finished:
                    stopped_by = "budget"
                    break
        except KeyboardInterrupt:
            stopped_by = "interrupted"
            self.train_seconds = time.monotonic() - self.start
            print("\ninterrupted: evaluating and saving the best weights so far", file=sys.stderr)
            self.validate("interrupted")
        return stopped_by

    def curriculum_batches(self, lengths: list[int]) -> Iterator[list[int]]:
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
        drawn = 0
        while (progress := self.progress()) < self.cfg.curriculum_end:
            if self.cfg.max_batches and drawn >= self.cfg.max_batches:
                return
            # 0 for the first third of the curriculum, 1 from nine tenths on.
            share = min(max((progress / self.cfg.curriculum_end - 1 / 3) / (0.9 - 1 / 3), 0.0), 1.0)
            cap = top if share >= 1 or top <= start else start * (top / start) ** share
            eligible = max(bisect.bisect_right(longest, cap), 1)
            drawn += 1
            yield buckets[self.rng.randrange(eligible)]

    def train_phase(self, name: str, batches: Iterator[list[int]]) -> bool:
        """Train on the given batches; False if the budget ended it early."""
        cfg, model = self.cfg, self.model
        passages = self.splits["train"]
        pad = self.tokenizer.pad_id
        bar = tqdm(desc=name, unit="tok", unit_scale=True, dynamic_ncols=True, mininterval=1.0)
        running, phase_start, phase_tokens = None, time.monotonic(), 0
        model.train()
        for step, indices in enumerate(batches):
            batch = pad_batch([passages[i] for i in indices], pad)
            state = model.initial_state(batch.size(0))
            for x, y in windows(batch, cfg.bptt, pad):
                for group in self.optimizer.param_groups:
                    group["lr"] = cfg.lr * (1.0 - 0.9 * self.progress())
                x = unknown_word_dropout(x, cfg.unk_dropout, self.tokenizer.unk_id, self.protected, self.generator)
                out, state = model.encode(x, state)
                nll, targets = model.target_nll(out, y, IGNORE_INDEX)  # (N,), (N,)
                # The objective weighs answer words more (load_word_weights); the loss shown does not.
                weighted = nll * self.word_weights[targets] if self.word_weights is not None else nll
                loss = weighted.sum() / max(nll.numel(), 1)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
                self.optimizer.step()
                state = detach_state(state)  # the gradient stops at the window edge
                n = int((y != IGNORE_INDEX).sum())
                self.tokens_seen += n
                phase_tokens += n
                shown = nll.mean().item()
                running = shown if running is None else 0.98 * running + 0.02 * shown
            bar.update(sum(len(passages[i]) for i in indices))
            if step % 20 == 0:
                elapsed = time.monotonic() - self.start
                rate = phase_tokens / max(time.monotonic() - phase_start, 1e-9)
                bar.set_postfix(loss=f"{running:.3f}", ppl=f"{math.exp(min(running, 50)):.1f}", tok_s=f"{rate:,.0f}",
                                eta=self.eta(rate))
                self.curve.append({"tokens": self.tokens_seen, "seconds": round(elapsed, 2), "train_loss": round(running, 4)})
            if self.out_of_budget():
                bar.close()
                return False
        bar.close()
        return True

    def validate(self, phase: str) -> None:
        if self.tokens_seen == 0:
            return
        key_words = self.word_weights > 1 if self.word_weights is not None else None
        result = evaluate_split(self.model, self.splits["valid"], self.tokenizer.pad_id, key_words)
        ppl = result["perplexity"]
        elapsed = time.monotonic() - self.start
        point = {"phase": phase, "tokens": self.tokens_seen, "seconds": round(elapsed, 2),
                 "valid_perplexity": round(ppl, 3)}
        extra = ""
        if "key_word_accuracy" in result:
            point["valid_key_word_accuracy"] = round(result["key_word_accuracy"], 4)
            extra = f", answer-word accuracy {result['key_word_accuracy']:.3f}"
        self.valid_curve.append(point)
        marker = ""
        if ppl < self.best_ppl:
            self.best_ppl, self.best_state, marker = ppl, copy.deepcopy(self.model.state_dict()), " (best)"
        print(f"validation perplexity {ppl:.2f}{marker}{extra} after {self.tokens_seen:,} tokens, {elapsed:.0f}s",
              file=sys.stderr)
        self.model.train()


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


def load_splits(cfg: TrainConfig) -> tuple[WordTokenizer, dict[str, list[list[int]]]]:
    check_corpus_dir(cfg.corpus_dir)
    text = {s: read_passages(cfg.corpus_dir / f"{s}.txt") for s in ("train", "valid", "test")}
    if not text["train"]:
        raise ValueError(f"{cfg.corpus_dir}/train.txt holds no text")
    tokenizer = train_tokenizer([line for p in text["train"] for line in p], cfg.vocab_size, cfg.min_frequency)
    return tokenizer, {s: encode_passages(tokenizer, p) for s, p in text.items()}


def train(cfg: TrainConfig) -> Path | None:
    """The whole run; returns the new version's directory (None with --if-missing and a model present)."""
    existing = list_versions(cfg.models_dir) if cfg.if_missing else []
    if existing:
        print(f"a model already exists in {cfg.models_dir} ({existing[-1]}); not training")
        return None
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    t0 = time.monotonic()
    tokenizer, splits = load_splits(cfg)
    counts = {s: sum(len(p) for p in ps) for s, ps in splits.items()}
    print(f"corpus {cfg.corpus_dir}: {counts['train']:,} / {counts['valid']:,} / {counts['test']:,} tokens "
          f"(train/valid/test), vocabulary {tokenizer.vocab_size:,}; prepared in {time.monotonic() - t0:.1f}s")
    trainer = Trainer(cfg, tokenizer, splits)
    n_params = sum(p.numel() for p in trainer.model.parameters())
    print(f"model: {cfg.cell} {cfg.num_layers}x{cfg.hidden_size}, embedding {cfg.embedding_size}, "
          f"{n_params / 1e6:.2f}M parameters; budget {cfg.max_tokens:,} tokens, {cfg.max_minutes:g} min "
          f"or {cfg.epochs} epochs, whichever ends first")
    stopped_by = trainer.run()
    train_seconds = trainer.train_seconds
    if trainer.best_state is None:
        print("no training step was completed; nothing saved", file=sys.stderr)
        return None
    trainer.model.load_state_dict(trainer.best_state)
    test_ppl = evaluate_perplexity(trainer.model, splits["test"], tokenizer.pad_id)
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
    training = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}
    path = save_version(cfg.models_dir, trainer.model, tokenizer, training, metrics)
    print(f"\nsaved {path}\n  stopped by {stopped_by} after {train_seconds:.0f}s, {trainer.tokens_seen:,} tokens "
          f"({metrics['tokens_per_second']:,.0f} tok/s)\n  best validation perplexity {trainer.best_ppl:.2f}, "
          f"test perplexity {test_ppl:.2f}")
    return path


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    d = TrainConfig()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--corpus-dir", type=Path, default=d.corpus_dir, help="directory with train/valid/test.txt")
    p.add_argument("--models-dir", type=Path, default=d.models_dir, help="where model versions are written")
    p.add_argument("--cell", choices=sorted(CELLS), default=d.cell, help="recurrent cell")
    p.add_argument("--embedding-size", type=int, default=d.embedding_size, help="word embedding width")
    p.add_argument("--hidden-size", type=int, default=d.hidden_size, help="recurrent state width")
    p.add_argument("--num-layers", type=int, default=d.num_layers, help="stacked recurrent layers")
    p.add_argument("--dropout", type=float, default=d.dropout, help="dropout on embeddings and outputs")
    p.add_argument("--tie-weights", action="store_true", help="share embedding and output weights (full softmax)")
    p.add_argument("--full-softmax", dest="adaptive_softmax", action="store_false",
                   help="a plain softmax over the whole vocabulary instead of the adaptive one")
    p.add_argument("--vocab-size", type=int, default=d.vocab_size, help="largest vocabulary, specials included")
    p.add_argument("--min-frequency", type=int, default=d.min_frequency, help="rarer words become <unk>")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="passages per batch")
    p.add_argument("--bptt", type=int, default=d.bptt, help="truncated-BPTT window, in tokens")
    p.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate at the start")
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
    p.add_argument("--dry-run", action="store_true", help="smoke run: tiny model, 1 epoch of 3 batches")
    args = vars(p.parse_args(argv))
    if args.pop("dry_run"):
        args.update(embedding_size=16, hidden_size=16, epochs=1, max_batches=3, vocab_size=min(args["vocab_size"], 500))
    known = {f.name for f in fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in args.items() if k in known})


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    cfg = parse_args(argv)
    try:
        train(cfg)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
