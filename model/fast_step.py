"""The serving hot path in float32 numpy: a few recurrent steps, and the exact top k after them.

A client typing word by word sends one or two new words a request. Through torch, one such step
and its top k are ~30 small operator calls whose dispatch overhead is most of the time; the same
arithmetic on numpy views of the model's weights (no copy: they share memory with the
parameters) is about twice as fast (docs/benchmarks.md, "Inference on CPU").

Under load the weights are out of cache when the next request comes (the machine's other
work evicts them within a millisecond), so a request's cost is mostly the bytes of weights it
reads, at memory speed. One thing is precomputed to read fewer: the first layer's input
projection W_ih·e + b_ih of every word (one row of G·H floats, instead of all of W_ih) where that
table is small (INPUT_TABLE_MAX_BYTES). It is a copy: build the recurrence after the weights
are final (a Predictor is built per loaded model version; the service builds it after
model.checkpoint.share_weights, so the views read the one copy all workers share).

    recurrence = NumpyRecurrence.build(model)   # None unless float32 nn.GRU/LSTM/RNN with biases
    head = NumpyTopK.build(model, offerable)    # None unless a float32 nn.Linear or adaptive softmax

Both follow torch's definitions (nn.GRU/nn.LSTM/nn.RNN in eval mode, so no dropout between
layers; nn.AdaptiveLogSoftmaxWithLoss's head and tails) and agree with the torch path to float
rounding; tests/test_fast_step.py checks it for every cell and both softmaxes. Anything else
(an int8-quantized model) returns None and keeps the torch path.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from model.rnn_lm import State


def _view(parameter: torch.Tensor | None) -> np.ndarray | None:
    """A float32 numpy view sharing the parameter's memory (None stays None)."""
    return None if parameter is None else parameter.detach().numpy()


def _float_cpu(*tensors: torch.Tensor | None) -> bool:
    return all(t is None or (t.dtype == torch.float32 and t.device.type == "cpu" and not t.is_quantized)
               for t in tensors)


# The default model's table (6,905 words × 768) is 21 MB; a WikiText-2 LSTM's (33,278 × 2,600) would be
# 346 MB per worker, and keeps the matrix-vector product instead.
INPUT_TABLE_MAX_BYTES = 64 * 2**20


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # σ(x) = (1 + tanh(x/2)) / 2: no overflow for large |x|, unlike 1 / (1 + exp(-x)).
    return 0.5 + 0.5 * np.tanh(0.5 * x)


