"""Truncated-BPTT batching over independent passages.

A corpus is a list of passages (token-id lists, each line ending in <eos>). Passages of
similar length are batched together, so little is spent on padding, and every passage
starts from the model's zero state, exactly as a prompt does at inference.

A batch of B passages, padded to the longest (L tokens), is cut into windows of `bptt`
steps. The state is carried from one window to the next and detached at each edge, so the
gradient stops there while the values flow on:

    passage 0:  a b c d | e f g h | i j <pad> <pad>
    passage 1:  k l m n | o p q r | s t u    <pad>
                window 0  window 1  window 2       (bptt = 4)
    inputs   x = tokens[:, t : t+bptt]
    targets  y = tokens[:, t+1 : t+1+bptt]   (the next word; <pad> targets are ignored)
"""
from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

import torch

IGNORE_INDEX = -100  # targets with this value add nothing to the loss


def length_buckets(
    lengths: Sequence[int], batch_size: int, rng: random.Random | None, ascending: bool = False
) -> list[list[int]]:
    """Group passage indices into batches of similar length.

    Order: shuffled (rng given), or shortest first when `ascending` (a length curriculum:
    on a corpus of cue passages, short passages are the short gaps).
    """
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if not ascending and rng is not None:
        rng.shuffle(batches)
    return batches


def pad_batch(passages: Sequence[Sequence[int]], pad_id: int, width: int = 0) -> torch.Tensor:
    """Passages → (B, L) int64 tensor, right-padded with pad_id to the longest (or to `width` if longer)."""
    width = max(width, *(len(p) for p in passages))
    batch = torch.full((len(passages), width), pad_id, dtype=torch.long)
    for row, passage in enumerate(passages):
        batch[row, : len(passage)] = torch.as_tensor(passage, dtype=torch.long)
    return batch


def windows(
    batch: torch.Tensor, bptt: int, pad_id: int, skip_empty: bool = True
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(B, L) padded batch → (x, y) windows of shape (B, ≤bptt); y is x shifted by one.

    Windows with no real target (padding only) are skipped unless skip_empty=False.
    """
    targets = batch[:, 1:].clone()
    targets[targets == pad_id] = IGNORE_INDEX
    inputs = batch[:, :-1]
    for start in range(0, inputs.size(1), bptt):
        y = targets[:, start : start + bptt]
        if not skip_empty or (y != IGNORE_INDEX).any():
            yield inputs[:, start : start + bptt], y


def chunk_passages(passages: list[list[int]], size: int) -> list[list[int]]:
    """Each passage cut into consecutive pieces of at most `size` tokens (pieces of one token, which
    predict nothing, left out)."""
    return [p[i : i + size] for p in passages for i in range(0, len(p), size) if len(p[i : i + size]) > 1]
