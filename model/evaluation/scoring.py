"""Scoring a split: perplexity, and top-1 accuracy on chosen words, with the training's own batching.

Used by the trainer (validation between phases, the test split at the end) and by
`model.evaluation.probes` (test perplexity of any version). Passages are scored from the zero state in
bptt windows with the state carried, exactly as they are trained.
"""
from __future__ import annotations

import math

import torch

from model.rnn_lm import RNNLanguageModel
from model.training.batching import IGNORE_INDEX, length_buckets, pad_batch, windows


@torch.inference_mode()
def evaluate_split(
    model: RNNLanguageModel, passages: list[list[int]], pad_id: int, key_words: torch.Tensor | None = None,
    batch_size: int = 64, bptt: int = 400,
) -> dict[str, float]:
    """Perplexity (exp of the mean next-word cross-entropy over every target of every passage),
    and, given a bool mask `key_words` (V,), top-1 accuracy where the target is one of those words."""
    model.eval()
    device = next(model.parameters()).device
    if key_words is not None:
        key_words = key_words.to(device)
    total_loss, total_count, key_right, key_count = 0.0, 0, 0, 0
    lengths = [len(p) for p in passages]
    for indices in length_buckets(lengths, batch_size, rng=None):
        batch = pad_batch([passages[i] for i in indices], pad_id).to(device)
        state = model.initial_state(batch.size(0), device)
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