class NumpyRecurrence:
    """nn.GRU / nn.LSTM / nn.RNN (eval mode), one token at a time, from a torch State to a torch State."""

    def __init__(self, model: nn.Module) -> None:
        rnn = model.rnn
        self.kind = {nn.GRU: "gru", nn.LSTM: "lstm", nn.RNN: "rnn"}[type(rnn)]
        self.relu = rnn.mode == "RNN_RELU"  # what nn.RNN runs (set from nonlinearity when built)
        self.embedding = _view(model.embedding.weight)  # (V, E)
        # Per layer: W_ih (G·H, in), W_hh (G·H, H), b_ih, b_hh (G·H,), G gates (GRU 3, LSTM 4, RNN 1).
        self.layers = [tuple(_view(getattr(rnn, f"{name}_l{layer}")) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
                       for layer in range(rnn.num_layers)]
        # (V, G·H): the first layer's W_ih·e + b_ih for every word e, or None where too large.
        w_ih, _, b_ih, _ = self.layers[0]
        table_bytes = self.embedding.shape[0] * w_ih.shape[0] * 4
        self.input_table = self.embedding @ w_ih.T + b_ih if table_bytes <= INPUT_TABLE_MAX_BYTES else None

    @property
    def steps_win_at_any_length(self) -> bool:
        """One layer with its input table: a step reads W_hh and one table row, which a fused call
        reads per step too, with less overhead a step (model/predict.py has the timings)."""
        return self.input_table is not None and len(self.layers) == 1

    @classmethod
    def build(cls, model: nn.Module) -> NumpyRecurrence | None:
        rnn = getattr(model, "rnn", None)
        if type(rnn) not in (nn.GRU, nn.LSTM, nn.RNN) or not rnn.bias or rnn.bidirectional or getattr(rnn, "proj_size", 0):
            return None
        if type(model.embedding) is not nn.Embedding or model.embedding.max_norm is not None:
            return None
        if not _float_cpu(model.embedding.weight, *rnn.parameters()):
            return None
        return cls(model)

    def advance(self, ids: Sequence[int], state: State) -> State:
        """Run `ids` from `state` ((layers, 1, H) tensors) and return the new state, as torch tensors."""
        lstm = self.kind == "lstm"
        h = [row[0] for row in (state[0] if lstm else state).numpy()]  # per layer (H,)
        c = [row[0] for row in state[1].numpy()] if lstm else None
        H = h[0].shape[0]
        for token in ids:
            x = self.embedding[token]  # (E,)
            for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(self.layers):
                if layer == 0 and self.input_table is not None:
                    gi = self.input_table[token]  # (G·H,) read instead of all of W_ih
                else:
                    gi = w_ih @ x + b_ih  # (G·H,)
                gh = w_hh @ h[layer] + b_hh
                if self.kind == "gru":  # gates r, z, n (torch's order)
                    rz = _sigmoid(gi[: 2 * H] + gh[: 2 * H])
                    n = np.tanh(gi[2 * H :] + rz[:H] * gh[2 * H :])
                    h[layer] = n + rz[H:] * (h[layer] - n)  # (1 - z)·n + z·h
                elif lstm:  # gates i, f, g, o
                    gates = gi + gh
                    ifo = _sigmoid(gates)  # g's sigmoid is wasted: one call instead of three slices
                    c[layer] = ifo[H : 2 * H] * c[layer] + ifo[:H] * np.tanh(gates[2 * H : 3 * H])
                    h[layer] = ifo[3 * H :] * np.tanh(c[layer])
                else:
                    pre = gi + gh
                    h[layer] = np.maximum(pre, 0) if self.relu else np.tanh(pre)
                x = h[layer]
        hs = torch.from_numpy(np.stack(h)[:, None, :])  # (layers, 1, H)
        return (hs, torch.from_numpy(np.stack(c)[:, None, :])) if lstm else hs


class NumpyTopK:
    """The exact top k offerable words after a hidden vector, from a full or an adaptive softmax.

    With an adaptive softmax only the head is computed, plus the tail clusters that can hold one
    of the k: a tail word's probability is at most its cluster's, so a cluster less likely than
    the k-th best candidate so far is skipped, and so is every less likely one.
    """

    def __init__(self, output: nn.Module, offerable: np.ndarray) -> None:
        self.adaptive = isinstance(output, nn.AdaptiveLogSoftmaxWithLoss)
        if self.adaptive:
            self.weight, self.bias = _view(output.head.weight), _view(output.head.bias)  # (S + C, H)
            self.shortlist = output.shortlist_size
            self.offerable = offerable[offerable < self.shortlist]
            bounds = output.cutoffs  # cluster i holds ids bounds[i] up to bounds[i + 1]
            self.tails = [(_view(tail[0].weight), _view(tail[1].weight)) for tail in output.tail]
            self.tail_starts, self.tail_ends = bounds[:-1], bounds[1:]
            self.offerable_in_tail = [offerable[(offerable >= lo) & (offerable < hi)]  # word ids
                                      for lo, hi in zip(bounds[:-1], bounds[1:])]
            self.offerable_in_tail_local = [ids - lo for ids, lo in zip(self.offerable_in_tail, self.tail_starts)]
        else:
            self.weight, self.bias = _view(output.weight), _view(output.bias)  # (V, H)
            self.offerable = offerable

    @classmethod
    def build(cls, model: nn.Module, offerable: np.ndarray) -> NumpyTopK | None:
        output = getattr(model, "output", None)
        if type(output) is nn.AdaptiveLogSoftmaxWithLoss:
            tails_plain = all(type(t) is nn.Sequential and len(t) == 2 and all(type(m) is nn.Linear and m.bias is None for m in t)
                              for t in output.tail)
            if type(output.head) is not nn.Linear or not tails_plain:
                return None
        elif type(output) is not nn.Linear:
            return None
        if not _float_cpu(*output.parameters()):
            return None
        return cls(output, offerable)

    def _logits(self, hidden: np.ndarray) -> np.ndarray:
        z = self.weight @ hidden
        return z if self.bias is None else z + self.bias

    def tail_logits(self, hidden: np.ndarray, cluster: int) -> np.ndarray:
        """Logits of the words of tail `cluster` (ids cutoffs[cluster] up to cutoffs[cluster + 1])."""
        projection, words = self.tails[cluster]
        return words @ (projection @ hidden)

    def distribution(self, hidden: np.ndarray) -> tuple[np.ndarray, float]:
        """hidden (H,) float32 → ((V,) float32 probabilities of every token, as exp of the model's log_probs;
        their entropy in nats).

        One exp per token and no log over the vocabulary: timed alone, with the weights in cache, these
        passes over 40,000 words took longer than the matrix products, and torch's vectorised exp is ~2.5x
        numpy's here (2026-12-07; under load the products' memory reads weigh more: docs/results.md).
        The entropy comes from dot products: with shifted scores s = z − max and Z = Σ exp(s),
        −Σ p log p = log Z − p·s, and an adaptive softmax adds each tail cluster's within-cluster
        entropy weighted by the cluster's probability."""
        head, head_exps = _shifted(self._logits(hidden))
        if not self.adaptive:
            return _softmax(head, head_exps)
        out = np.empty(self.tail_ends[-1], dtype=np.float32)
        head_probs, entropy = _softmax(head, head_exps)  # (S + C,): the shortlist's words, then each cluster
        out[: self.shortlist] = head_probs[: self.shortlist]
        for cluster, (lo, hi) in enumerate(zip(self.tail_starts, self.tail_ends)):
            p_cluster = float(head_probs[self.shortlist + cluster])
            words, word_exps = _shifted(self.tail_logits(hidden, cluster))
            within, within_entropy = _softmax(words, word_exps)
            np.multiply(within, np.float32(p_cluster), out=out[lo:hi])
            entropy += p_cluster * within_entropy  # the cluster's own −p log p is already in the head's
        return out, entropy

    def top(self, hidden: np.ndarray, k: int) -> list[tuple[int, float]]:
        """hidden (H,) float32 → the k most likely offerable (word id, probability), most likely first.

        Log-probs are (logit − max) − log Σ exp(logit − max), as log_softmax computes them, but the
        last subtraction is done for the chosen k only."""
        shifted, log_sum = _shifted_and_log_sum(self._logits(hidden))
        values, chosen = _best(shifted[self.offerable], self.offerable, k)
        values = values - log_sum
        if self.adaptive:
            clusters = (shifted[self.shortlist:] - log_sum).tolist()  # a handful: compared as Python floats
            for cluster in sorted(range(len(clusters)), key=clusters.__getitem__, reverse=True):
                if len(values) == k and clusters[cluster] <= values[-1]:
                    break  # neither this cluster nor any less likely one can beat the k-th word
                if self.offerable_in_tail[cluster].size == 0:
                    continue
                words, words_log_sum = _shifted_and_log_sum(self.tail_logits(hidden, cluster))
                words = words[self.offerable_in_tail_local[cluster]]
                tail_ids = self.offerable_in_tail[cluster]
                if len(values) == k:  # only words that can beat the k-th so far (with a margin for rounding)
                    bar = float(values[-1]) - clusters[cluster] + float(words_log_sum) - 1e-4
                    keep = np.flatnonzero(words > bar)
                    words, tail_ids = words[keep], tail_ids[keep]
                tail_values, tail_chosen = _best(words, tail_ids, k)
                tail_values = (tail_values - words_log_sum) + np.float32(clusters[cluster])
                values, chosen = _best(np.concatenate([values, tail_values]), np.concatenate([chosen, tail_chosen]), k)
        return list(zip(chosen.tolist(), np.exp(values).tolist()))


def _shifted_and_log_sum(logits: np.ndarray) -> tuple[np.ndarray, np.float32]:
    """(logits − max, log Σ exp(logits − max)): their difference is log_softmax(logits)."""
    shifted, exps = _shifted(logits)
    return shifted, np.log(exps.sum())


def _shifted(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(logits − max, exp of it), the exp by torch (vectorised; ~2.5x numpy's float32 exp on this CPU)."""
    shifted = logits - logits.max()
    return shifted, torch.exp(torch.from_numpy(shifted)).numpy()


def _softmax(shifted: np.ndarray, exps: np.ndarray) -> tuple[np.ndarray, float]:
    """(softmax, its entropy) from _shifted's pair: p = e / Z, and −Σ p log p = log Z − p·shifted."""
    total = float(exps.sum(dtype=np.float64))
    probs = exps * np.float32(1 / total)
    return probs, math.log(total) - float(probs @ shifted)


def _best(values: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k largest values (all, if fewer) and their ids, largest first."""
    if values.size > max(k, 64):  # torch.topk on a view: ~4x faster than np.argpartition on a few thousand
        top = torch.topk(torch.from_numpy(values), k)
        return top.values.numpy(), ids[top.indices.numpy()]
    order = np.argsort(-values, kind="stable")[:k]  # a few dozen at most
    return values[order], ids[order]
