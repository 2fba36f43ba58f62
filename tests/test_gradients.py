"""Gradient norms by distance: shape, agreement with independent references, and the textbook behaviour
(a plain RNN's gradient vanishes; an LSTM with its forget gate held open keeps it)."""
from __future__ import annotations

import math
import random

import pytest
import torch

from model.evaluation.gradients import (
    gradient_norm_curves,
    gradient_norms_by_distance,
    gradient_norms_per_sample,
    sample_positions,
)
from model.rnn_lm import ModelConfig, RNNLanguageModel

VOCAB, HIDDEN, D = 30, 16, 20


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny per-step ops: one thread is fastest, and on a busy 2-core machine several are far slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_model(cell: str, num_layers: int = 1, seed: int = 0) -> RNNLanguageModel:
    torch.manual_seed(seed)
    return RNNLanguageModel(ModelConfig(vocab_size=VOCAB, cell=cell, embedding_size=12, hidden_size=HIDDEN,
                                        num_layers=num_layers))


def random_passages(lengths=(5, D + 2, 30, 47, 60), seed: int = 0) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randrange(VOCAB) for _ in range(n)] for n in lengths]


def reference_norm(model: RNNLanguageModel, passage: list[int], t: int, k: int) -> torch.Tensor:
    """||d loss_t / d h_(t-k)|| by a separate route: run the fused model up to step t−k, make the top layer's
    h there a leaf (everything else held), run the rest of the passage in one call, differentiate."""
    model.eval()
    with torch.no_grad():
        _, state = model.encode(torch.tensor([passage[: t - k + 1]]))
    h = (state[0] if isinstance(state, tuple) else state).clone().requires_grad_(True)  # (L, 1, H)
    if k == 0:
        top = h[-1].unsqueeze(1)  # (1, 1, H)
    else:
        rest = model.embedding(torch.tensor([passage[t - k + 1 : t + 1]]))
        out, _ = model.rnn(rest, (h, state[1]) if isinstance(state, tuple) else h)
        top = out[:, -1:]
    nll, _ = model.target_nll(top, torch.tensor([[passage[t + 1]]]))
    (grad,) = torch.autograd.grad(nll.sum(), h)
    return grad[-1, 0].norm()


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_curve_has_every_distance_finite_and_nonnegative(cell):
    curve = gradient_norms_by_distance(tiny_model(cell), random_passages(), max_distance=D, n_samples=6)
    assert sorted(curve) == list(range(D + 1))
    assert all(math.isfinite(v) and v >= 0 for v in curve.values())
    assert curve[0] > 0


@pytest.mark.parametrize("cell,num_layers", [("rnn", 1), ("lstm", 1), ("gru", 2), ("lstm", 2)])
def test_matches_independent_autograd_reference(cell, num_layers):
    model = tiny_model(cell, num_layers)
    model.train()  # the function must switch to eval itself (dropout off) and switch back
    passages = random_passages()
    positions = sample_positions(passages, D, n_samples=5, seed=1)
    assert any(t > D for _, t in positions)  # some samples have a prefix before the window
    per_sample = gradient_norms_per_sample(model, passages, positions, D)["h"]
    assert model.training
    assert per_sample.shape == (len(positions), D + 1)
    for row, (p, t) in enumerate(positions):
        for k in (0, 1, 7, D):
            expected = reference_norm(model, passages[p], t, k)
            assert per_sample[row, k].item() == pytest.approx(expected.item(), rel=1e-4, abs=1e-9)
    assert all(p.grad is None for p in model.parameters())  # the model's .grad is left alone


