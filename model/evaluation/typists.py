"""Who types in the real-text evaluation, each a document at a time, token by token:

- NeuralTypist: what the service suggests, the Predictor's state carried with its document cache;
- NgramTypist: the baseline keyboards use, a 5-gram Kneser-Ney model over the same vocabulary mixed
  with a recency cache of the document's words (Presage's recency predictor), its weight and decay
  tuned by perplexity on validation text as the neural cache's settings are (tune_recency).

Both give `suggester(n)` (the words shown for each prefix of the word being typed), `top(n)` and
`ending_probabilities(words)` (for ranking a passage's last word: model/evaluation/lambada.py).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from model.cache import CacheSettings, CacheWords
from model.ngram import KneserNeyLM
from model.predict import Prediction, Predictor
from model.rnn_lm import State

# (the letters typed so far, "" before the first; the words shown for this word and passed over) → suggested words
Suggest = Callable[[str, Collection[str]], list[str]]


class NeuralTypist:
    """What the service suggests while a document is typed: the Predictor's state carried token by token,
    with the version's document cache (or the one given; OFF: none) remembering the document so far."""

    def __init__(self, predictor: Predictor, cache: CacheSettings | None = None) -> None:
        self.predictor = predictor
        self.settings = predictor.cache_settings if cache is None else cache
        self.start()

    def start(self) -> None:
        """A new document: the zero state and an empty cache."""
        self.state: State | None = None
        self.cache = self.predictor.new_cache(self.settings) if self.settings.enabled else None

    def feed(self, ids: Sequence[int], spellings: Sequence[str | None]) -> None:
        if self.cache is None:
            self.state = self.predictor.advance(ids, self.state) if ids else self.state
        else:
            self.state = self.predictor.read(ids, self.state, self.cache, spellings)

    def _state(self) -> State:
        return self.state if self.state is not None else self.predictor.model.initial_state(1)

    def top(self, n: int) -> list[Prediction]:
        """The n likeliest next words after the text fed so far, as the service ranks them."""
        return self.predictor.top_words(self._state(), n, cache=self.cache)

    @torch.inference_mode()
    def ending_probabilities(self, words: Sequence[str]) -> np.ndarray:
        """(n,): for each word, the model's probability (without the cache) that the token after it is not a
        word (punctuation or a line end), each word read from the current state in one batch."""
        if not words:
            return np.zeros(0)
        predictor = self.predictor
        ids = torch.tensor([[word_id(predictor, w)] for w in words], dtype=torch.long)  # (n, 1)
        state = self._state()
        batch = tuple(part.expand(-1, len(words), -1).contiguous() for part in state) if isinstance(state, tuple) \
            else state.expand(-1, len(words), -1).contiguous()  # (layers, n, H)
        out, _ = predictor.model.encode(ids, batch)  # (n, 1, H)
        probs = predictor.model.log_probs(out[:, 0]).exp().numpy()  # (n, V)
        return probs[:, ending_mask(predictor)].sum(axis=1)

    def suggester(self, n: int) -> Suggest:
        """Suggestions after the text fed so far: with no prefix the service's own top_words; with one,
        the next-word distribution (with the cache) computed once at the first such call, then by prefix."""
        predictor, cache = self.predictor, self.cache
        state = self._state()
        mixture: list[CacheWords] = []

        def suggest(prefix: str, passed_over: Collection[str] = ()) -> list[str]:
            if not prefix:
                return [p.word for p in predictor.top_words(state, n, cache=cache, exclude=passed_over)]
            if not mixture:
                mixture.append(predictor.mixed_distribution(state, cache) if cache is not None
                               else CacheWords(predictor.next_word_probabilities(state).numpy(), {}))
            return [p.word for p in predictor.top_from_mixture(mixture[0], n, prefix, passed_over)]
        return suggest


@dataclass(frozen=True)
class RecencySettings:
    weight: float = 0.1  # share of the recency cache in the mixture
    decay: float = 0.995  # a word's weight is decay ** (tokens since it was written)
    window: int = 2000  # tokens remembered


class NgramTypist:
    """The baseline keyboards use: the 5-gram Kneser-Ney model (model/evaluation/ngram.py) over the same
    vocabulary, mixed with a recency cache of the words written so far in the document (decaying with
    age; words outside the vocabulary copied as written, as Presage's recency predictor does)."""

    def __init__(self, predictor: Predictor, ngram: KneserNeyLM, recency: RecencySettings = RecencySettings()) -> None:
        self.predictor, self.ngram, self.recency = predictor, ngram, recency
        self.offerable = predictor.offerable.numpy()
        self.start()

    def start(self) -> None:
        self.history: list[int] = []
        self.spellings: list[str | None] = []

    def feed(self, ids: Sequence[int], spellings: Sequence[str | None]) -> None:
        keep = self.recency.window
        self.history = (self.history + list(ids))[-keep:]
        self.spellings = (self.spellings + list(spellings))[-keep:]

    def mixture(self) -> CacheWords:
        probs = self.ngram.distribution(self.history[-(self.ngram.order - 1):] if self.ngram.order > 1 else [])
        words = np.asarray(self.history, dtype=np.int64)
        if not len(words) or self.recency.weight <= 0:
            return CacheWords(probs, {})
        ages = len(words) - 1 - np.arange(len(words))
        weights = self.recency.decay ** ages.astype(np.float64)
        unk = self.predictor.tokenizer.unk_id
        weights[~(self.offerable[words] | (words == unk))] = 0.0  # words only: no punctuation, no <eos>
        if weights.sum() <= 0:
            return CacheWords(probs, {})
        weights /= weights.sum()
        lam = self.recency.weight
        recent = np.bincount(words, weights=weights, minlength=len(probs))
        unknown: dict[str, tuple[str, float]] = {}
        for i in np.flatnonzero(words == unk):
            spelling = self.spellings[i]
            if spelling:
                _, before = unknown.get(spelling.lower(), (spelling, 0.0))
                unknown[spelling.lower()] = (spelling, before + lam * weights[i])
        recent[unk] = 0.0
        return CacheWords((1 - lam) * probs + lam * recent, unknown)

    def top(self, n: int) -> list[Prediction]:
        return self.predictor.top_from_mixture(self.mixture(), n)

    def ending_probabilities(self, words: Sequence[str]) -> np.ndarray:
        """(n,): as NeuralTypist's, under the n-gram model (without the recency cache)."""
        context = self.history[-(self.ngram.order - 2):] if self.ngram.order > 2 else []
        mask = ending_mask(self.predictor)
        return np.array([self.ngram.distribution(context + [word_id(self.predictor, w)])[mask].sum() for w in words])

    def suggester(self, n: int) -> Suggest:
        mixture: list[CacheWords] = []

        def suggest(prefix: str, passed_over: Collection[str] = ()) -> list[str]:
            if not mixture:
                mixture.append(self.mixture())
            return [p.word for p in self.predictor.top_from_mixture(mixture[0], n, prefix or None, passed_over)]
        return suggest


