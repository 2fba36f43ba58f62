"""Next-word prediction with a loaded model version: the one place the API, CLI and tests share.

    python -m model.predict "the clouds are in the" -k 5 --models-dir models
    python -m model.predict "I speak fluent" --prefix Fr
    python -m model.predict "$(cat chapter.txt)" --no-cache      # without the version's document cache
    python -m model.predict "Once upon a time" --generate 30 --seed 1

A prompt starts from the same zero state as every training passage. The recurrent state after
a prompt fully determines the next-word distribution (in eval mode the output at the last
position is the top layer's h), so a caller may keep that state and later feed only the new
words: `predict(new_words, state=previous.state)` gives what `predict(whole_text)` gives.
"""
from __future__ import annotations

import argparse
import bisect
import functools
import json
import math
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from model.cache import CacheSettings, CacheView, CacheWords, DocumentCache, Rows, entropy, load_settings
from model.checkpoint import LoadedModel, load_latest
from model.fast_step import NumpyRecurrence, NumpyTopK
from model.ngram import load_version_ngram
from model.rnn_lm import State
from model.tokenizer import TYPOGRAPHIC_QUOTES, is_word

# Up to this many new tokens run one step at a time in numpy (model/fast_step.py): a fused
# nn.GRU/LSTM call carries a fixed overhead, and a client typing word by word sends one or two at a
# time. More run there only where the recurrence says it is faster at any length
# (NumpyRecurrence.steps_win_at_any_length: one layer with its input table, as the default model):
# a fused call reads every layer's W_ih once for all the inputs, numpy steps read the upper layers'
# per token. One thread, 2026-11-27 (random weights, `timeit`): the default GRU 1x256, 50 tokens in
# 0.90 ms against 1.57 fused; a GRU 1x512 with 10k words 2.9 against 6.1 ms; an LSTM 2x650 (no
# table) 3 tokens 4.6 against 7.6 ms, but 8 tokens 12.3 against 8.4 and 50 tokens 74 against 19.
CELL_STEPS_UP_TO = 3

# Prompts up to this long (the word or two typed since the last request) have their token ids
# cached, the most recent SHORT_PROMPTS_CACHED of them: under load the tokenizer's tables are out
# of cache and a one-word lookup cost ~30 µs of a ~700 µs request (py-spy, 2026-11-27). Bounded
# in count and length, so at most a few MB.
SHORT_PROMPT_CHARS = 64
SHORT_PROMPTS_CACHED = 4096

LINE_BREAK = "\n"
# Tokens that attach to the word before them when generated text is written out.
CLOSING_PUNCTUATION = set(".,;:!?)]}%'\"") | {"'s", "n't", "'re", "'ve", "'ll", "'d", "'m"}


# Below this a temperature is treated as 0: greedy, the likeliest token every time. At 1e-6 the
# probability left to any other token is already below e^-40 unless two tokens are tied to within
# ~4e-5 in log-probability; under ~1e-38 (measured) dividing the float32 log-probabilities by it
# overflows to -inf or NaN everywhere and sampling fails.
GREEDY_BELOW_TEMPERATURE = 1e-6


class EmptyPromptError(ValueError):
    """The prompt holds no token the model can read, and no state was given to continue from."""


@dataclass(frozen=True)
class Prediction:
    word: str
    probability: float


@dataclass(frozen=True)
class PredictResult:
    predictions: list[Prediction]
    state: State  # the recurrent state after the prompt; batch size 1
    tokens: int  # prompt tokens read


@dataclass(frozen=True)
class MixtureParts:
    """The next-word mixture at one state, before any prefix: the model's probabilities and the document
    cache's view (model/cache.py). Ranking them for one prefix is a fraction of computing them, and a
    client typing a word's letters asks again at the same state with each longer prefix: the service
    keeps these per state token (service/api.py) so that each letter only filters."""
    probs: np.ndarray  # (V,) float32: p_model
    view: CacheView