def test_one_eligible_position_gives_that_samples_norms():
    model = tiny_model("lstm")
    passages = [list(range(1, D + 2)) + [3], [4, 5, 6]]  # exactly one eligible T = D
    assert sample_positions(passages, D, 32) == [(0, D)]
    curve = gradient_norms_by_distance(model, passages, max_distance=D, n_samples=32)
    for k in (0, 3, D):
        assert curve[k] == pytest.approx(reference_norm(model, passages[0], D, k).item(), rel=1e-4)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_matches_finite_differences(cell):
    """No autograd at all: central differences on h_(T-k) in float64, pushed through the fused model."""
    model = tiny_model(cell).double().eval()
    passage, t, k = random_passages((40,), seed=3)[0], 30, 4
    got = gradient_norms_per_sample(model, [passage], [(0, t)], D)["h"][0, k].item()

    with torch.no_grad():
        zero = model.initial_state(1)
        zero = tuple(z.double() for z in zero) if cell == "lstm" else zero.double()
        _, state = model.encode(torch.tensor([passage[: t - k + 1]]), zero)
        rest = model.embedding(torch.tensor([passage[t - k + 1 : t + 1]]))
        target = torch.tensor([[passage[t + 1]]])

        def loss(h):
            out, _ = model.rnn(rest, (h, state[1]) if cell == "lstm" else h)
            return model.target_nll(out[:, -1:], target)[0].item()

        h0, eps, grad = (state[0] if cell == "lstm" else state), 1e-6, []
        for i in range(HIDDEN):
            step = torch.zeros_like(h0)
            step[0, 0, i] = eps
            grad.append((loss(h0 + step) - loss(h0 - step)) / (2 * eps))
    assert got == pytest.approx(math.sqrt(sum(g * g for g in grad)), rel=1e-5)


def test_batching_and_batch_size_do_not_change_the_curve():
    model, passages = tiny_model("gru"), random_passages()
    whole = gradient_norm_curves(model, passages, D, n_samples=7)["h"]
    split = gradient_norm_curves(model, passages, D, n_samples=7, batch_size=2)["h"]
    assert all(split[k] == pytest.approx(whole[k], rel=1e-5) for k in whole)


def test_plain_rnn_gradient_vanishes():
    model = tiny_model("rnn")
    with torch.no_grad():
        model.rnn.weight_hh_l0.mul_(0.3)
    curve = gradient_norms_by_distance(model, random_passages(), max_distance=D, n_samples=8)
    assert curve[20] < 1e-4 * curve[0]
    assert curve[20] < curve[10] < curve[1]


def test_lstm_with_open_forget_gate_keeps_the_gradient():
    model = tiny_model("lstm")
    with torch.no_grad():
        model.rnn.bias_ih_l0[HIDDEN : 2 * HIDDEN] += 10.0  # gate order i, f, g, o: f ≈ 1, the cell keeps all
    curves = gradient_norm_curves(model, random_passages(), max_distance=D, n_samples=8)
    h = curves["h"]
    # k = 1 also has the short direct route h_(T-1) → gates at T → h_T, which dies out within ~3 steps;
    # beyond it the cell state carries a flat plateau. So: within ~10x (here 20x) of k = 1, and flat after.
    assert h[1] / 20 < h[20] < 10 * h[1]
    assert h[5] / 3 < h[20] < 3 * h[5]
    c = curves["c"]
    assert c[0] == 0.0  # loss_T does not depend on c_T
    assert 0.1 < c[20] / c[1] < 10


def test_sample_positions():
    passages = [[0] * 5, [0] * (D + 2), [0] * 40]
    positions = sample_positions(passages, D, n_samples=100)
    assert positions == [(1, D)] + [(2, t) for t in range(D, 39)]  # all eligible, in order
    some = sample_positions(passages, D, n_samples=5, seed=2)
    assert len(set(some)) == 5 and set(some) <= set(positions)
    assert some == sample_positions(passages, D, n_samples=5, seed=2)
    with pytest.raises(ValueError):
        sample_positions([[0] * (D + 1)], D, 4)
    with pytest.raises(ValueError):
        gradient_norms_per_sample(tiny_model("rnn"), passages, [(0, 3)], D)
