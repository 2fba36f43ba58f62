"""The language model's scoring: the full softmax scored in chunks gives what one pass gives."""
import pytest
import torch

import model.rnn_lm as rnn_lm
from model.rnn_lm import ModelConfig, RNNLanguageModel


def test_full_softmax_scoring_in_chunks_equals_one_pass(monkeypatch):
    torch.manual_seed(0)
    model = RNNLanguageModel(ModelConfig(vocab_size=50, cell="gru", embedding_size=8, hidden_size=8)).eval()
    tokens = torch.randint(0, 50, (3, 20))
    targets = torch.randint(0, 50, (3, 20))
    targets[0, 5:] = -100  # ignored targets are left out either way
    with torch.no_grad():
        out, _ = model.encode(tokens)
        whole, ids = model.target_nll(out, targets)
        monkeypatch.setattr(rnn_lm, "SCORE_ROWS", 7)  # 45 counted rows → 7 chunks
        chunked, chunked_ids = model.target_nll(out, targets)
    assert whole.shape == (45,) and torch.equal(ids, chunked_ids)
    torch.testing.assert_close(chunked, whole, rtol=0, atol=1e-6)
    # Training still takes one pass, with the gradient.
    nll, _ = model.target_nll(model.encode(tokens)[0], targets)
    assert nll.requires_grad


def test_position_nll_is_target_nll_with_zeros_at_ignored_positions():
    """The trainer's full-softmax loss (every position, no data-dependent shape) sums to the scorer's."""
    torch.manual_seed(0)
    model = RNNLanguageModel(ModelConfig(vocab_size=50, cell="lstm", embedding_size=8, hidden_size=8)).eval()
    tokens, targets = torch.randint(0, 50, (3, 20)), torch.randint(0, 50, (3, 20))
    targets[1, 12:] = -100
    with torch.no_grad():
        out, _ = model.encode(tokens)
        counted, _ = model.target_nll(out, targets)
        every = model.position_nll(out, targets)
    assert every.shape == (60,)
    assert torch.all(every.view(3, 20)[1, 12:] == 0)
    torch.testing.assert_close(every[targets.flatten() != -100], counted)


def _regularised(cell: str, **extra) -> RNNLanguageModel:
    torch.manual_seed(0)
    return RNNLanguageModel(ModelConfig(vocab_size=50, cell=cell, embedding_size=8, hidden_size=8, num_layers=2,
                                        dropout=0.0, **extra))


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_weight_drop_and_embedding_dropout_act_in_training_only(cell):
    plain = _regularised(cell)
    model = _regularised(cell, weight_drop=0.5, embedding_dropout=0.3)
    tokens = torch.randint(0, 50, (3, 7))
    params = dict(model.rnn.named_parameters())
    model.train()
    first, _ = model.encode(tokens)
    second, _ = model.encode(tokens)
    assert not torch.allclose(first, second)  # a fresh mask per window
    first.sum().backward()
    assert model.rnn.weight_hh_l0.grad.abs().sum() > 0  # the gradient reaches the matrix the masks were drawn on
    assert dict(model.rnn.named_parameters()) == params  # the module keeps its own weights, undropped
    model.eval()
    plain.eval()
    with torch.no_grad():
        torch.testing.assert_close(model.encode(tokens)[0], plain.encode(tokens)[0], rtol=0, atol=0)


def test_embedding_dropout_drops_every_occurrence_of_a_word():
    """Whole rows: in one window a word reads zeros everywhere or its (rescaled) vector everywhere."""
    model = _regularised("gru", embedding_dropout=0.5).train()
    seen = []
    model.rnn.register_forward_hook(lambda module, args, out: seen.append(args[0].detach()))
    tokens = torch.tensor([[3, 7] * 10])  # two words, ten times each
    for _ in range(30):
        model.encode(tokens)
    kept = {3: 0, 7: 0}
    for x in seen:  # (1, 20, E)
        for word, rows in ((3, x[0, 0::2]), (7, x[0, 1::2])):
            assert torch.equal(rows, rows[:1].expand_as(rows))  # the same for every occurrence
            if rows.abs().sum() > 0:
                kept[word] += 1
                torch.testing.assert_close(rows[0], model.embedding.weight[word].detach() * 2)  # 1 / (1 - 0.5)
    assert 0 < kept[3] < 30 and 0 < kept[7] < 30  # each word dropped in some windows, kept in others


def test_regularisers_are_checked():
    for name in ("weight_drop", "embedding_dropout", "dropout"):
        with pytest.raises(ValueError, match=name):
            ModelConfig(vocab_size=50, **{name: 1.0})
