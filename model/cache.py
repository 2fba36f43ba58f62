"""The document cache: a continuous cache over the text typed so far (Grave, Joulin & Usunier 2017).

A recurrent state carries a little information a long way, but in practice the model uses the last
few hundred words and forgets the rest. The cache remembers the rest without training: it keeps the
last W pairs (h_i, x_{i+1}) of one document, the top layer's hidden state after word i with the word
that followed it, and mixes

    p(w | h_t) = (1 - λ) p_model(w | h_t) + λ p_cache(w | h_t)
    p_cache(w | h_t) ∝ Σ_{i ≤ t-1, x_{i+1} = w} exp(θ h_t · h_i)

so a word that followed contexts like this one earlier in the document gains probability.

Words the model never learned: a pair whose word was outside the vocabulary (<unk> to the model)
keeps the word as it was written. With `copy_unknown` its cache mass goes to that word rather than
to <unk>, and so does the model's own <unk> probability, split over those words in proportion to
their cache weight: the model says "a rare word comes next", the cache says which one. A name typed
three paragraphs ago is then a candidate, by prefix too, although the model has never seen it.

The latest pair, (h_{t-1}, x_t), can only suggest the word just read again, and its key, the state one
word before the query, is the most alike of all: on a short text it takes most of the cache's mass
("She opened the door and" → "and"). With `skip_latest` it is left out (the sum runs to i ≤ t-2): on the
english version's validation split perplexity 39.18 → 38.93 at the same λ, θ, W, and the last word of
short held-out passages top-1 0.179 → 0.192 (docs/results.md, session 15). Versions tuned since do
so; a cache.json without the field keeps the formula above.

A cache of a few pairs spreads its whole share over them however unlike the query they are. With
`ramp_pairs` N > 0 the share is scaled by min(1, n_t / N), n_t the pairs in use, so a short text leans
on the model: on the english validation split, with skip_latest, perplexity 38.93 → 38.42 (N 640, λ
0.3), but the last word of short passages is recalled less often (top-1 0.192 → 0.128 on held-out
fiction), and that is what a document cache is for. Off unless chosen (docs/results.md, session 15).

A variant, measured against the fixed λ on validation text (docs/results.md): with `entropy_scale` S > 0
the cache's share grows with the model's uncertainty, λ_t = λ · min(1, H_t / S), H_t the entropy (nats)
of p_model(· | h_t): where the model is sure (after "the clouds are in the") the cache barely moves
it, where it hesitates (a name, the topic's noun) the document decides.

The n-gram blend (session 16): a version may carry a Kneser-Ney n-gram model of its training corpus
(model/ngram.py, `ngram.safetensors`). With `ngram_weight` μ > 0 the p_model above is

    p_model(w) = (1 - μ) p_rnn(w | h_t) + μ p_ngram(w | the last n-1 words the cache holds)

wherever the cache has a pair in use (elsewhere the recurrent model answers alone, as without a cache).
The n-gram reads its context from the cache's own words, so no other state travels, and a text read
whole or word by word gets the same mixture. λ_t's entropy stays the recurrent model's. An hour of CPU
training leaves the recurrent model level with the 5-gram on words new to the document; the blend saves
~1 point more keystrokes on validation text (docs/results.md, session 16).

Settings (λ `weight`, θ `flatness`, W `window`, S `entropy_scale`) are tuned on validation text
(`python -m model.evaluation.cache_tuning`) and saved with each model version (`cache.json`).
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Protocol

import numpy as np

from model.checkpoint import listed_file

CACHE_FILE = "cache.json"


@dataclass(frozen=True)
class CacheSettings:
    weight: float = 0.1  # λ: the cache's share of the mixture (0 turns it off)
    flatness: float = 0.3  # θ: how sharply the closest earlier contexts are preferred
    window: int = 2000  # W: (hidden state, next word) pairs kept per document
    copy_unknown: bool = True  # words outside the vocabulary are copied as written (see the module docstring)
    entropy_scale: float = 0.0  # S: λ_t = λ · min(1, H_t / S), H_t the model's entropy in nats; 0: λ_t = λ
    skip_latest: bool = False  # leave out the pair of the word just read (see the module docstring)
    ramp_pairs: int = 0  # N: λ_t is also scaled by min(1, n_t / N), n_t the pairs in use; 0: not scaled
    ngram_weight: float = 0.0  # μ: the version's n-gram model's share of p_model (see the module docstring)

    def __post_init__(self) -> None:
        if (not 0.0 <= self.weight < 1.0 or self.flatness < 0 or self.window < 1 or self.entropy_scale < 0
                or self.ramp_pairs < 0 or not 0.0 <= self.ngram_weight < 1.0):
            raise ValueError(f"cache settings out of range: {self}")

    @property
    def enabled(self) -> bool:
        return self.weight > 0

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> CacheSettings:
        known = {f.name: data[f.name] for f in fields(cls) if f.name in data}  # a file from before a field: its default
        return cls(**known)


OFF = CacheSettings(weight=0.0)


def load_settings(version_dir: Path) -> CacheSettings:
    """The settings saved with a version (only from a cache.json its manifest lists, so checked by
    load_version against its checksum); OFF for a version without one."""
    path = listed_file(version_dir, CACHE_FILE)
    return OFF if path is None else CacheSettings.from_json(json.loads(path.read_text()))


def entropy(probs: np.ndarray) -> np.ndarray:
    """Entropy in nats of distributions over the last axis."""
    p = np.asarray(probs, dtype=np.float64)
    return -(p * np.log(np.maximum(p, 1e-300))).sum(axis=-1)


def cache_share(settings: CacheSettings, model_entropy, pairs=None):
    """λ_t for the given entropies of p_model and, with ramp_pairs, the pairs in use at each position
    (numbers, or arrays of one shape)."""
    if settings.entropy_scale <= 0:
        share = settings.weight if np.ndim(model_entropy) == 0 else np.full(np.shape(model_entropy), settings.weight)
    else:
        share = settings.weight * np.minimum(1.0, np.asarray(model_entropy) / settings.entropy_scale)
    if settings.ramp_pairs > 0:
        if pairs is None:
            raise ValueError("ramp_pairs needs the number of pairs in use")
        share = share * np.minimum(1.0, np.asarray(pairs) / settings.ramp_pairs)
    return share


@dataclass(frozen=True)
class CacheWords:
    """The cache's view of the next word: the mixed distribution over the vocabulary, plus the words
    outside it that the cache copies (lower-cased spelling → (as last written, probability))."""
    probs: np.ndarray  # (V,) float64, sums with `unknown`'s probabilities to 1
    unknown: dict[str, tuple[str, float]]


@dataclass(frozen=True)
class CacheView:
    """The cache's part of the mixture at one position (DocumentCache.view): the mixture is
    (1 - share)·p_model, with <unk> at 0 where `unknown` is not empty, plus `mass` on `words`."""
    share: float  # λ_t
    words: np.ndarray  # (m,) distinct vocabulary ids, ascending
    mass: np.ndarray  # (m,) float64: λ_t · p_cache of each (0 for <unk> where its words are copied)
    unknown: dict[str, tuple[str, float]]  # copied words: lower-cased → (as last written, probability)


def chain_digests(previous: int, words) -> np.ndarray:
    """(n,) uint64: d_i = hash(d_{i-1}, word_i), from d_{-1} = `previous`. Rows [0, e) of one storage hold
    the same words exactly when their digests at e - 1 agree, and then the same keys too: a storage's
    keys follow from the rows it started with and the words read since. So one number tells whether a
    copy of the rows elsewhere (another host's, service/rows_store.py) is the text a token describes."""
    out = np.empty(len(words), dtype=np.uint64)
    for i, word in enumerate(np.asarray(words, dtype=np.int64).tolist()):
        previous = int.from_bytes(hashlib.blake2b(previous.to_bytes(8, "little") + word.to_bytes(8, "little", signed=True),
                                                  digest_size=8).digest(), "little")
        out[i] = previous
    return out


def seed_digest(name: bytes) -> int:
    """d_{-1} of a storage: from its name, so two storages' digests never agree by their words alone."""
    return int.from_bytes(name[:8], "little")


class Rows(Protocol):
    """Append-only storage of (key, word) rows: written once, past the frontier, never changed after."""
    keys: np.ndarray  # (capacity, H) float32
    words: np.ndarray  # (capacity,) int64
    digests: np.ndarray  # (capacity,) uint64: chain_digests over words, seeded by the name
    name: bytes  # 16 random bytes: what a state token calls these rows (service/shared_rows.py, rows_store.py)

    @property
    def frontier(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    def claim(self, end: int, n: int) -> bool: ...


def rows_capacity(n: int, window: int) -> int:
    """Rows to make for a storage that starts with n: room to grow by half (at least 256), never beyond two
    windows; a full window is then copied once per window/2 words read, and rows cost at most 1.5x what
    is used."""
    return max(n, min(2 * window, max(256, 3 * n // 2)))


def write_rows(rows: Rows, at: int, keys: np.ndarray, words: np.ndarray, digests: np.ndarray | None = None) -> None:
    """Write rows [at, at + n) of storage claimed for them; their digests chained from row at - 1 unless given.
    Digests first: a reader that finds the words and keys written (rows_hold) finds them too."""
    end = at + len(words)
    if digests is None:
        digests = chain_digests(int(rows.digests[at - 1]) if at else seed_digest(rows.name), words)
    rows.digests[at:end] = digests
    rows.keys[at:end], rows.words[at:end] = keys, words


def rows_hold(rows: Rows, end: int, keys: np.ndarray, words: np.ndarray) -> bool:
    """Whether rows [end, end + n) are already exactly these (n,) words and (n, H) keys. Rows are claimed
    before they are written, so a row being written now compares unequal, and the reader moves on."""
    n = len(words)
    return (rows.frontier >= end + n and np.array_equal(rows.words[end:end + n], words)
            and np.array_equal(rows.keys[end:end + n], keys))


class LocalRows:
    """Append-only storage that the caches of one document share: rows are written once, past the
    frontier, and never changed after, so a cache that is a view of rows [start, end) stays valid while
    later readers append. Reading a word then writes one key instead of copying the whole window
    (4 MB for 2,000 keys of 512 floats), and the service's LRU entries for one document's successive
    tokens share one copy (service/document_cache.py counts it once)."""

    def __init__(self, capacity: int, hidden_size: int, name: bytes | None = None) -> None:
        self.keys = np.empty((capacity, hidden_size), dtype=np.float32)  # (capacity, H)
        self.words = np.empty(capacity, dtype=np.int64)  # (capacity,)
        self.digests = np.empty(capacity, dtype=np.uint64)  # (capacity,)
        self.frontier = 0  # rows written so far
        self.name = name or os.urandom(16)  # a name of its own, or another host's rows it copies
        self._lock = threading.Lock()  # gthread workers may extend one document from two threads

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.words.nbytes + self.digests.nbytes

    def claim(self, end: int, n: int) -> bool:
        """Rows [end, end + n) for the cache that ends at `end`, if no one wrote past it and they fit."""
        with self._lock:
            if self.frontier != end or end + n > len(self.words):
                return False
            self.frontier = end + n
            return True


class DocumentCache:
    """The last `window` (key, next word) pairs of one document, for one reader at a time.

    `add` changes this object, never the rows another cache sees: copy.copy(cache) is a snapshot."""

    def __init__(self, settings: CacheSettings, hidden_size: int, unk_id: int,
                 new_rows: Callable[[int, int], Rows] | None = None) -> None:
        self.settings = settings
        self.unk_id = unk_id
        self.hidden_size = hidden_size
        # new_rows(capacity, H) makes storage for more rows: in this process by default; the service's
        # are shared by the workers of a host (service/shared_rows.py).
        self.new_rows = new_rows or LocalRows
        self._rows: Rows = LocalRows(0, hidden_size)
        self._start = self._end = 0  # this cache is rows [start, end) of _rows
        self.spellings: list[str | None] = []  # (n,): x_{i+1} as written where it is unk_id, else None

    @classmethod
    def over(cls, settings: CacheSettings, unk_id: int, rows: Rows, start: int, end: int,
             spellings: list[str | None], new_rows: Callable[[int, int], Rows] | None = None) -> DocumentCache:
        """The cache that is rows [start, end) of existing storage, written by whoever read that text."""
        if not 0 <= start <= end <= rows.frontier or end - start > settings.window or len(spellings) != end - start:
            raise ValueError(f"rows {start}..{end} of {rows.frontier} written, {len(spellings)} spellings")
        cache = cls(settings, rows.keys.shape[1], unk_id, new_rows)
        cache._rows, cache._start, cache._end, cache.spellings = rows, start, end, list(spellings)
        return cache

    def location(self) -> tuple[Rows, int, int]:
        """The storage this cache is a view of, and its rows there: [start, end)."""
        return self._rows, self._start, self._end

    @property
    def digest(self) -> int:
        """The chain digest of its storage's rows [0, end) (chain_digests); 0 for an empty cache."""
        return int(self._rows.digests[self._end - 1]) if self._end else 0

    @property
    def keys(self) -> np.ndarray:
        """(n, H) float32: h_i, the hidden state after which words[i] came."""
        return self._rows.keys[self._start:self._end]

    @property
    def words(self) -> np.ndarray:
        """(n,) int64: x_{i+1}, a vocabulary id (unk_id outside it)."""
        return self._rows.words[self._start:self._end]

    def __len__(self) -> int:
        return self._end - self._start

    def add(self, keys: np.ndarray, words: list[int], spellings: list[str | None] | None = None) -> None:
        """Append pairs: keys (n, H) are the hidden states after which `words` (n,) came."""
        if len(keys) != len(words):
            raise ValueError(f"{len(keys)} keys for {len(words)} words")
        n = len(words)
        if not n:
            return
        spellings = spellings if spellings is not None else [None] * n
        keep = self.settings.window
        keys, words = np.asarray(keys, dtype=np.float32)[-keep:], np.asarray(words, dtype=np.int64)[-keep:]
        # The same words read on from here before (a retry, a token sent twice) left these rows: reuse them.
        reuse = rows_hold(self._rows, self._end, keys, words)
        if not reuse and not self._rows.claim(self._end, len(words)):
            # Move to new rows (rows_capacity), taking the last pairs of the window along.
            old = min(len(self), keep - len(words))
            rows = self.new_rows(rows_capacity(old + len(words), keep), self.hidden_size)
            rows.claim(0, old + len(words))
            write_rows(rows, 0, self.keys[len(self) - old:], self.words[len(self) - old:])
            self._rows, self._start, self._end = rows, 0, old
        end = self._end + len(words)
        if not reuse:
            write_rows(self._rows, self._end, keys, words)
        self._end, self._start = end, max(self._start, end - keep)
        marks = [s if w == self.unk_id else None for w, s in zip(words.tolist(), spellings[-len(words):])]
        self.spellings = (self.spellings + marks)[-keep:]

    @property
    def pairs_in_use(self) -> int:
        """The pairs that can carry weight: all, or all but the latest (CacheSettings.skip_latest)."""
        return max(len(self) - int(self.settings.skip_latest), 0)

    def weights(self, query: np.ndarray) -> np.ndarray:
        """(n,) softmax over the pairs in use of θ h_t · h_i: each pair's share of the cache distribution
        (0 for a pair left out). Needs pairs_in_use > 0."""
        used = self.pairs_in_use
        scores = self.settings.flatness * (self.keys[:used] @ np.asarray(query, dtype=np.float32)).astype(np.float64)
        scores -= scores.max()
        weights = np.zeros(len(self))
        weights[:used] = np.exp(scores)
        return weights / weights.sum()

    def share(self, model_probs: np.ndarray) -> float:
        """λ_t: the cache's share of the mixture at this position."""
        model_entropy = entropy(model_probs) if self.settings.entropy_scale > 0 else 0.0
        return float(cache_share(self.settings, model_entropy, self.pairs_in_use))

    def view(self, query: np.ndarray, model_entropy: float, model_unk: float) -> CacheView:
        """The cache's part of the mixture at hidden state `query` (H,), sparse: `mix` is (1 - λ_t)·p_model
        plus this. The model enters only through its entropy (for λ_t) and its <unk> probability (what the
        copied words share), so a caller can rank the mixture without building it over the vocabulary."""
        lam = float(cache_share(self.settings, model_entropy, self.pairs_in_use))
        weights = self.weights(query)  # (n,)
        words, inverse = np.unique(self.words, return_inverse=True)  # (m,) distinct ids, ascending
        cache = np.bincount(inverse, weights=weights)  # (m,) p_cache of each
        unknown: dict[str, tuple[str, float]] = {}
        at = int(np.searchsorted(words, self.unk_id))
        if self.settings.copy_unknown and at < len(words) and words[at] == self.unk_id and cache[at] > 0:
            # The cache's <unk> mass, and the model's, go to the words written there.
            for i in np.flatnonzero(self.words == self.unk_id):
                spelling = self.spellings[i]
                if not spelling:
                    continue
                share = weights[i] / cache[at]
                key = spelling.lower()
                _, before = unknown.get(key, (spelling, 0.0))
                unknown[key] = (spelling, before + lam * weights[i] + (1 - lam) * model_unk * share)
            if unknown:
                cache[at] = 0.0
        return CacheView(lam, words, lam * cache, unknown)

    def mix(self, model_probs: np.ndarray, query: np.ndarray, model_entropy: float | None = None) -> CacheWords:
        """The mixture of the model's next-word distribution (V,) with the cache's, at hidden state `query` (H,);
        λ_t from `model_entropy` where given (the recurrent model's, when model_probs has the n-gram blended in),
        else from model_probs' own."""
        probs = np.asarray(model_probs, dtype=np.float64)
        if not self.pairs_in_use or not self.settings.enabled:
            return CacheWords(probs, {})
        if model_entropy is None:
            model_entropy = entropy(probs) if self.settings.entropy_scale > 0 else 0.0
        view = self.view(query, model_entropy, probs[self.unk_id])
        mixed = (1 - view.share) * probs
        if view.unknown:
            mixed[self.unk_id] = 0.0
        mixed[view.words] += view.mass  # the ids are distinct
        return CacheWords(mixed, view.unknown)

    def mixed_target_probability(self, model_probs: np.ndarray, query: np.ndarray, target: int) -> float:
        """p(target) under the mixture, counting <unk> as a word (perplexity on a vocabulary's tokens)."""
        if not self.pairs_in_use or not self.settings.enabled:
            return float(model_probs[target])
        weights = self.weights(query)
        lam = self.share(np.asarray(model_probs, dtype=np.float64))
        return float((1 - lam) * model_probs[target] + lam * weights[self.words == target].sum())

    # ------------------------------------------------------------ the cache as data (the service's LRU measures it)

    def storage(self) -> tuple[object, int]:
        """The rows this cache is a view of, shared with the caches it was copied from or to, and their bytes."""
        return self._rows, self._rows.nbytes
