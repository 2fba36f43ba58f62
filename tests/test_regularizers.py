"""Training-only regularisers (model/training/regularizers.py), each alone. Their effect inside the
network (training only, every occurrence of a word) is tested in test_rnn_lm.py."""
import json

import torch

from model.training.data import load_splits
from model.training.regularizers import (
    answer_word_weights,
    recurrent_drop_connect,
    unknown_word_dropout,
    word_type_dropout,
)
from tests.conftest import tiny_train_config, write_tiny_corpus


def test_unknown_word_dropout_spares_protected_ids_and_keeps_its_rate():
    protected = torch.zeros(100, dtype=torch.bool)
    protected[1] = True
    x = torch.randint(2, 100, (50, 200))
    x[:, ::10] = 1
    out = unknown_word_dropout(x, 0.2, unk_id=0, protected=protected, generator=torch.Generator().manual_seed(0))
    assert (out[:, ::10] == 1).all()
    rate = (out == 0).float().sum() / (x != 1).sum()
    assert 0.17 < rate < 0.23
    assert torch.equal(unknown_word_dropout(x, 0.0, 0, protected), x)


def test_answer_word_weights_come_from_the_corpus(tmp_path):
    corpus = write_tiny_corpus(tmp_path / "corpus")
    tokenizer, _ = load_splits(tiny_train_config(corpus, tmp_path / "models"))
    assert answer_word_weights(corpus, tokenizer) is None
    (corpus / "loss_weights.json").write_text(json.dumps({"French": 30, "Klingon": 5}))
    weights = answer_word_weights(corpus, tokenizer)
    assert weights[tokenizer.encode("french")[0]] == 30
    assert weights[tokenizer.unk_id] == 1 and int((weights != 1).sum()) == 1  # Klingon is not in the vocabulary


def test_word_type_dropout_zeroes_whole_word_types_and_rescales_the_rest():
    torch.manual_seed(0)
    tokens = torch.tensor([[3, 5, 3, 7, 5, 3]])
    x = torch.ones(1, 6, 4)
    out = word_type_dropout(x, tokens, 0.5, vocab_size=10)
    by_word = {int(t): out[0, i] for i, t in enumerate(tokens[0])}
    for i, t in enumerate(tokens[0]):
        assert torch.equal(out[0, i], by_word[int(t)])  # every occurrence of a word alike
    assert {float(v[0]) for v in by_word.values()} <= {0.0, 2.0}  # dropped, or kept and scaled by 1 / 0.5


def test_recurrent_drop_connect_masks_only_the_hidden_to_hidden_matrices():
    torch.manual_seed(0)
    rnn = torch.nn.GRU(4, 8, num_layers=2)
    dropped = recurrent_drop_connect(rnn, 0.5)
    assert dropped.keys() == dict(rnn.named_parameters()).keys()
    for name, weight in rnn.named_parameters():
        if name.startswith("weight_hh"):
            assert 0.3 < float((dropped[name] == 0).float().mean()) < 0.7
        else:
            assert dropped[name] is weight
