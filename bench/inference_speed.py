"""In-process inference on CPU: naive float32 vs the predictor vs the predictor with int8 weights,
side by side in one run, one torch thread (as in a gunicorn worker). Under a minute on a real model.

    .venv/bin/python bench/inference_speed.py                                  # newest version in models/
    .venv/bin/python bench/inference_speed.py --models-dir data/experiment/models/gru

Latency, over --repeats calls each after --warmup, the cases interleaved in a shuffled order every
round so that load from other work on the machine falls on all of them alike:

- naive prompt:  float32 `model(tokens)` over a 50-word prompt, the output layer at every position,
                 then the top 5 words of the last row;
- prompt:        `Predictor.predict` (the recurrence, then only the last position projected);
- prompt int8:   the same with `model.quantize.quantize_int8` applied at load time;
- naive step / step / step int8: one more word after the prompt, from the state it left
                 (a one-token `model(tokens, state)` for the naive one).
Each timed call includes tokenizing and the top-5 selection. Then, float32 against int8: model size
(safetensors file; torch.save of the state dict, the only writer of torch's packed int8 weights),
accuracy by gap on the held-out probes of model.evaluation.probes (plain and with a passing mention), the
share of probes whose first word is the same, and the perplexity on the version's own test split
(skipped with a note when that corpus is not on this machine). Prints markdown tables and the
targets: int8 prompt ≥ 2× faster than naive; top-1 accuracy at every gap within one point.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import sys
import time
from pathlib import Path

import torch

from model.checkpoint import CheckpointError, load_latest
from model.evaluation.probes import GAPS, accuracy_by_gap, heldout_sentences, make_probes, test_perplexity, top_words
from model.predict import Predictor
from model.quantize import quantize_int8, serialized_size_bytes

PROMPT_WORDS = 50
K = 5


def held_out_words(n: int) -> list[str]:
    """The first n words of the held-out filler: text the model never trained on."""
    return " ".join(heldout_sentences()).split()[:n]


def naive_predict(predictor: Predictor, text: str, state=None):
    """Float32 as a first version would do it: log-probabilities at every position, keep the last."""
    tokens = torch.tensor([predictor.tokenizer.encode(text)])
    with torch.inference_mode():
        log_probs, state = predictor.model(tokens, state)  # (1, T, V): the output layer T times
        return predictor.top_k(log_probs[0, -1].exp(), K), state


def time_cases(cases: dict, repeats: int, warmup: int) -> dict[str, list[float]]:
    """{name: [ms per call]}: every round calls each case once, in a fresh shuffled order."""
    rng = random.Random(0)
    names = list(cases)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(warmup + repeats):
        rng.shuffle(names)
        for name in names:
            start = time.perf_counter_ns()
            cases[name]()
            elapsed = (time.perf_counter_ns() - start) / 1e6
            if round_ >= warmup:
                times[name].append(elapsed)
    return times


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="use the newest version in this folder")
    p.add_argument("--repeats", type=int, default=300, help="timed calls per case")
    p.add_argument("--warmup", type=int, default=20, help="untimed calls per case first")
    p.add_argument("--gaps", type=int, nargs="+", default=list(GAPS), help="gaps of the accuracy comparison")
    p.add_argument("--corpus-dir", type=Path, help="corpus with test.txt for perplexity (default: the version's own)")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    a = p.parse_args(argv)

    torch.set_num_threads(1)  # one gunicorn worker = one torch thread
    load_start = os.getloadavg()
    print(f"load average at start: {load_start[0]:.2f} (1 min), {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread, quantized engine {torch.backends.quantized.engine}")
    try:
        loaded = load_latest(a.models_dir)
    except CheckpointError as e:
        p.exit(2, f"error: {e}\n")
    start = time.perf_counter()
    quantized = dataclasses.replace(loaded, model=quantize_int8(loaded.model))
    quantize_ms = (time.perf_counter() - start) * 1e3
    cfg = loaded.model.config
    print(f"model {loaded.version}: {cfg.cell} {cfg.num_layers}×{cfg.hidden_size}, vocabulary {cfg.vocab_size}, "
          f"{'adaptive softmax ' + str(list(cfg.adaptive_cutoffs)) if cfg.adaptive_cutoffs else 'full softmax'}; "
          f"quantized at load in {quantize_ms:.0f} ms")

    words = held_out_words(PROMPT_WORDS + 1)
    prompt, next_word = " ".join(words[:PROMPT_WORDS]), words[PROMPT_WORDS]
    fp, qp = Predictor(loaded), Predictor(quantized)
    prompt_tokens = len(loaded.tokenizer.encode(prompt))
    float_state, int8_state = fp.predict(prompt, K).state, qp.predict(prompt, K).state
    cases = {
        "naive prompt (float32, every position)": lambda: naive_predict(fp, prompt),
        "prompt (last position only)": lambda: fp.predict(prompt, K),
        "prompt, int8": lambda: qp.predict(prompt, K),
        "naive step (float32)": lambda: naive_predict(fp, next_word, float_state),
        "step": lambda: fp.predict(next_word, K, state=float_state),
        "step, int8": lambda: qp.predict(next_word, K, state=int8_state),
    }
    times = time_cases(cases, a.repeats, a.warmup)
    medians = {name: statistics.median(t) for name, t in times.items()}
    naive_prompt, naive_step = medians["naive prompt (float32, every position)"], medians["naive step (float32)"]

    print(f"\n### Latency: in-process, 1 thread, {a.repeats} calls each after {a.warmup} warm-up, "
          f"a {PROMPT_WORDS}-word prompt ({prompt_tokens} tokens), top {K}\n")
    print("| case | median ms | p90 ms | speed-up vs naive (median) |")
    print("|---|---|---|---|")
    for name, t in times.items():
        base = naive_step if "step" in name else naive_prompt
        print(f"| {name} | {medians[name]:.3f} | {p90(t):.3f} | {base / medians[name]:.2f}× |")
    print(f"\n(step rows are compared with the naive step; re-reading the whole {PROMPT_WORDS + 1}-word text "
          f"instead costs about one naive prompt: {naive_prompt / medians['step, int8']:.0f}× an int8 step)")

    safetensors_bytes = (loaded.path / "model.safetensors").stat().st_size
    float_bytes, int8_bytes = serialized_size_bytes(loaded.model), serialized_size_bytes(quantized.model)
    print("\n### Model size\n")
    print("| weights | bytes | vs float32 |\n|---|---|---|")
    print(f"| float32, model.safetensors on disk | {safetensors_bytes:,} | |")
    print(f"| float32, torch.save(state_dict) | {float_bytes:,} | 1.00 |")
    print(f"| int8 (embedding still float32), torch.save(state_dict) | {int8_bytes:,} | {int8_bytes / float_bytes:.2f} |")

    start = time.perf_counter()
    results, agree, probes_n = {}, 0, 0
    for kind, mention in (("plain", False), ("mention", True)):
        probes = make_probes(a.gaps, mention=mention, seed=0)
        texts = [probe.text for probe in probes]
        float_words, int8_words = top_words(loaded, texts), top_words(quantized, texts)
        results[kind] = (accuracy_by_gap(probes, float_words), accuracy_by_gap(probes, int8_words))
        agree += sum(f[0] == q[0] for f, q in zip(float_words, int8_words))
        probes_n += len(probes)
    accuracy_s = time.perf_counter() - start
    print(f"\n### Accuracy by gap (held-out probes, {probes_n:,} in all, {accuracy_s:.0f} s for both models)\n")
    print("| probes | weights | " + " | ".join(f"gap {g}" for g in a.gaps) + " |")
    print("|---" * (len(a.gaps) + 2) + "|")
    changes = []  # (|int8 − float32| top-1, signed change, probes, gap)
    for kind, (float_table, int8_table) in results.items():
        for metric in ("top1", "top3"):
            for weights, table in (("float32", float_table), ("int8", int8_table)):
                cells = " | ".join(f"{table[g][metric]:.3f}" for g in a.gaps)
                print(f"| {kind} {metric.replace('top', 'top-')} | {weights} | {cells} |")
        for g in a.gaps:
            change = int8_table[g]["top1"] - float_table[g]["top1"]
            changes.append((abs(change), change, kind, g))
    _, worst_change, worst_kind, worst_gap = max(changes)
    per_gap = results["plain"][0][a.gaps[0]]["n"]
    print(f"\n{per_gap} probes per gap and kind: one probe is {100 / per_gap:.2f} points. "
          f"Same first word, float32 and int8: {agree / probes_n:.2%} of {probes_n:,} probes")

    corpus_dir = a.corpus_dir or Path(loaded.config["training"].get("corpus_dir", "data/corpus"))
    start = time.perf_counter()
    ppl_float = test_perplexity(loaded, corpus_dir)
    ppl_int8 = test_perplexity(quantized, corpus_dir) if ppl_float is not None else None
    if ppl_float is None:
        print(f"\ntest perplexity: skipped, no {corpus_dir}/test.txt on this machine")
    else:
        print(f"\ntest perplexity ({corpus_dir}/test.txt, {time.perf_counter() - start:.0f} s): "
              f"float32 {ppl_float:.3f}, int8 {ppl_int8:.3f} ({(ppl_int8 / ppl_float - 1):+.2%})")

    speed_up = naive_prompt / medians["prompt, int8"]
    met_speed, met_accuracy = speed_up >= 2.0, abs(worst_change) <= 0.01 + 1e-9
    print("\n### Targets\n")
    print(f"- int8 prompt vs naive prompt, median: {speed_up:.2f}× (target ≥ 2×): {'met' if met_speed else 'MISSED'}")
    where = f"{worst_kind}, gap {worst_gap}; " if worst_change else ""
    print(f"- top-1 accuracy, largest change at any gap: {worst_change * 100:+.2f} points ({where}target within ±1): "
          f"{'met' if met_accuracy else 'MISSED'}")
    load_end = os.getloadavg()
    print(f"\nload average at end: {load_end[0]:.2f} (1 min, this run's own thread included)"
          + (" — other work was running: compare only figures from this run" if load_start[0] > 0.5 else ""))
    return 1 if a.strict and not (met_speed and met_accuracy) else 0


if __name__ == "__main__":
    sys.exit(main())