@dataclass(frozen=True)
class Generation:
    words: list[str]  # generated tokens in display form; punctuation and line breaks ("\n") included
    text: str  # the same, written out with punctuation attached
    seed: int
    tokens: int  # prompt tokens read


class Predictor:
    """Top-k next words, prefix completion, incremental state and sampling, under inference mode."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.model = loaded.model.eval()
        self.tokenizer = loaded.tokenizer
        # Never offer <unk>, <eos>, <pad> or punctuation as a next word.
        self.offerable = torch.tensor(self.tokenizer.word_mask())
        self._offerable_ids = torch.nonzero(self.offerable).squeeze(1)
        self._offerable_mask, self._offerable_ids_np = self.offerable.numpy(), self._offerable_ids.numpy()
        # Offerable words sorted by their lower-cased spelling: a prefix selects a contiguous range
        # by bisection instead of a scan of the vocabulary per request, whatever its case (and
        # whether or not the vocabulary keeps case).
        vocab = self.tokenizer.tokenizer.get_vocab()
        words = sorted((token.lower(), i) for token, i in vocab.items() if self.offerable[i])
        self._sorted_words = [w for w, _ in words]
        self._sorted_ids = torch.tensor([i for _, i in words], dtype=torch.long)
        # Sampling may produce words, punctuation and <eos> (a line break), never <unk> or <pad>.
        self.samplable = torch.ones(self.tokenizer.vocab_size, dtype=torch.bool)
        self.samplable[[self.tokenizer.unk_id, self.tokenizer.pad_id]] = False
        # With an adaptive softmax: the offerable words of its head (see _top_from_head).
        shortlist = getattr(self.model.output, "shortlist_size", None)
        self._offerable_in_head = self._offerable_ids[self._offerable_ids < shortlist] if shortlist else None
        if shortlist:  # and of each tail cluster (ids cutoffs[i] up to cutoffs[i + 1])
            bounds = self.model.output.cutoffs
            self._tail_starts = bounds[:-1]
            self._offerable_in_tail = [self._offerable_ids[(self._offerable_ids >= lo) & (self._offerable_ids < hi)]
                                       for lo, hi in zip(bounds[:-1], bounds[1:])]
        self._state_shape = self.state_shape()
        self._encode_short = _cached_encoder(self.tokenizer.encode, SHORT_PROMPTS_CACHED)
        # The numpy hot path, where the model is one it reproduces exactly (float32); else None.
        self._recurrence = NumpyRecurrence.build(self.model)
        self._numpy_top = NumpyTopK.build(self.model, self._offerable_ids.numpy())
        # The document cache's settings saved with this version (model/cache.py); off for older versions.
        self.cache_settings = load_settings(loaded.path)
        # Its n-gram model (model/ngram.py), blended in where the cache settings give it a weight; else None.
        self.ngram = load_version_ngram(loaded.path)

    @property
    def version(self) -> str:
        return self.loaded.version

    def state_shape(self) -> tuple[int, ...]:
        """(parts, num_layers, 1, hidden): parts is 2 for an LSTM's (h, c), else 1."""
        cfg = self.model.config
        return (2 if cfg.cell == "lstm" else 1, cfg.num_layers, 1, cfg.hidden_size)

    def state_to_array(self, state: State) -> np.ndarray:
        """State → one float32 array (parts, num_layers, 1, hidden), as a state token carries it."""
        if isinstance(state, tuple):
            return np.stack([part.detach().numpy() for part in state])
        return state.detach().numpy()[None]  # a view: no copy for one part

    def array_to_state(self, packed: np.ndarray) -> State:
        """The inverse of state_to_array (float32, C order); ValueError if the shape is not this model's."""
        if packed.shape != self._state_shape:
            raise ValueError(f"state has shape {packed.shape}, this model needs {self._state_shape}")
        if len(packed) == 2:  # an LSTM's (h, c)
            return torch.from_numpy(packed[0]), torch.from_numpy(packed[1])
        return torch.from_numpy(packed[0])

    def encode(self, prompt: str) -> Sequence[int]:
        """The prompt's token ids (from the cache when it is short)."""
        return self._encode_short(prompt) if len(prompt) <= SHORT_PROMPT_CHARS else self.tokenizer.encode(prompt)

    def encode_with_spellings(self, prompt: str) -> tuple[list[int], list[str | None]]:
        """The prompt's token ids, and beside each <unk> the word as written there (None elsewhere):
        what the document cache copies when the model never learned the word."""
        encoding = self.tokenizer.tokenizer.encode(prompt, add_special_tokens=False)
        unk = self.tokenizer.unk_id
        return encoding.ids, [prompt[a:b] if i == unk else None for i, (a, b) in zip(encoding.ids, encoding.offsets)]

    def new_cache(self, settings: CacheSettings | None = None,
                  new_rows: Callable[[int, int], Rows] | None = None) -> DocumentCache:
        """An empty document cache for this model (its saved settings unless others are given; its rows
        in this process unless new_rows makes them elsewhere)."""
        return DocumentCache(settings or self.cache_settings, self.model.config.hidden_size, self.tokenizer.unk_id, new_rows)

    def read(self, ids: Sequence[int], state: State | None, cache: DocumentCache,
             spellings: Sequence[str | None] | None = None) -> State:
        """advance, remembering each (hidden state, next word) pair in the cache. A pair needs the
        hidden state before its word, so the first word of a document (from the zero state) adds none,
        exactly as when the same text arrives in pieces."""
        if not ids:
            return self.advance(ids, state)
        before = None if state is None else self._output(state).numpy().copy()  # (H,)
        state, outputs = self._advance_collecting(ids, state)  # outputs (n, H): h after each id
        keys = outputs[:-1] if before is None else np.concatenate([before[None], outputs[:-1]])
        words = list(ids[1:]) if before is None else list(ids)
        marks = list(spellings) if spellings is not None else [None] * len(ids)
        cache.add(keys, words, marks[1:] if before is None else marks)
        return state

    def _advance_collecting(self, ids: Sequence[int], state: State | None) -> tuple[State, np.ndarray]:
        """The new state, and the top layer's h after each id: (n, H) float32."""
        steps = self._recurrence
        if steps is not None and (len(ids) <= CELL_STEPS_UP_TO or steps.steps_win_at_any_length):
            state = self.model.initial_state(1) if state is None else state
            outputs = []
            for token in ids:
                state = steps.advance([token], state)
                outputs.append(self._output(state).numpy().copy())
            return state, np.stack(outputs)
        with torch.inference_mode():
            out, state = self.model.encode(torch.tensor([list(ids)], dtype=torch.long), state)  # (1, n, H)
        return state, out[0].numpy().copy()

    def advance(self, ids: Sequence[int], state: State | None = None) -> State:
        """Run the recurrence over `ids` from `state` (zero state if None); return the new state."""
        if not ids:
            if state is None:
                raise EmptyPromptError("the prompt has no words")
            return state
        steps = self._recurrence
        if steps is not None and (len(ids) <= CELL_STEPS_UP_TO or steps.steps_win_at_any_length):
            return steps.advance(ids, self.model.initial_state(1) if state is None else state)
        return self._encode(ids, state)

    @torch.inference_mode()
    def _encode(self, ids: Sequence[int], state: State | None) -> State:
        _, state = self.model.encode(torch.tensor([ids], dtype=torch.long), state)  # ids as (1, T)
        return state

    @staticmethod
    def _output(state: State) -> torch.Tensor:
        """(H,): the top layer's h, which in eval mode is the output at the last position."""
        h = state[0] if isinstance(state, tuple) else state  # (layers, 1, H)
        return h[-1, 0]

    @torch.inference_mode()
    def next_word_probabilities(self, state: State) -> torch.Tensor:
        """(V,) probabilities of the next token given the state: only the last position is projected."""
        return self.model.log_probs(self._output(state)).exp()

    @torch.inference_mode()
    def top_k(self, probs: torch.Tensor, k: int, prefix: str | None = None) -> list[Prediction]:
        """The k most likely offerable words; with a prefix, only words starting with it,
        their probabilities renormalised to sum to 1 over the words that match."""
        if prefix:
            ids = self._prefix_ids(prefix)
            if ids.numel() == 0:
                return []
            candidates = probs[ids]
            candidates = candidates / candidates.sum().clamp_min(1e-30)
        else:
            ids = self._offerable_ids
            candidates = probs[ids]
        top = torch.topk(candidates, min(k, candidates.numel()))
        forms = self.tokenizer.display_forms
        chosen = ids[top.indices].tolist()
        return [Prediction(forms[i], round(float(p), 6)) for p, i in zip(top.values.tolist(), chosen)]

    def _prefix_ids(self, prefix: str) -> torch.Tensor:
        key = normalize_prefix(prefix)
        lo = bisect.bisect_left(self._sorted_words, key)
        hi = bisect.bisect_left(self._sorted_words, key + "\U0010ffff")
        return self._sorted_ids[lo:hi]

    def predict(self, prompt: str, k: int = 5, prefix: str | None = None, state: State | None = None,
                cache: DocumentCache | None = None, exclude: Collection[str] = ()) -> PredictResult:
        """Top-k next words after `prompt`, continuing from `state` when given. With a document cache
        the prompt's words are added to it (it is changed in place) and the predictions mix it in."""
        if cache is None:
            ids = self.encode(prompt)
            state = self.advance(ids, state)
        else:
            ids, spellings = self.encode_with_spellings(prompt)
            state = self.read(ids, state, cache, spellings)
        return PredictResult(self.top_words(state, k, prefix, cache, exclude), state, len(ids))

    def top_words(self, state: State, k: int, prefix: str | None = None,
                  cache: DocumentCache | None = None, exclude: Collection[str] = ()) -> list[Prediction]:
        """The top k after `state`: with an adaptive softmax from the head and only the tail clusters
        that can hold one of them (the same answer as the full distribution), else from the full one;
        in numpy where the model allows (model/fast_step.py). With a non-empty document cache: from
        the whole mixed distribution, words copied from the document included. Words in `exclude`
        (any case: those a typist was shown for this word and passed over) are not offered."""
        if exclude:
            return without(self.top_words(state, k + len(exclude), prefix, cache), exclude, k)
        if cache is not None and cache.pairs_in_use and cache.settings.enabled:
            parts = self.mixture_parts(state, cache)
            if parts is not None:
                return self.top_from_parts(parts, k, prefix)
            return self.top_from_mixture(self.mixed_distribution(state, cache), k, prefix)
        if not prefix and self._numpy_top is not None:
            forms = self.tokenizer.display_forms
            return [Prediction(forms[i], round(p, 6)) for i, p in self._numpy_top.top(self._hidden(state), k)]
        return self._top_words_torch(state, k, prefix)

    @torch.inference_mode()
    def _top_words_torch(self, state: State, k: int, prefix: str | None) -> list[Prediction]:
        if not prefix:
            quick = self._top_from_head(state, k)
            if quick is not None:
                return quick
        return self.top_k(self.next_word_probabilities(state), k, prefix)

    @staticmethod
    def _hidden(state: State) -> np.ndarray:
        """(H,) float32: _output as a numpy view, without a torch call."""
        return (state[0] if isinstance(state, tuple) else state).numpy()[-1, 0]

    def mixture_parts(self, state: State, cache: DocumentCache) -> MixtureParts | None:
        """What ranking the mixture after `state` needs (the model's probabilities and the cache's view),
        to be ranked by top_from_parts for any prefix; None where top_words does not use it (no numpy
        path, or an empty or disabled cache)."""
        if self._numpy_top is None or not cache.pairs_in_use or not cache.settings.enabled:
            return None
        hidden = self._hidden(state)
        probs, model_entropy = self._numpy_top.distribution(hidden)  # (V,) float32, nats
        model_entropy = model_entropy if cache.settings.entropy_scale > 0 else 0.0
        probs = self.with_ngram(probs, cache).astype(np.float32, copy=False)
        return MixtureParts(probs, cache.view(hidden, model_entropy, float(probs[self.tokenizer.unk_id])))

    def with_ngram(self, probs: np.ndarray, cache: DocumentCache) -> np.ndarray:
        """p_model (V,): the recurrent model's probabilities with the version's n-gram model blended in at
        the cache settings' ngram_weight μ, its context the last words the cache holds (model/cache.py);
        `probs` itself where there is no n-gram model or μ is 0."""
        mu = cache.settings.ngram_weight
        if self.ngram is None or mu <= 0:
            return probs
        context = cache.words[-(self.ngram.order - 1):].tolist() if self.ngram.order > 1 else []  # all, if fewer
        return self.ngram.blend(probs, context, mu)

    def top_from_parts(self, parts: MixtureParts, k: int, prefix: str | None = None,
                       exclude: Collection[str] = ()) -> list[Prediction]:
        """top_from_mixture(mixed_distribution(...)) without the mixture over the whole vocabulary: a word
        the cache gives nothing ranks as the model ranks it, so the k best of the mixture are among the
        model's k best and the cache's words (model/cache.py, DocumentCache.view)."""
        if exclude:
            return without(self.top_from_parts(parts, k + len(exclude), prefix), exclude, k)
        probs, view = parts.probs, parts.view
        if prefix:
            ids = self._prefix_ids(prefix).numpy()  # (n,)
            allowed = np.zeros(len(probs), dtype=bool)
            allowed[ids] = True
        else:
            ids, allowed = self._offerable_ids_np, self._offerable_mask
        copied = self._copied(view.unknown, prefix)
        if not len(ids) and not copied:
            return []
        in_cache = allowed[view.words]
        cache_ids, cache_mass = view.words[in_cache], view.mass[in_cache]  # (c,), ids ascending
        model_part = probs[ids]  # (n,)
        best = ids[np.argpartition(-model_part, k - 1)[:k]] if len(ids) > k else ids
        candidates = np.union1d(best, cache_ids)  # ascending
        at = np.minimum(np.searchsorted(cache_ids, candidates), max(len(cache_ids) - 1, 0))
        added = np.where(cache_ids[at] == candidates, cache_mass[at], 0.0) if len(cache_ids) else 0.0
        mixed = (1 - view.share) * probs[candidates].astype(np.float64) + added  # (m,)
        top = np.argsort(-mixed, kind="stable")[:k]
        forms = self.tokenizer.display_forms
        ranked = sorted([(forms[i], p) for i, p in zip(candidates[top].tolist(), mixed[top].tolist())] + copied,
                        key=lambda pair: -pair[1])
        total = ((1 - view.share) * float(model_part.sum(dtype=np.float64)) + float(cache_mass.sum())
                 + sum(p for _, p in copied)) if prefix else 1.0
        return [Prediction(word, round(p / max(total, 1e-30), 6)) for word, p in ranked[:k]]

    @staticmethod
    def _copied(unknown: dict[str, tuple[str, float]], prefix: str | None) -> list[tuple[str, float]]:
        """The copied words (model/cache.py) a prefix allows, as (spelling, probability)."""
        key = normalize_prefix(prefix) if prefix else ""
        return [(spelling, p) for lowered, (spelling, p) in unknown.items() if lowered.startswith(key) and is_word(spelling)]

    def mixed_distribution(self, state: State, cache: DocumentCache) -> CacheWords:
        """The model's next-word distribution after `state` with the document cache (and the n-gram model,
        with_ngram) mixed in; the model's alone while the cache has no pair in use."""
        probs = self.next_word_probabilities(state).numpy().astype(np.float64)
        if not cache.pairs_in_use or not cache.settings.enabled:
            return CacheWords(probs, {})
        model_entropy = float(entropy(probs)) if cache.settings.entropy_scale > 0 else 0.0
        return cache.mix(self.with_ngram(probs, cache), self._output(state).numpy(), model_entropy)

    def top_from_mixture(self, mixed: CacheWords, k: int, prefix: str | None = None,
                         exclude: Collection[str] = ()) -> list[Prediction]:
        """The k likeliest offerable words of a distribution over the vocabulary plus copied words
        (model/cache.py); with a prefix only words starting with it, renormalised over those; none of
        `exclude` (as top_words)."""
        if exclude:
            return without(self.top_from_mixture(mixed, k + len(exclude), prefix), exclude, k)
        ids = (self._prefix_ids(prefix) if prefix else self._offerable_ids).numpy()
        copied = self._copied(mixed.unknown, prefix)
        if not len(ids) and not copied:
            return []
        in_vocab = mixed.probs[ids]  # (n,)
        best = np.argpartition(-in_vocab, k - 1)[:k] if len(ids) > k else np.arange(len(ids))
        forms = self.tokenizer.display_forms
        candidates = [(forms[ids[i]], float(in_vocab[i])) for i in best] + copied
        candidates.sort(key=lambda pair: -pair[1])
        total = float(in_vocab.sum()) + sum(p for _, p in copied) if prefix else 1.0
        return [Prediction(word, round(p / max(total, 1e-30), 6)) for word, p in candidates[:k]]

    @torch.inference_mode()
    def _top_from_head(self, state: State, k: int) -> list[Prediction] | None:
        """With an adaptive softmax: the exact top k, computing only the tail clusters that can hold one.

        A tail word's probability is at most its cluster's (head) probability, so a cluster whose
        probability is below the k-th best candidate so far cannot contribute; clusters are tried
        from the most likely down. Usually the head alone settles it. None without an adaptive softmax.
        """
        ids = self._offerable_in_head
        if ids is None or ids.numel() < k:
            return None
        hidden = self._output(state)  # (H,)
        shortlist, clusters = self.model.head_log_probs(hidden)  # (S,), (C,)
        best = torch.topk(shortlist[ids], k)
        values, chosen = best.values, ids[best.indices]  # (k,) log-probs, (k,) word ids
        cluster_log_probs = clusters.tolist()  # a handful: compared as Python floats, not tensors
        for cluster in sorted(range(len(cluster_log_probs)), key=cluster_log_probs.__getitem__, reverse=True):
            if cluster_log_probs[cluster] <= float(values[-1]):
                break  # neither this cluster nor any less likely one can beat the k-th word
            tail_ids = self._offerable_in_tail[cluster]
            if tail_ids.numel() == 0:
                continue
            words = self.model.tail_log_probs(hidden, cluster, clusters[cluster])  # (size,)
            merged_values = torch.cat([values, words[tail_ids - self._tail_starts[cluster]]])
            merged_ids = torch.cat([chosen, tail_ids])
            best = torch.topk(merged_values, k)
            values, chosen = best.values, merged_ids[best.indices]
        forms = self.tokenizer.display_forms
        return [Prediction(forms[i], round(float(p), 6)) for p, i in zip(values.exp().tolist(), chosen.tolist())]

    @torch.inference_mode()
    def generate(
        self, prompt: str, max_words: int = 20, temperature: float = 1.0, top_k: int | None = None,
        seed: int | None = None, state: State | None = None,
    ) -> Generation:
        """Continue the prompt by sampling `max_words` tokens; the same seed gives the same text.

        A temperature below GREEDY_BELOW_TEMPERATURE is its limit towards 0: greedy decoding.
        """
        if temperature < GREEDY_BELOW_TEMPERATURE:
            # Without dividing by it: only the likeliest token (ties share the draw).
            temperature, top_k = 1.0, 1
        if seed is None:
            seed = int(torch.randint(0, 2**31 - 1, (1,)).item())
        generator = torch.Generator().manual_seed(seed)
        ids = self.encode(prompt)
        state = self.advance(ids, state)
        forms, eos = self.tokenizer.display_forms, self.tokenizer.eos_id
        words: list[str] = []
        for _ in range(max_words):
            logits = self.next_word_probabilities(state).clamp_min(1e-30).log() / temperature  # (V,)
            logits = logits.masked_fill(~self.samplable, -math.inf)
            if top_k is not None and top_k < logits.numel():
                threshold = torch.topk(logits, top_k).values[-1]
                logits = logits.masked_fill(logits < threshold, -math.inf)
            next_id = int(torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator))
            # The end of a line in training text: written as a line break, and the text goes on.
            words.append(LINE_BREAK if next_id == eos else forms[next_id])
            state = self.advance([next_id], state)
        return Generation(words, join_words(words), seed, len(ids))


