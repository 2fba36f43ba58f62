"""Long-range memory, measured: top-1/top-3 accuracy on cue → query probes by gap length.

    python -m model.evaluation --models-dir models              # newest version → data/eval/<version>.*
    python -m model.evaluation --version-dir models/<version> --out-dir reports --corpus-dir data/corpus

A probe is "<cue> <filler of about N words> <query>" and the answer is the cue country's
language, e.g. "I grew up in France. … I speak fluent" → "French". The filler comes only from
corpus/probes/heldout_filler.txt, hand-written text never used for training, so the model is
measured on sentences (and words) it never saw. Every cue phrasing × query phrasing × country
is asked at every gap; the "mention" probes add a sentence naming another country mid-filler,
in wordings that do not occur in the training corpus. With the corpus at hand (the version's
own training corpus by default) the test-split perplexity is reported too.

Writes OUT/<version>.json (everything), OUT/<version>.md (the table) and OUT/<version>.png
(accuracy against gap, plain and with a mention).
"""
from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path

import torch

from corpus.cues import COUNTRY_LANGUAGE, CUE_TEMPLATES, QUERY_TEMPLATES
from model.checkpoint import LoadedModel, load_latest, load_version
from model.evaluation.plots import plot_accuracy_by_gap
from model.evaluation.scoring import evaluate_perplexity
from model.predict import Predictor
from model.training.batching import pad_batch
from model.training.data import encode_passages, read_passages

HELDOUT_FILLER = Path(__file__).resolve().parents[2] / "corpus" / "probes" / "heldout_filler.txt"
GAPS = (0, 10, 25, 50, 100, 200, 400)
# Passing mentions worded unlike any training sentence.
EVAL_MENTIONS = (
    "My uncle flew to {country} for a wedding last spring.",
    "A colleague of mine keeps talking about the beaches in {country}.",
    "We had dinner with a couple who had just moved back from {country}.",
    "There is a new exhibition of photographs from {country} at the library.",
)


@dataclass(frozen=True)
class Probe:
    gap: int
    country: str
    language: str
    text: str  # ends just before the answer


def heldout_sentences() -> list[str]:
    return [line.strip() for line in HELDOUT_FILLER.read_text(encoding="utf-8").splitlines() if line.strip()]


def make_probes(gaps=GAPS, mention: bool = False, seed: int = 0, sentences: list[str] | None = None) -> list[Probe]:
    """Every cue × query × country at every gap; the filler is drawn with a fixed seed."""
    rng = random.Random(seed)
    pool = sentences if sentences is not None else heldout_sentences()
    probes = []
    for gap in gaps:
        for cue in CUE_TEMPLATES:
            for query in QUERY_TEMPLATES:
                prefix = query.split("{language}")[0].strip()
                for country, language in COUNTRY_LANGUAGE.items():
                    filler: list[str] = []
                    while sum(len(s.split()) for s in filler) < gap:
                        filler.append(rng.choice(pool))
                    if mention:
                        other = rng.choice([c for c in COUNTRY_LANGUAGE if COUNTRY_LANGUAGE[c] != language])
                        filler.insert(rng.randint(0, len(filler)), rng.choice(EVAL_MENTIONS).format(country=other))
                    text = " ".join([cue.format(country=country), *filler, prefix])
                    probes.append(Probe(gap, country, language, text))
    return probes


@torch.inference_mode()
def top_words(loaded: LoadedModel, texts: list[str], k: int = 3, batch_size: int = 64) -> list[list[str]]:
    """The k most likely next words (display forms, words only) after each text."""
    model, tok = loaded.model.eval(), loaded.tokenizer
    offerable = torch.tensor(tok.word_mask())
    results: list[list[str]] = []
    for start in range(0, len(texts), batch_size):
        encoded = [tok.encode(t) for t in texts[start : start + batch_size]]
        lengths = torch.tensor([len(ids) for ids in encoded])
        tokens = pad_batch(encoded, tok.pad_id)  # (B, T)
        out, _ = model.encode(tokens)  # (B, T, H); padding comes after the last real token
        last = out[torch.arange(len(encoded)), lengths - 1]  # (B, H)
        logits = model.log_probs(last).masked_fill(~offerable, float("-inf"))  # (B, V)
        for row in logits.topk(k, dim=-1).indices.tolist():
            results.append([tok.display_forms[i] for i in row])
    return results


