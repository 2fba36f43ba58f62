"""The most words a second this machine could serve with a W-word history, if only the arithmetic cost.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/word_arithmetic_bound.py --models-dir models-english

A request that reads one new word with the document cache must at least: step the recurrence once,
compute the output layer's whole distribution (λ_t needs its entropy, and the letters that follow rank
it), and score the window's W keys against the new hidden state. Those are matrix-vector products
over ~18 MB for the english model (its weights, and 2,000 keys of 512 floats), more than this
machine's last-level cache, so under load they run at memory speed. This bench runs exactly those
steps of the served path (model/fast_step.py's numpy recurrence and output layer, then the keys'
product) in two processes at once, forked after loading as gunicorn's two workers are, so the model's
weights are one copy; each has a window of its own and does nothing else: no web stack, no state
token, no ranking, no n-gram.

It prints the bytes each step reads and the words a second the two processes reach together: an upper
bound on what any serving code for this model and window could reach here. Compare it with the bare
Flask app's requests a second under bench/api_speed.py, measured in the same minutes: the issue asks a
word to reach 0.40 of that.

That is the served code's arithmetic. --floor runs the least arithmetic those steps take instead:
the same matrix-vector products and one exp of each score (Floor), nothing normalised; with
--int8-output its output-layer matrices are int8 (torch's fbgemm dynamic-quantized linear, one scale a
row, as model/quantize.py makes them): a quarter of their bytes, and probabilities that move by a few
hundredths in log space. The service serves neither; they show how far a leaner path could go.

A word that costs the arithmetic's share of the two cores on top of the bare app's own reaches at most
bound ÷ (bound + bare) of the bare app's requests a second; --bare-rps prints that.
"""
from __future__ import annotations

import argparse
import multiprocessing
import time
from pathlib import Path

import numpy as np
import torch

from model.checkpoint import load_latest, load_version
from model.predict import Predictor
from model.quantize import quantize_int8


def arithmetic_bytes(predictor: Predictor, window: int) -> dict[str, int]:
    """Bytes of weights and keys one word's arithmetic reads, by step."""
    steps, head = predictor._recurrence, predictor._numpy_top
    recurrence = 0
    for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(steps.layers):
        reads_table = layer == 0 and steps.input_table is not None
        recurrence += (steps.input_table.shape[1] * 4 if reads_table else w_ih.nbytes + b_ih.nbytes) + w_hh.nbytes + b_hh.nbytes
    output = head.weight.nbytes + (0 if head.bias is None else head.bias.nbytes)
    if head.adaptive:
        output += sum(projection.nbytes + words.nbytes for projection, words in head.tails)
    return {"recurrent step": recurrence, "output layer, every word": output,
            "the window's keys": window * predictor.model.config.hidden_size * 4}


class Floor:
    """The least arithmetic a word's whole distribution takes: the output layer's matrix-vector products
    (float32 numpy, or the int8 layers model/quantize.py makes) and one exp of every word's score (torch's
    vectorised exp, ~2.5x numpy's here), nothing normalised, no log taken."""

    def __init__(self, predictor: Predictor, int8: bool) -> None:
        head = predictor._numpy_top
        if int8:  # model.quantize's int8 layers: nn.Linear → Int8Linear, taking one vector as nn.Linear does
            output = quantize_int8(predictor.model).output
            layers = [output.head, *(tail[0] for tail in output.tail)] if head.adaptive else [output]
            self.matrices = [lambda x, layer=layer: layer(torch.from_numpy(x)) for layer in layers]
            self.tails = [lambda x, layer=tail[1]: layer(x) for tail in output.tail] if head.adaptive else []
        else:
            tails = head.tails if head.adaptive else []
            self.matrices = [lambda x: torch.from_numpy(head._logits(x))]
            self.matrices += [lambda x, m=projection: torch.from_numpy(m @ x) for projection, _ in tails]
            self.tails = [lambda z, m=words: torch.from_numpy(m @ z.numpy()) for _, words in tails]

    def scores(self, hidden: np.ndarray) -> list[torch.Tensor]:
        head, *projections = [product(hidden) for product in self.matrices]
        return [torch.exp(head)] + [torch.exp(words(z)) for z, words in zip(projections, self.tails)]