def _cached_encoder(encode: Callable[[str], list[int]], size: int) -> Callable[[str], tuple[int, ...]]:
    """encode, remembering its last `size` answers (tuples: one answer is shared by every caller)."""
    @functools.lru_cache(maxsize=size)
    def cached(text: str) -> tuple[int, ...]:
        return tuple(encode(text))
    return cached


def without(predictions: list[Prediction], exclude: Collection[str], k: int) -> list[Prediction]:
    """The first k predictions whose word is not in `exclude`, compared case-insensitively (a word has one
    display form, so k + len(exclude) predictions hold k that remain, where there are that many)."""
    skip = {word.lower() for word in exclude}
    return [p for p in predictions if p.word.lower() not in skip][:k]


def normalize_prefix(prefix: str) -> str:
    """The letters typed so far as the tokenizer reads them: NFKC, plain quotes, lower case."""
    key = unicodedata.normalize("NFKC", prefix)
    for typographic, plain in TYPOGRAPHIC_QUOTES.items():
        key = key.replace(typographic, plain)
    return key.lower()


def join_words(words: list[str]) -> str:
    """Tokens → text: closing punctuation and clitics attach to the word before them."""
    text = ""
    for word in words:
        glued = not text or word in CLOSING_PUNCTUATION or word == LINE_BREAK or text.endswith(LINE_BREAK)
        text += word if glued else " " + word
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description="Print the top-k next words for a prompt, or continue it.")
    parser.add_argument("prompt", help="the text so far")
    parser.add_argument("-k", type=int, default=5, help="how many words")
    parser.add_argument("--prefix", help="only words starting with this (the word being typed)")
    parser.add_argument("--generate", type=int, metavar="N", help="sample N words instead of predicting")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    parser.add_argument("--seed", type=int, help="sampling seed (same seed, same text)")
    parser.add_argument("--models-dir", type=Path, default=Path("models"), help="folder of model versions (newest is used)")
    parser.add_argument("--no-cache", action="store_true", help="predict without the version's document cache")
    args = parser.parse_args()
    predictor = Predictor(load_latest(args.models_dir))
    use_cache = predictor.cache_settings.enabled and not args.no_cache
    try:
        if args.generate:
            g = predictor.generate(args.prompt, args.generate, args.temperature, seed=args.seed)
            out = {"text": g.text, "words": g.words, "seed": g.seed, "model": predictor.version}
        else:
            result = predictor.predict(args.prompt, args.k, args.prefix, cache=predictor.new_cache() if use_cache else None)
            out = {"predictions": [p.__dict__ for p in result.predictions], "model": predictor.version, "cache": use_cache}
    except EmptyPromptError as e:
        parser.exit(2, f"error: {e}\n")
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
