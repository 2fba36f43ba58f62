"""bench/word_arithmetic_bound.py runs on a version and counts the bytes a word's arithmetic reads."""
import subprocess
import sys

from bench.word_arithmetic_bound import arithmetic_bytes
from model.checkpoint import load_latest
from model.predict import Predictor


def test_the_bound_counts_each_steps_bytes(cache_models_dir):
    predictor = Predictor(load_latest(cache_models_dir))
    model = predictor.model
    parts = arithmetic_bytes(predictor, window=100)
    weights = {name: p.numel() * 4 for name, p in model.named_parameters()}
    assert parts["the window's keys"] == 100 * model.config.hidden_size * 4
    # A table row instead of W_ih where the input table exists (model/fast_step.py), W_hh and both biases.
    table = predictor._recurrence.input_table
    expected_step = (table.shape[1] * 4 if table is not None else weights["rnn.weight_ih_l0"] + weights["rnn.bias_ih_l0"])
    assert parts["recurrent step"] == expected_step + weights["rnn.weight_hh_l0"] + weights["rnn.bias_hh_l0"]
    assert parts["output layer, every word"] == sum(size for name, size in weights.items() if name.startswith("output."))


def test_the_bound_runs_each_path(cache_models_dir):
    for extra in ([], ["--floor"], ["--floor", "--int8-output"]):
        done = subprocess.run([sys.executable, "bench/word_arithmetic_bound.py", "--models-dir", str(cache_models_dir),
                               "--seconds", "0.5", "--bare-rps", "1000", *extra], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "words a second" in done.stdout and "reaches at most" in done.stdout