def count_words(predictor: Predictor, head, window: int, seed: int, start: float, end: float, done) -> None:
    """One worker: from `start` to `end` (perf_counter), word after word, the arithmetic and nothing else;
    puts the words done on `done`. `head` is the served NumpyTopK (its distribution, as
    Predictor.mixture_parts takes it), or a Floor."""
    steps = predictor._recurrence
    hidden, vocab = predictor.model.config.hidden_size, predictor.tokenizer.vocab_size
    keys = np.random.default_rng(seed).standard_normal((window, hidden)).astype(np.float32) * 0.3  # (W, H), its own
    state, token, words = predictor.model.initial_state(1), seed, 0
    while time.perf_counter() < start:
        time.sleep(0.01)
    while time.perf_counter() < end:
        token = (token * 7919 + 13) % vocab
        state = steps.advance([token], state)
        query = predictor._hidden(state)  # (H,)
        if isinstance(head, Floor):
            head.scores(query)
            torch.exp(torch.from_numpy(keys @ query))  # (W,) the window's weights, unnormalised
        else:
            head.distribution(query)  # (V,) the whole distribution and its entropy
            np.exp(keys @ query)  # (W,)
        words += 1
    done.put(words)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models-dir", type=Path, default=Path("models"))
    p.add_argument("--version-dir", type=Path)
    p.add_argument("--window", type=int, help="keys in the window (default: the version's cache window)")
    p.add_argument("--workers", type=int, default=2, help="processes running at once (gunicorn runs 2)")
    p.add_argument("--seconds", type=float, default=10.0, help="how long they run")
    p.add_argument("--floor", action="store_true", help="the least arithmetic instead of the served code's (see above)")
    p.add_argument("--int8-output", action="store_true", help="with --floor: the output layer's matrices in int8")
    p.add_argument("--bare-rps", type=float, help="the bare app's req/s at c8, measured in the same minutes")
    a = p.parse_args()
    torch.set_num_threads(1)
    predictor = Predictor(load_version(a.version_dir) if a.version_dir else load_latest(a.models_dir))
    steps, head = predictor._recurrence, predictor._numpy_top
    if steps is None or head is None:
        raise SystemExit("this version has no numpy path (model/fast_step.py): nothing to bound")
    window = a.window or predictor.cache_settings.window
    hidden = predictor.model.config.hidden_size
    parts = arithmetic_bytes(predictor, window)
    if a.int8_output and not a.floor:
        p.error("--int8-output goes with --floor")
    if a.floor:
        head = Floor(predictor, a.int8_output)
        if a.int8_output:
            parts["output layer, every word"] //= 4
    vocab = predictor.tokenizer.vocab_size
    context = multiprocessing.get_context("fork")  # the children share the loaded weights' pages
    deadline = time.perf_counter() + 2.0 + a.seconds  # all start timing at the same moment, after forking
    done = context.Queue()
    workers = [context.Process(target=count_words, args=(predictor, head, window, seed, deadline - a.seconds, deadline, done))
               for seed in range(a.workers)]
    for w in workers:
        w.start()
    words = sum(done.get() for _ in workers)
    for w in workers:
        w.join()
    total = sum(parts.values())
    print(f"model {predictor.version}: hidden {hidden}, {vocab:,} words; window {window:,} keys; "
          f"{a.workers} processes, {a.seconds:.0f} s; {'the floor' if a.floor else 'the served arithmetic'}, "
          f"output layer {'int8' if a.int8_output else 'float32'}")
    print("| step | MB read a word |\n|---|---|")
    for name, size in parts.items():
        print(f"| {name} | {size / 1e6:.2f} |")
    print(f"| all | {total / 1e6:.2f} |")
    words_per_second = words / a.seconds
    print(f"\nwords a second, the arithmetic alone in {a.workers} processes: {words_per_second:,.0f} "
          f"({words_per_second * total / 1e9:.1f} GB/s of weights and keys read)")
    # 0.40 needs words_per_second / (words_per_second + bare) >= 0.40, that is bare <= 1.5 × words_per_second.
    print(f"a bare app faster than {1.5 * words_per_second:,.0f} req/s puts 0.40 of it out of reach of code that does this")
    if a.bare_rps:
        at_most = words_per_second / (words_per_second + a.bare_rps)
        print(f"with the bare app at {a.bare_rps:,.0f} req/s a word reaches at most {at_most:.3f} of it")


if __name__ == "__main__":
    main()