Typist = NeuralTypist | NgramTypist


def word_id(predictor: Predictor, word: str) -> int:
    """A suggested word's vocabulary id; <unk> for a word copied from the text (outside the vocabulary)."""
    ids = predictor.tokenizer.encode(word.lower())
    return ids[0] if len(ids) == 1 else predictor.tokenizer.unk_id


def ending_mask(predictor: Predictor) -> np.ndarray:
    """(V,) bool: the tokens that are not words (punctuation, <eos>), <unk> and <pad> left out."""
    mask = ~predictor.offerable.numpy()
    mask[[predictor.tokenizer.unk_id, predictor.tokenizer.pad_id]] = False
    return mask


RECENCY_WEIGHTS = (0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)


RECENCY_DECAYS = (0.98, 0.99, 0.995, 0.998, 0.999, 1.0)


def recency_target_probs(passage: Sequence[int], counted: np.ndarray, decay: float,
                         window: int = RecencySettings.window) -> tuple[np.ndarray, np.ndarray]:
    """For each position t ≥ 1 of a passage: the recency cache's probability of the token at t (its
    decayed count among the last `window` tokens before it over their decayed total), and whether any
    word is among them (else NgramTypist gives the 5-gram alone). `counted` (V,) marks the ids the cache
    holds (words and <unk>, as NgramTypist). Lazy decay: each id keeps (value, when), so a passage costs
    one pass; a token leaving the window takes its weight, decay ** window by then, with it."""
    values: dict[int, tuple[float, int]] = {}
    total, leaving = 0.0, decay ** window

    def bump(token: int, t: int, amount: float) -> None:
        value, at = values.get(token, (0.0, t))
        values[token] = (value * decay ** (t - at) + amount, t)

    probs, seen = np.zeros(max(len(passage) - 1, 0)), np.zeros(max(len(passage) - 1, 0), dtype=bool)
    for t in range(1, len(passage)):
        total *= decay
        if counted[passage[t - 1]]:
            bump(int(passage[t - 1]), t, 1.0)
            total += 1.0
        if t - 1 - window >= 0 and counted[passage[t - 1 - window]]:
            bump(int(passage[t - 1 - window]), t, -leaving)
            total -= leaving
        seen[t - 1] = total > 1e-12
        entry = values.get(int(passage[t]))
        if entry is not None and seen[t - 1]:
            probs[t - 1] = max(entry[0] * decay ** (t - entry[1]), 0.0) / total
    return probs, seen


def tune_recency(ngram: KneserNeyLM, predictor: Predictor, passages: list[list[int]]) -> tuple[RecencySettings, dict]:
    """The baseline's recency weight and decay with the lowest perplexity on validation passages, each
    passage a document: the neural cache is tuned the same way (model/evaluation/cache_scoring.py), so
    neither system is compared with settings the other did not get. Returns the settings and the grid."""
    passages = [p for p in passages if len(p) > 1]
    window = RecencySettings.window
    ngram_probs = ngram.target_probabilities(passages)  # (N,) in passage order, each passage's positions after its first
    counted = predictor.offerable.numpy() | (np.arange(predictor.tokenizer.vocab_size) == predictor.tokenizer.unk_id)
    grid, best = {}, (math.inf, RecencySettings())
    for decay in RECENCY_DECAYS:
        per_passage = [recency_target_probs(p, counted, decay, window) for p in passages]
        recent, seen = (np.concatenate(parts) for parts in zip(*per_passage))
        for weight in RECENCY_WEIGHTS:
            mixed = np.where(seen, (1 - weight) * ngram_probs + weight * recent, ngram_probs)
            perplexity = math.exp(float(-np.log(mixed).mean()))
            grid[f"{weight}/{decay}"] = round(perplexity, 3)
            if perplexity < best[0]:
                best = (perplexity, RecencySettings(weight=weight, decay=decay, window=window))
    without = math.exp(float(-np.log(ngram_probs).mean()))
    return best[1], {"perplexity": round(best[0], 3), "perplexity_without_recency": round(without, 3),
                     "tokens": len(ngram_probs), "grid": grid}