def accuracy_by_gap(probes: list[Probe], predictions: list[list[str]]) -> dict[int, dict[str, float]]:
    """{gap: {"top1": share right first, "top3": share right in the first three, "n": count}}."""
    table: dict[int, dict[str, float]] = {}
    for probe, words in zip(probes, predictions, strict=True):
        row = table.setdefault(probe.gap, {"top1": 0.0, "top3": 0.0, "n": 0})
        row["n"] += 1
        row["top1"] += words[0] == probe.language
        row["top3"] += probe.language in words[:3]
    for row in table.values():
        row["top1"] = round(row["top1"] / row["n"], 4)
        row["top3"] = round(row["top3"] / row["n"], 4)
    return dict(sorted(table.items()))


def top_words_with_cache(predictor: Predictor, texts: list[str], k: int = 3) -> list[list[str]]:
    """As top_words, through the service's Predictor with the version's document cache, a new one per text."""
    return [[p.word for p in predictor.predict(text, k, cache=predictor.new_cache()).predictions] for text in texts]


def evaluate(loaded: LoadedModel, gaps=GAPS, seed: int = 0) -> dict:
    """Accuracy by gap, plain and with a passing mention; for a version with a document cache, also with it."""
    result = {"version": loaded.version}
    predictor = Predictor(loaded)
    for name, mention in (("plain", False), ("mention", True)):
        probes = make_probes(gaps, mention=mention, seed=seed)
        texts = [p.text for p in probes]
        result[name] = accuracy_by_gap(probes, top_words(loaded, texts))
        if predictor.cache_settings.enabled:
            result[f"{name} + cache"] = accuracy_by_gap(probes, top_words_with_cache(predictor, texts))
    return result


def markdown_table(result: dict) -> str:
    gaps = list(result["plain"])
    lines = ["| probes | " + " | ".join(f"gap {g}" for g in gaps) + " |", "|---" * (len(gaps) + 1) + "|"]
    for name in [n for n in ("plain", "mention", "plain + cache", "mention + cache") if n in result]:
        for metric in ("top1", "top3"):
            cells = " | ".join(f"{result[name][g][metric]:.3f}" for g in gaps)
            lines.append(f"| {name} {metric.replace('top', 'top-')} | {cells} |")
    return "\n".join(lines)


def test_perplexity(loaded: LoadedModel, corpus_dir: Path) -> float | None:
    """Perplexity on corpus_dir/test.txt, or None when that file is not there."""
    path = corpus_dir / "test.txt"
    if not path.is_file():
        return None
    passages = encode_passages(loaded.tokenizer, read_passages(path))
    return round(evaluate_perplexity(loaded.model, passages, loaded.tokenizer.pad_id), 3)


def write_report(result: dict, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / result["version"]
    paths = [stem.with_suffix(".json"), stem.with_suffix(".md"), stem.with_suffix(".png")]
    paths[0].write_text(json.dumps(result, indent=2) + "\n")
    ppl = result.get("test_perplexity")
    header = f"model {result['version']}" + (f", test perplexity {ppl:.2f}" if ppl is not None else "")
    paths[1].write_text(f"{header}\n\n{markdown_table(result)}\n")
    plot_accuracy_by_gap({result["version"]: result}, paths[2], chance=1 / len(COUNTRY_LANGUAGE),
                         title=f"{result['version']}: accuracy by gap (held-out probes)")
    return paths


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m model.evaluation",
                                description="Accuracy by gap on held-out long-range probes, and test perplexity.")
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="use the newest version here")
    p.add_argument("--version-dir", type=Path, help="evaluate this version directory instead")
    p.add_argument("--corpus-dir", type=Path, help="corpus for the test perplexity (default: the version's own)")
    p.add_argument("--gaps", type=int, nargs="+", default=list(GAPS), help="filler lengths in words")
    p.add_argument("--seed", type=int, default=0, help="seed of the filler draw")
    p.add_argument("--out-dir", type=Path, default=Path("data/eval"), help="where <version>.json/.md/.png go")
    p.add_argument("--json", type=Path, help="also write the JSON result here")
    a = p.parse_args()
    loaded = load_version(a.version_dir) if a.version_dir else load_latest(a.models_dir)
    result = evaluate(loaded, a.gaps, a.seed)
    corpus_dir = a.corpus_dir or Path(loaded.config["training"].get("corpus_dir", "data/corpus"))
    result["test_perplexity"] = test_perplexity(loaded, corpus_dir)
    result["corpus_dir"] = str(corpus_dir)
    ppl = result["test_perplexity"]
    print(f"model {loaded.version}: test perplexity " + (f"{ppl:.2f}" if ppl is not None else f"n/a (no {corpus_dir}/test.txt)"))
    print(markdown_table(result))
    for path in write_report(result, a.out_dir):
        print(f"wrote {path}")
    if a.json:
        a.json.write_text(json.dumps(result, indent=2) + "\n")

