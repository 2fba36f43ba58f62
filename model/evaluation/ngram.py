"""An interpolated Kneser-Ney n-gram language model: the baseline the recurrent models are compared with.

    python -m model.evaluation.ngram --corpus-dir data/corpus [--order 5] [--discount 0.75]

fits on train.txt (same tokenizer settings as `model.training`) and prints the valid and test
perplexities, same convention as the RNN's evaluation: the first token of a passage is not predicted.
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
counts are one slice, and `distribution` is one scatter per order.
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np


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
        self._ntypes: list[np.ndarray] = [np.empty(0, np.float64)] * (N + 1)

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
        self._fitted = True
        return self

    def _store(self, k: int, counts: np.ndarray) -> None:
        V, n_ctx = self.vocab_size, self._n_ctx[k]
        grams = self._gram_keys[k]
        gram_ctx = grams // V
        self._words[k] = grams % V
        self._counts[k] = counts
        self._offsets[k] = np.concatenate(([0], np.cumsum(np.bincount(gram_ctx, minlength=n_ctx))))
        self._totals[k] = np.bincount(gram_ctx, weights=counts, minlength=n_ctx)
        self._ntypes[k] = np.diff(self._offsets[k]).astype(np.float64)

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
        ids = self._context_ids(context)
        D = self.discount
        p = np.full(self.vocab_size, 1.0 / self.vocab_size)
        for k in range(1, self.order + 1):
            c = ids[k]
            if c < 0:  # never seen: no longer context was seen either, so back off fully from here on
                break
            lo, hi = self._offsets[k][c], self._offsets[k][c + 1]
            total = self._totals[k][c]
            p *= D * (hi - lo) / total
            p[self._words[k][lo:hi]] += (self._counts[k][lo:hi] - D).clip(min=0.0) / total
        return p

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
            grams = self._gram_keys[k]
            gkey = c * V + w[seen]
            j = np.minimum(np.searchsorted(grams, gkey), len(grams) - 1)
            count = np.where(grams[j] == gkey, self._counts[k][j], 0.0)
            total = self._totals[k][c]
            p[seen] = (count - D).clip(min=0.0) / total + D * self._ntypes[k][c] / total * p[seen]
        return p

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


def _peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # not on Unix
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main(argv: list[str] | None = None) -> None:
    from model.tokenizer import train_tokenizer
    from model.training.data import check_corpus_dir, encode_passages, read_passages

    p = argparse.ArgumentParser(description="Fit a Kneser-Ney n-gram baseline on DIR/train.txt; "
                                            "print valid and test perplexity.")
    p.add_argument("--corpus-dir", type=Path, required=True, help="holds train.txt, valid.txt, test.txt")
    p.add_argument("--order", type=int, default=5)
    p.add_argument("--discount", type=float, default=0.75)
    p.add_argument("--vocab-size", type=int, default=10000, help="as model.training: largest vocabulary")
    p.add_argument("--min-frequency", type=int, default=2, help="as model.training: rarer words become <unk>")
    p.add_argument("--as-is-tokens", action="store_true", help="as model.training: case kept, whitespace split")
    args = p.parse_args(argv)

    check_corpus_dir(args.corpus_dir)
    t0 = time.monotonic()
    text = {s: read_passages(args.corpus_dir / f"{s}.txt") for s in ("train", "valid", "test")}
    tokenizer = train_tokenizer([line for ps in text["train"] for line in ps], args.vocab_size, args.min_frequency,
                                as_is=args.as_is_tokens)
    splits = {s: encode_passages(tokenizer, ps) for s, ps in text.items()}
    print(f"corpus {args.corpus_dir}: " + " / ".join(f"{sum(map(len, splits[s])):,}" for s in splits)
          + f" tokens (train/valid/test), vocabulary {tokenizer.vocab_size:,}; "
          f"prepared in {time.monotonic() - t0:.1f}s", flush=True)

    t0 = time.monotonic()
    lm = KneserNeyLM(tokenizer.vocab_size, order=args.order, discount=args.discount).fit(splits["train"])
    fit_s = time.monotonic() - t0
    print(f"{args.order}-gram Kneser-Ney (D={args.discount}) fitted in {fit_s:.1f}s", flush=True)
    for split in ("valid", "test"):
        t0 = time.monotonic()
        ppl = lm.perplexity(splits[split])
        print(f"{split} perplexity {ppl:.2f} ({time.monotonic() - t0:.1f}s)")
    rss = _peak_rss_mb()
    if rss is not None:
        print(f"peak RSS {rss:,.0f} MB")


if __name__ == "__main__":
    main()
