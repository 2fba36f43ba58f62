"""Training-only regularisers, one function each. Inference never calls them.

- unknown_word_dropout: input words replaced by <unk>, so the model meets unseen words while it
  must hold a memory.
- answer_word_weights: the generated corpus's answer words weigh more in the loss.
- word_type_dropout and recurrent_drop_connect: two of AWD-LSTM's (Merity et al. 2017), applied
  in RNNLanguageModel.encode while training.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from model.tokenizer import WordTokenizer


def unknown_word_dropout(
    x: torch.Tensor, probability: float, unk_id: int, protected: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Replace input words by <unk> with the given probability (targets are untouched).

    x (B, T) token ids; `protected` (V,) bool marks ids never replaced (special tokens).
    """
    if probability <= 0:
        return x
    drop = torch.rand(x.shape, generator=generator) < probability
    drop &= ~protected[x]
    return torch.where(drop, torch.full_like(x, unk_id), x)


def answer_word_weights(corpus_dir: Path, tokenizer: WordTokenizer) -> torch.Tensor | None:
    """Per-word loss weights (V,) from the corpus's `loss_weights.json` ({"French": 30, ...}), if any.

    The generated corpus up-weights its answer words: one answer per ~150 tokens is too rare a
    signal for the country -> language binding to be found in minutes of training. Perplexities
    are always reported unweighted.
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


def word_type_dropout(x: torch.Tensor, tokens: torch.Tensor, probability: float, vocab_size: int) -> torch.Tensor:
    """Embedded input x (B, T, E) with whole word types dropped: every occurrence of a dropped word in
    the window reads zeros, so the model cannot lean on any one word's vector."""
    keep = 1.0 - probability
    rows = torch.empty(vocab_size, 1, device=x.device).bernoulli_(keep) / keep  # (V, 1)
    return x * rows[tokens]


def recurrent_drop_connect(rnn: nn.RNNBase, probability: float) -> dict[str, torch.Tensor]:
    """The recurrence's parameters with DropConnect on the hidden-to-hidden matrices, one mask for all
    time steps of the window, for `torch.func.functional_call(rnn, ...)`: the recurrence itself is
    regularised while cuDNN's fused kernels still run it."""
    return {name: F.dropout(w, probability) if name.startswith("weight_hh") else w
            for name, w in rnn.named_parameters()}
