import random

import torch

from model.rnn_lm import ModelConfig, RNNLanguageModel, detach_state
from model.training.batching import IGNORE_INDEX, length_buckets, pad_batch, windows

PAD = 0


def test_targets_are_inputs_shifted_by_one_and_padding_is_ignored():
    batch = pad_batch([[5, 6, 7, 8, 9], [10, 11, 12]], PAD)
    pairs = list(windows(batch, bptt=2, pad_id=PAD))
    x = torch.cat([p[0] for p in pairs], dim=1)
    y = torch.cat([p[1] for p in pairs], dim=1)
    assert x.tolist() == [[5, 6, 7, 8], [10, 11, 12, PAD]]
    assert y.tolist() == [[6, 7, 8, 9], [11, 12, IGNORE_INDEX, IGNORE_INDEX]]
    assert [p[0].size(1) for p in pairs] == [2, 2]


def test_length_buckets_cover_every_passage_once():
    lengths = [random.Random(i).randint(1, 50) for i in range(103)]
    batches = length_buckets(lengths, 10, random.Random(0))
    assert sorted(i for b in batches for i in b) == list(range(103))
    ascending = length_buckets(lengths, 10, None, ascending=True)
    maxima = [max(lengths[i] for i in b) for b in ascending]
    assert maxima == sorted(maxima)


def _model(cell):
    torch.manual_seed(0)
    return RNNLanguageModel(ModelConfig(vocab_size=30, cell=cell, embedding_size=8, hidden_size=8, dropout=0.0)).eval()


def test_state_carried_across_windows_equals_one_long_pass():
    for cell in ("rnn", "gru", "lstm"):
        model = _model(cell)
        tokens = torch.randint(1, 30, (3, 17))
        full, _ = model(tokens)
        state, pieces = None, []
        for start in range(0, 17, 5):
            logits, state = model(tokens[:, start : start + 5], state)
            state = detach_state(state)
            pieces.append(logits)
        assert torch.allclose(torch.cat(pieces, dim=1), full, atol=1e-5), cell


def test_no_gradient_crosses_a_window_edge():
    model = _model("lstm")
    tokens = torch.randint(1, 30, (2, 10))
    emb = model.embedding(tokens).detach().requires_grad_(True)  # (B, T, E) stands in for the inputs

    def second_window_loss(detach: bool):
        _, state = model.rnn(emb[:, :5])
        if detach:
            state = detach_state(state)
        out, _ = model.rnn(emb[:, 5:], state)
        return model.output(out).sum()

    (grad,) = torch.autograd.grad(second_window_loss(detach=True), emb)
    assert grad[:, :5].abs().sum() == 0  # nothing reaches the first window
    assert grad[:, 5:].abs().sum() > 0
    (grad,) = torch.autograd.grad(second_window_loss(detach=False), emb)
    assert grad[:, :5].abs().sum() > 0  # without the detach it would
