"""An interpolated Kneser-Ney n-gram language model: the baseline the recurrent models are compared with
(model/evaluation/ngram.py), and a part of the english version's mixture (model/cache.py, `ngram_weight`):
a small recurrent model trained for an hour forgets word sequences that a count over the whole corpus
keeps, and mixing the two saves keystrokes neither saves alone (docs/results.md, session 16).
An n-gram model sees only the last order−1 tokens, so it cannot carry a cue across a long gap.

The model (Chen & Goodman 1998, interpolated Kneser-Ney with one absolute discount D):

    highest order N:  P_N(w|h) = max(c(h w) − D, 0)/c(h) + D·N1+(h •)/c(h) · P_{N−1}(w|h')
    orders 1 < k < N: P_k(w|h) = max(N1+(• h w) − D, 0)/N1+(• h •) + D·N1+(h •)/N1+(• h •) · P_{k−1}(w|h')
    unigram:          P_1(w)   = max(N1+(• w) − D, 0)/N1+(• •) + D·N1+(•)/N1+(• •) · 1/V

h' is h without its first token; c(·) are raw counts and N1+(• h w) the number of distinct tokens
seen just before "h w" (continuation counts). A context h never seen at some order gets no mass of
its own there: P_k(w|h) = P_{k−1}(w|h'). (The unigram level's context is empty: it counts as seen
once the model has been fitted on any text.)

Counting stays inside each passage: every passage is padded in front with order−1 copies of a
reserved BOS id (= vocab_size, never predicted), so the first tokens of a passage are predicted
from "passage start" histories. Queries are treated the same way: a context shorter than order−1
tokens is taken to be the start of a passage (the RNN likewise starts each passage from a fresh
state); only its last order−1 tokens matter.

Storage (all numpy, built with a few sorts: ~2M tokens fit in seconds). At order k each context
(k−1 tokens) has an integer id, the rank of its key in a sorted array; the key of the context
"x h" is x·(number of order-(k−1) contexts) + id(h), so ids are built one left-extension at a
time and looking a context up is one binary search per order. The distinct n-grams (h, w) of an
order are sorted by (id(h), w), i.e. CSR rows: the next words of a context with their (continuation)
counts are one slice, and `distribution` is one scatter per order. Words are stored in the smallest
unsigned type that holds the vocabulary, counts and totals as uint32 (they are integers).

`save` writes the arrays to one safetensors file, atomically; `load` maps it read-only (np.memmap at
each tensor's offset in the file, nothing unpickled), so the workers of a host share one copy in the
page cache. A fitted 4-gram of the 17M-token english corpus is ~300 MB.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from model.checkpoint import listed_file

NGRAM_FILE = "ngram.safetensors"  # in a model version directory, beside cache.json
ARRAYS = ("ctx_keys", "words", "counts", "offsets", "totals")  # per order k ≥ 1 (ctx_keys from k = 2)


class KneserNeyLM:
    """Interpolated Kneser-Ney over token ids in [0, vocab_size); see the module docstring."""

    def __init__(self, vocab_size: int, order: int = 5, discount: float = 0.75) -> None:
        if vocab_size < 1:
            raise ValueError("vocab_size must be at least 1")
        if order < 1:
            raise ValueError("order must be at least 1")
        if not 0.0 < discount <= 1.0:
            raise ValueError("discount must be in (0, 1]")
        self.vocab_size = int(vocab_size)
        self.order = int(order)
        self.discount = float(discount)
        self.bos = self.vocab_size  # pads the start of every passage; never a predicted word
        self._fitted = False
        self._unigram: np.ndarray | None = None  # P_1, kept by distribution

    # ------------------------------------------------------------------ fitting
    def fit(self, passages: list[list[int]]) -> KneserNeyLM:
        """Count n-grams within each passage (never across passages); returns self."""
        N, V = self.order, self.vocab_size
        toks, pos = self._pad(passages, skip_first=False)
        if len(pos) and (int(toks[pos].min()) < 0 or int(toks[pos].max()) >= V):
            raise ValueError(f"token ids must lie in [0, {V})")
        w = toks[pos]

        # Per order k (index k, 1..N): sorted keys of its contexts (order 1: the empty context only),
        # the CSR rows of its distinct n-grams, and per context the normaliser and the number of types.
        self._ctx_keys: list[np.ndarray | None] = [None] * (N + 1)
        self._n_ctx = [0] * (N + 1)
        self._gram_keys: list[np.ndarray] = [np.empty(0, np.int64)] * (N + 1)
        self._words: list[np.ndarray] = [np.empty(0, np.int64)] * (N + 1)
        self._counts: list[np.ndarray] = [np.empty(0, np.float64)] * (N + 1)
        self._offsets: list[np.ndarray] = [np.zeros(1, np.int64)] * (N + 1)
        self._totals: list[np.ndarray] = [np.empty(0, np.float64)] * (N + 1)

        ctx = np.zeros(len(pos), np.int64)  # id of each position's context at the current order
        n_ctx = 1 if len(pos) else 0
        prev_inverse = None  # position → index of its distinct n-gram, at the order below
        prev_n_grams = 0
        for k in range(1, N + 1):
            if k > 1:  # extend every context by the token before it: ids at order k from ids at k−1
                key = toks[pos - (k - 1)] * n_ctx + ctx
                uniq, ctx = np.unique(key, return_inverse=True)
                self._ctx_keys[k], n_ctx = uniq, len(uniq)
            self._n_ctx[k] = n_ctx
            grams, first, inverse = np.unique(ctx * V + w, return_index=True, return_inverse=True)
            inverse = inverse.reshape(-1)
            if k > 1:
                # Continuation counts of order k−1: each distinct k-gram "x h w" adds one to "h w".
                cont = np.bincount(prev_inverse[first], minlength=prev_n_grams).astype(np.float64)
                self._store(k - 1, cont)
            self._gram_keys[k] = grams
            prev_inverse, prev_n_grams = inverse, len(grams)
        # The highest order uses raw counts.
        self._store(N, np.bincount(prev_inverse, minlength=prev_n_grams).astype(np.float64))
        self._fitted, self._unigram = True, None
        return self

    def _word_dtype(self) -> type:
        return np.uint16 if self.vocab_size <= 1 << 16 else np.uint32

    def _store(self, k: int, counts: np.ndarray) -> None:
        V, n_ctx = self.vocab_size, self._n_ctx[k]
        grams = self._gram_keys[k]
        gram_ctx = grams // V
        self._words[k] = (grams % V).astype(self._word_dtype())
        self._counts[k] = counts.astype(np.uint32)
        self._offsets[k] = np.concatenate(([0], np.cumsum(np.bincount(gram_ctx, minlength=n_ctx))))
        self._totals[k] = np.bincount(gram_ctx, weights=counts, minlength=n_ctx).astype(np.uint32)

    def _pad(self, passages: list[list[int]], skip_first: bool) -> tuple[np.ndarray, np.ndarray]:
        """All passages, each after order−1 BOS ids, in one array; and the positions to predict."""
        pad = self.order - 1
        passages = [p for p in passages if len(p)]
        lengths = np.fromiter((len(p) for p in passages), np.int64, len(passages))
        starts = np.cumsum(lengths + pad) - lengths  # index of each passage's first real token
        toks = np.full(int(lengths.sum() + pad * len(passages)), self.bos, np.int64)
        is_real = np.zeros(len(toks), bool)
        for s, p, n in zip(starts.tolist(), passages, lengths.tolist()):
            toks[s : s + n] = p
            is_real[s + int(skip_first) : s + n] = True
        return toks, np.flatnonzero(is_real)

    # ------------------------------------------------------------------ queries
    def _check_fitted(self) -> None:
        if not self._fitted:
            raise RuntimeError("call fit() first")

    def _context_ids(self, context: list[int]) -> list[int]:
        """Id of the context at each order 1..N (index 0 unused); −1 from the first unseen order on."""
        self._check_fitted()
        N = self.order
        hist = [int(t) for t in list(context)[max(0, len(context) - (N - 1)) :]] if N > 1 else []
        if any(t < 0 or t >= self.vocab_size for t in hist):
            raise ValueError(f"token ids must lie in [0, {self.vocab_size})")
        hist = [self.bos] * (N - 1 - len(hist)) + hist
        ids = [-1] * (N + 1)
        cur = 0 if self._n_ctx[1] else -1
        for k in range(1, N + 1):
            if k > 1 and cur >= 0:
                keys = self._ctx_keys[k]
                key = hist[N - k] * self._n_ctx[k - 1] + cur
                j = int(np.searchsorted(keys, key))
                cur = j if j < len(keys) and int(keys[j]) == key else -1
            if cur < 0:
                break
            ids[k] = cur
        return ids

    def distribution(self, context: list[int]) -> np.ndarray:
        """P(next word | last order−1 ids of context): shape (vocab_size,), float64, sums to 1, all > 0."""
        return self.blend(np.zeros(self.vocab_size), context, 1.0)

    def blend(self, probs: np.ndarray, context: list[int], weight: float) -> np.ndarray:
        """(1 − weight)·probs + weight·P(· | context), (V,) float64, without building P: unrolled, the
        interpolation is P_N = (Π_k γ_k)·P_1 + Σ_k (Π_{j>k} γ_j)·s_k, with γ_k = D·N1+(h •)/c(h) and s_k the
        discounted counts of the context's row at order k (sparse). So a call is three passes over the
        vocabulary and one scatter per order; P_1, the same for every context, is computed once."""
        ids = self._context_ids(context)
        if self._unigram is None:
            self._unigram = np.full(self.vocab_size, 1.0 / self.vocab_size)
            if ids[1] >= 0:
                gamma, words, values = self._row(1, ids[1])
                self._unigram *= gamma
                self._unigram[words] += values
        rows = []
        for k in range(2, self.order + 1):
            if ids[k] < 0:  # never seen: no longer context was seen either, so back off fully from here on
                break
            rows.append(self._row(k, ids[k]))
        out = np.multiply(probs, 1.0 - weight, dtype=np.float64)
        scale = weight
        for gamma, words, values in reversed(rows):  # the highest order's row first, at the full weight
            out[words] += scale * values  # a row's words are distinct
            scale *= gamma
        out += scale * self._unigram
        return out

    def _row(self, k: int, c: int) -> tuple[float, np.ndarray, np.ndarray]:
        """Context c of order k: its back-off weight γ, and its next words with their discounted counts / c(h)."""
        lo, hi = int(self._offsets[k][c]), int(self._offsets[k][c + 1])
        total, D = float(self._totals[k][c]), self.discount
        return D * (hi - lo) / total, self._words[k][lo:hi], (self._counts[k][lo:hi] - D).clip(min=0.0) / total

    def _probs(self, toks: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """P(toks[i] | the order−1 tokens before it) for every i in pos, vectorised over positions."""
        self._check_fitted()
        N, V, D = self.order, self.vocab_size, self.discount
        w = toks[pos]
        p = np.full(len(pos), 1.0 / V)
        ctx = np.full(len(pos), 0 if self._n_ctx[1] else -1, np.int64)
        for k in range(1, N + 1):
            if k > 1:
                keys = self._ctx_keys[k]
                if not len(keys):
                    break
                # A key built from an unseen (−1) context could equal a real one: mask those first.
                key = toks[pos - (k - 1)] * self._n_ctx[k - 1] + ctx
                j = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
                ctx = np.where((ctx >= 0) & (keys[j] == key), j, -1)
            seen = np.flatnonzero(ctx >= 0)
            if not len(seen):
                break
            c = ctx[seen]
            grams = self._grams(k)
            gkey = c * V + w[seen]
            j = np.minimum(np.searchsorted(grams, gkey), len(grams) - 1)
            count = np.where(grams[j] == gkey, self._counts[k][j], 0.0)
            total = self._totals[k][c].astype(np.float64)
            types = (self._offsets[k][c + 1] - self._offsets[k][c]).astype(np.float64)
            p[seen] = (count - D).clip(min=0.0) / total + D * types / total * p[seen]
        return p

    def _grams(self, k: int) -> np.ndarray:
        """(n,) int64 sorted keys id(h)·V + w of order k's n-grams: kept from fitting, or rebuilt once from
        the rows of a loaded model (only scoring whole texts needs them)."""
        if len(self._gram_keys[k]) != len(self._words[k]):
            rows = np.repeat(np.arange(self._n_ctx[k], dtype=np.int64), np.diff(self._offsets[k]))
            self._gram_keys[k] = rows * self.vocab_size + self._words[k]
        return self._gram_keys[k]

    def log_prob(self, context: list[int], word: int) -> float:
        """Natural log of P(word | context)."""
        if not 0 <= int(word) < self.vocab_size:
            raise ValueError(f"token ids must lie in [0, {self.vocab_size})")
        hist = [int(t) for t in list(context)[max(0, len(context) - (self.order - 1)) :]] if self.order > 1 else []
        if any(t < 0 or t >= self.vocab_size for t in hist):
            raise ValueError(f"token ids must lie in [0, {self.vocab_size})")
        toks, _ = self._pad([hist + [int(word)]], skip_first=False)
        return float(np.log(self._probs(toks, np.array([len(toks) - 1]))[0]))

    def target_probabilities(self, passages: list[list[int]]) -> np.ndarray:
        """P of every token of every passage after its first, given the tokens before it in its passage,
        in passage order: (N,)."""
        toks, pos = self._pad(passages, skip_first=True)
        if not len(pos):
            raise ValueError("no token to predict: every passage has fewer than two tokens")
        if int(toks[pos].min()) < 0 or int(toks[pos].max()) >= self.vocab_size:
            raise ValueError(f"token ids must lie in [0, {self.vocab_size})")
        return self._probs(toks, pos)

    def perplexity(self, passages: list[list[int]]) -> float:
        """exp(mean −log P) over every token of every passage after its first (each from its own passage)."""
        return math.exp(float(-np.log(self.target_probabilities(passages)).mean()))

    # ------------------------------------------------------------------ storage

    def save(self, path: Path) -> None:
        """Write the fitted model to one safetensors file, atomically (a temporary file, then renamed)."""
        self._check_fitted()
        tensors = {}
        for k in range(1, self.order + 1):
            for name in ARRAYS:
                if name == "ctx_keys" and k == 1:
                    continue  # the unigram level's only context is the empty one
                tensors[f"{name}.{k}"] = np.ascontiguousarray(getattr(self, f"_{name}")[k])
        meta = {"vocab_size": self.vocab_size, "order": self.order, "discount": self.discount, "n_ctx": self._n_ctx}
        path = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        try:
            save_file(tensors, tmp, metadata={"kneser_ney": json.dumps(meta)})
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> KneserNeyLM:
        """A model saved by `save`, its arrays mapped read-only from the file (ValueError if it is not one)."""
        path = Path(path)
        try:
            return cls._load(path)
        except (KeyError, TypeError, AttributeError, OverflowError) as e:  # json.JSONDecodeError is a ValueError
            raise ValueError(f"{path}: not a saved Kneser-Ney model ({type(e).__name__}: {e})") from None

    @classmethod
    def _load(cls, path: Path) -> KneserNeyLM:
        with path.open("rb") as f:
            size = int.from_bytes(f.read(8), "little")
            if not 0 < size <= 1 << 24:
                raise ValueError(f"{path}: not a safetensors file")
            header = json.loads(f.read(size))
        meta = json.loads(header.get("__metadata__", {}).get("kneser_ney", "null") or "null")
        if not isinstance(meta, dict):
            raise ValueError(f"{path}: not a saved Kneser-Ney model")
        lm = cls(int(meta["vocab_size"]), int(meta["order"]), float(meta["discount"]))
        dtypes = {"U16": np.uint16, "U32": np.uint32, "I64": np.int64}  # what save writes
        N = lm.order
        arrays = {name: [np.empty(0, np.int64)] * (N + 1) for name in ARRAYS}
        for key, spec in header.items():
            if key == "__metadata__":
                continue
            name, k = key.rsplit(".", 1)
            start, end = spec["data_offsets"]
            dtype = dtypes[spec["dtype"]]
            count = (end - start) // np.dtype(dtype).itemsize
            arrays[name][int(k)] = (np.memmap(path, dtype=dtype, mode="r", offset=8 + size + start, shape=(count,))
                                    if count else np.empty(0, dtype))
        lm._ctx_keys = [None, None, *arrays["ctx_keys"][2:]]
        lm._words, lm._counts, lm._offsets, lm._totals = (arrays[n] for n in ARRAYS[1:])
        lm._n_ctx = [int(n) for n in meta["n_ctx"]]
        lm._gram_keys = [np.empty(0, np.int64)] * (N + 1)
        if any(len(lm._offsets[k]) != lm._n_ctx[k] + 1 for k in range(1, N + 1)):
            raise ValueError(f"{path}: its arrays do not fit together")
        lm._fitted = True
        return lm


def load_version_ngram(version_dir: Path) -> KneserNeyLM | None:
    """The n-gram model saved with a version (only one its manifest lists, so checked by load_version
    against its checksum); None for a version without one."""
    path = listed_file(version_dir, NGRAM_FILE)
    return None if path is None else KneserNeyLM.load(path)
