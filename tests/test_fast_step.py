"""The numpy hot path (model/fast_step.py) against torch: the same states and the same top k,
for every cell and both softmaxes, on small random models built here."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from model import fast_step
from model import predict as predict_module
from model.checkpoint import load_version, save_version
from model.fast_step import NumpyRecurrence, NumpyTopK
from model.predict import CELL_STEPS_UP_TO, Predictor
from model.quantize import quantize_int8
from model.rnn_lm import ModelConfig, RNNLanguageModel
from model.tokenizer import train_tokenizer

VOCAB = 120
SOFTMAXES = {"full": (), "adaptive": (30, 80)}


def random_model(cell: str, layers: int, softmax: str, seed: int = 0) -> RNNLanguageModel:
    torch.manual_seed(seed)
    model = RNNLanguageModel(ModelConfig(vocab_size=VOCAB, cell=cell, embedding_size=12, hidden_size=20,
                                         num_layers=layers, adaptive_cutoffs=SOFTMAXES[softmax])).eval()
    with torch.no_grad():  # larger weights than the initialisation's: gates saturate, every branch counts
        for p in model.parameters():
            p.mul_(4.0)
    return model


def random_state(model: RNNLanguageModel, seed: int):
    g = torch.Generator().manual_seed(seed)
    h = torch.rand(model.initial_state(1)[0].shape if model.config.cell == "lstm" else model.initial_state(1).shape,
                   generator=g) * 2 - 1
    return (h, torch.randn(h.shape, generator=g)) if model.config.cell == "lstm" else h


def flat(state) -> torch.Tensor:
    return torch.cat([s.flatten() for s in state]) if isinstance(state, tuple) else state.flatten()


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("input_table", [True, False], ids=["input-table", "no-input-table"])
def test_numpy_steps_give_the_state_the_fused_torch_recurrence_gives(cell, layers, input_table, monkeypatch):
    if not input_table:  # a vocabulary too large for the table of first-layer input projections
        monkeypatch.setattr(fast_step, "INPUT_TABLE_MAX_BYTES", 0)
    model = random_model(cell, layers, "full")
    recurrence = NumpyRecurrence.build(model)
    assert recurrence is not None
    assert (recurrence.input_table is not None) == input_table
    for trial in range(20):
        ids = [(7 * trial + 13 * j) % VOCAB for j in range(1 + trial % CELL_STEPS_UP_TO)]
        state = random_state(model, trial) if trial % 4 else model.initial_state(1)
        with torch.inference_mode():
            _, expected = model.encode(torch.tensor([ids]), state)
            got = recurrence.advance(ids, state)
        assert type(got) is type(expected)
        torch.testing.assert_close(flat(got), flat(expected), atol=1e-5, rtol=0)


def test_a_relu_rnn_is_followed_too():
    model = random_model("rnn", 2, "full")
    relu = torch.nn.RNN(12, 20, num_layers=2, nonlinearity="relu", batch_first=True)
    relu.load_state_dict(model.rnn.state_dict())
    model.rnn = relu.eval()
    recurrence = NumpyRecurrence.build(model)
    state = random_state(model, 1)
    with torch.inference_mode():
        _, expected = model.encode(torch.tensor([[3, 4]]), state)
        torch.testing.assert_close(recurrence.advance([3, 4], state), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("softmax", ["full", "adaptive"])
@pytest.mark.parametrize("k", [1, 5, 40])
def test_numpy_top_k_is_the_top_k_of_the_full_torch_distribution(softmax, k):
    model = random_model("gru", 1, softmax)
    offerable = np.array([i for i in range(VOCAB) if i % 7 != 3])  # some ids are never offered
    top = NumpyTopK.build(model, offerable)
    assert top is not None
    for trial in range(30):
        hidden = random_state(model, trial)[-1, 0] * (1 + trial % 4)  # (H,), flat to peaked distributions
        with torch.inference_mode():
            probs = model.log_probs(hidden).exp()[offerable]
        best = torch.topk(probs, k)
        got = top.top(hidden.numpy(), k)
        assert [i for i, _ in got] == offerable[best.indices.numpy()].tolist()
        np.testing.assert_allclose([p for _, p in got], best.values.numpy(), atol=1e-5, rtol=0)


def test_numpy_top_k_returns_all_words_when_fewer_than_k_are_offerable():
    model = random_model("lstm", 1, "adaptive")
    offerable = np.array([2, 50, 100])  # one in the head, one in each tail cluster
    got = NumpyTopK.build(model, offerable).top(random_state(model, 0)[0][-1, 0].numpy(), 5)
    assert sorted(i for i, _ in got) == [2, 50, 100]
    assert [p for _, p in got] == sorted((p for _, p in got), reverse=True)


def predictor_for(tmp_path, cell: str, softmax: str, layers: int = 1) -> Predictor:
    words = [f"w{i}" for i in range(60)]
    tok = train_tokenizer([" ".join(words[: n + 1]) for n in range(60)], vocab_size=100, min_frequency=1)
    torch.manual_seed(0)
    cutoffs = (20, 40) if softmax == "adaptive" else ()
    model = RNNLanguageModel(ModelConfig(vocab_size=tok.vocab_size, cell=cell, embedding_size=16, hidden_size=16,
                                         num_layers=layers, adaptive_cutoffs=cutoffs))
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(4.0)
    return Predictor(load_version(save_version(tmp_path, model, tok, {}, {})))


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("softmax", ["full", "adaptive"])
def test_the_predictor_answers_through_numpy_as_it_does_through_torch(tmp_path, cell, softmax):
    fast = predictor_for(tmp_path / "a", cell, softmax)
    slow = predictor_for(tmp_path / "b", cell, softmax)
    slow._recurrence = slow._numpy_top = None  # the torch path (what an int8 model takes)
    assert fast._recurrence is not None and fast._numpy_top is not None
    for i in range(12):
        history = " ".join(f"w{(i + j) % 60}" for j in range(8))
        new = " ".join(f"w{(3 * i + j) % 60}" for j in range(1 + i % CELL_STEPS_UP_TO))
        a = fast.predict(new, 8, state=fast.predict(history).state)
        b = slow.predict(new, 8, state=slow.predict(history).state)
        whole = slow.predict(history + " " + new, 8)  # one fused torch call over the whole text
        for other in (b, whole):
            assert [p.word for p in a.predictions] == [p.word for p in other.predictions]
            assert all(abs(x.probability - y.probability) <= 1e-5 for x, y in zip(a.predictions, other.predictions))
            torch.testing.assert_close(flat(a.state), flat(other.state), atol=1e-5, rtol=0)


def test_an_int8_model_keeps_the_torch_path(tmp_path):
    predictor = predictor_for(tmp_path, "gru", "adaptive")
    quantized = Predictor(predictor.loaded.__class__(**{**predictor.loaded.__dict__,
                                                         "model": quantize_int8(predictor.loaded.model)}))
    assert quantized._recurrence is None and quantized._numpy_top is None
    assert len(quantized.predict("w1 w2 w3", 3).predictions) == 3


def test_short_prompts_are_encoded_from_a_bounded_cache_long_ones_directly(tmp_path, monkeypatch):
    predictor = predictor_for(tmp_path, "gru", "adaptive")
    calls = []
    encode = predictor.tokenizer.encode
    monkeypatch.setattr(predictor.tokenizer, "encode", lambda text: calls.append(text) or encode(text))
    monkeypatch.setattr(predictor, "_encode_short", predict_module._cached_encoder(predictor.tokenizer.encode, 2))
    short = "w1 w2"
    long_prompt = " ".join(["w3"] * 40)  # over SHORT_PROMPT_CHARS
    assert len(long_prompt) > predict_module.SHORT_PROMPT_CHARS >= len(short)
    for _ in range(3):
        assert tuple(predictor.encode(short)) == tuple(encode(short))
        assert tuple(predictor.encode(long_prompt)) == tuple(encode(long_prompt))
    assert calls.count(short) == 1 and calls.count(long_prompt) == 3
    for text in ("w4", "w5", "w6"):  # at most 2 kept: the oldest goes
        predictor.encode(text)
    predictor.encode(short)
    assert calls.count(short) == 2


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_a_long_prompt_runs_in_numpy_steps_where_they_win_and_agrees_with_the_fused_call(tmp_path, cell, monkeypatch):
    fast = predictor_for(tmp_path / "a", cell, "adaptive")  # one layer, with its input table
    slow = predictor_for(tmp_path / "b", cell, "adaptive")
    slow._recurrence = slow._numpy_top = None  # the fused torch call
    assert fast._recurrence.steps_win_at_any_length
    monkeypatch.setattr(fast, "_encode", lambda *a: pytest.fail("the fused call ran"))
    for i in range(3):
        prompt = " ".join(f"w{(7 * j + i) % 60}" for j in range(40))
        a, b = fast.predict(prompt, 8), slow.predict(prompt, 8)
        # 40 steps of these deliberately large weights amplify rounding: the tanh RNN's probabilities
        # differed by up to 2.8e-5 (GRU and LSTM: not at all in 6 decimals). 1e-4 is what the state
        # token promises.
        assert [p.word for p in a.predictions] == [p.word for p in b.predictions]
        assert all(abs(x.probability - y.probability) <= 1e-4 for x, y in zip(a.predictions, b.predictions))
        torch.testing.assert_close(flat(a.state), flat(b.state), atol=1e-4, rtol=0)


def test_deeper_models_or_no_input_table_keep_the_fused_call_for_long_prompts(tmp_path, monkeypatch):
    deep = predictor_for(tmp_path / "a", "lstm", "adaptive", layers=2)
    assert not deep._recurrence.steps_win_at_any_length
    monkeypatch.setattr(fast_step, "INPUT_TABLE_MAX_BYTES", 0)
    assert not NumpyRecurrence.build(random_model("gru", 1, "full")).steps_win_at_any_length
    fused = []
    encode = deep._encode
    monkeypatch.setattr(deep, "_encode", lambda ids, state: fused.append(len(ids)) or encode(ids, state))
    deep.predict(" ".join(f"w{j}" for j in range(CELL_STEPS_UP_TO)), 3)  # short: numpy steps
    deep.predict(" ".join(f"w{j}" for j in range(CELL_STEPS_UP_TO + 1)), 3)
    assert fused == [CELL_STEPS_UP_TO + 1]


@pytest.mark.parametrize("softmax", ["full", "adaptive"])
def test_the_numpy_distribution_and_its_entropy_are_the_models(softmax):
    model = random_model("gru", 1, softmax)
    top = NumpyTopK.build(model, np.arange(VOCAB))
    for trial in range(10):
        hidden = random_state(model, trial)[-1, 0] * (1 + trial % 4)
        with torch.inference_mode():
            log_probs = model.log_probs(hidden).double()
        expected = log_probs.exp().numpy()
        probs, entropy = top.distribution(hidden.numpy())
        assert probs.dtype == np.float32 and probs.shape == (VOCAB,)
        np.testing.assert_allclose(probs, expected, rtol=2e-5, atol=1e-9)
        assert entropy == pytest.approx(float(-(log_probs.exp() * log_probs).sum()), rel=1e-5)


@pytest.mark.parametrize("softmax", ["full", "adaptive"])
@pytest.mark.parametrize("entropy_scale", [0.0, 3.0])
def test_the_cache_mixture_is_ranked_in_numpy_as_from_the_whole_mixed_distribution(tmp_path, softmax, entropy_scale):
    """The served path ranks the model's k best and the cache's words only; the reference builds the
    mixture over the vocabulary (Predictor.mixed_distribution). Copied words and prefixes included."""
    from model.cache import CacheSettings

    fast = predictor_for(tmp_path / "a", "gru", softmax)
    settings = CacheSettings(weight=0.4, flatness=0.5, window=50, entropy_scale=entropy_scale)
    text = " ".join(f"w{(5 * j) % 60}" if j % 9 else f"Zorba{j % 4} w{j % 11}" for j in range(120))
    for prefix in (None, "w", "w1", "w55", "z", "Zorba2", "q"):
        for k in (1, 3, 8):
            cache = fast.new_cache(settings)
            state = fast.predict(text, state=None, cache=cache).state
            got = fast.top_words(state, k, prefix, cache)
            expected = fast.top_from_mixture(fast.mixed_distribution(state, cache), k, prefix)
            assert [p.word for p in got] == [p.word for p in expected], (prefix, k)
            assert all(abs(x.probability - y.probability) <= 1e-5 for x, y in zip(got, expected))
            if prefix in ("z", "Zorba2"):
                assert got and all(p.word.startswith("Zorba") for p in got)  # words it never learned, copied
