"""The Predictor (model/predict.py) without the service: the one function every caller wraps."""
import pytest

from model import GREEDY_BELOW_TEMPERATURE, Predictor
from model.checkpoint import load_latest


@pytest.mark.parametrize("temperature", [5e-324, 1e-300, 1e-40, GREEDY_BELOW_TEMPERATURE / 2])
def test_a_temperature_near_zero_is_greedy_decoding(tiny_models_dir, temperature):
    predictor = Predictor(load_latest(tiny_models_dir))
    greedy = predictor.generate("I grew up in France.", max_words=8, temperature=1.0, top_k=1, seed=3)
    for seed in (0, 1, 2):
        near_zero = predictor.generate("I grew up in France.", max_words=8, temperature=temperature, seed=seed)
        assert near_zero.words == greedy.words
