"""The language model's scoring: the full softmax scored in chunks gives what one pass gives."""
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
