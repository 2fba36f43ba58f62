"""Naming a passage's last word (LAMBADA's task) with a ranker fitted on held-out text.

    python -m model.evaluation.last_word --models-dir models-english \\
        --passages fiction=../shared/data/gutenberg-fiction/valid.txt.xz --limit 1000 \\
        --out data/eval/last-word-ranker.json
    python -m model.evaluation.real_text ... --last-word-ranker data/eval/last-word-ranker.json

The next-word mixture (model + document cache) ranks what usually comes next; LAMBADA asks for the
word that *ends* a passage, most often a name or thing met earlier on the page that the last sentence
alone does not give. The rule of real_text.LastWord (p(w) · p(no word follows w)) uses two of the
signals a reader uses. This ranker weighs more of them, each cheap and read off the same state and
cache the service keeps (FEATURES): the model's and the cache's probabilities, whether the text would
end after w, how often and how recently w was written, whether it was written with a capital inside
a sentence (a name), whether it followed the passage's last word before, and whether it is a short
function word. Each candidate (every word of the passage and the model's 30 likeliest) gets a
score w · features; the weights maximise the log-likelihood of the true last word among the
candidates (a conditional logit, Fisher's L-BFGS), fitted on LAMBADA-like passages cut from held-out
fiction whose last word the model alone does not rank in its top 10 (real_text.unpredictable_locally),
never on LAMBADA. `--folds` reports the accuracy on passages left out of the fit before the final fit
on all of them.
"""
from __future__ import annotations

import argparse
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from model.checkpoint import load_latest, load_version
from model.evaluation.real_text import (
    NeuralTypist,
    feed_prompt,
    keystroke_source,
    lambada_target,
    last_word_passages,
    read_documents,
    read_lambada,
    unpredictable_locally,
    word_id,
)
from model.predict import Predictor
from model.tokenizer import is_word

FEATURES = (
    "model",  # log p_model(w); a word outside the vocabulary: p(<unk>) shared by the passage's unknown words
    "cache",  # log p_cache(w) at the version's θ
    "cache_sharp",  # log p_cache(w) at θ = 1: the closest earlier contexts only
    "closest",  # max_i h_t · h_i / 10 over the positions where w came next
    "ending",  # log p(no word follows | text, w)
    "count",  # log(1 + times w was written in the passage)
    "recent",  # log(1 + times in the last 20 tokens)
    "distance",  # log(1 + tokens since w was last written); 0 if it was not
    "in_text",  # w was written in the passage
    "follows_last",  # log(share of the times the passage's last token was followed by w, + 1e-4)
    "capitalised",  # log(1 + times w was written capitalised inside a sentence): a name
    "unknown",  # w is outside the vocabulary (copied as written)
    "function_word",  # w is one of FUNCTION_WORDS
    "short",  # w has at most 3 letters
)
MODEL_CANDIDATES = 30
SHARP_FLATNESS = 1.0
RECENT_TOKENS = 20

FUNCTION_WORDS = frozenset("""
a about above after again against all am an and any are as at be been before being below between both
but by can could did do does doing down during each either few for from further had has have having he
her here hers herself him himself his how i if in into is it its itself just may me might mine more most
must my myself neither no nor not now of off on once one only or other our ours ourselves out over own
same shall she should so some such than that the their theirs them themselves then there these they
this those through to too under until up upon us very was we were what when where which while who whom
whose why will with would yet you your yours yourself yourselves
""".split())

# A capitalised word that does not open a sentence, a line or a quotation: most often a name.
_INNER_CAPITAL = re.compile(r"(?<=[\w,;:]) +([A-Z][a-z]+)")


def inner_capitals(text: str) -> Counter:
    """lower-cased word → times it is written with a capital after a word, comma, semicolon or colon."""
    return Counter(m.group(1).lower() for m in _INNER_CAPITAL.finditer(text))


@dataclass(frozen=True)
class Candidates:
    words: list[str]  # lower-cased
    spellings: list[str]  # as they would be offered
    features: np.ndarray  # (n, len(FEATURES)) float64


def candidate_features(typist: NeuralTypist, prompt: str, flatness: float) -> Candidates:
    """The candidates for the last word of the text the typist has read (`prompt`), and their features
    ("cache" at θ = `flatness`). The typist must keep a document cache (its keys and words are the
    passage's positions)."""
    predictor, cache, state = typist.predictor, typist.cache, typist._state()
    if cache is None:
        raise ValueError("the last-word ranker reads the document cache: give the typist one")
    unk = predictor.tokenizer.unk_id
    forms = predictor.tokenizer.display_forms
    query = Predictor._hidden(state).astype(np.float64)  # (H,)
    probs = predictor.next_word_probabilities(state).numpy().astype(np.float64)  # (V,)
    keys, ids, spellings = cache.keys.astype(np.float64), cache.words, cache.spellings  # (n, H), (n,), n
    similarity = keys @ query  # (n,)
    n = len(ids)

    def softmax(scores: np.ndarray) -> np.ndarray:
        if not len(scores):
            return scores
        e = np.exp(scores - scores.max())
        return e / e.sum()

    weights, sharp = softmax(flatness * similarity), softmax(SHARP_FLATNESS * similarity)
    written: list[tuple[str, str] | None] = []  # per position: (lower-cased, as written) or None (not a word)
    for i, token in enumerate(ids.tolist()):
        if token == unk:
            written.append((spellings[i].lower(), spellings[i]) if spellings[i] else None)
        else:
            written.append((forms[token].lower(), forms[token]) if is_word(forms[token]) else None)
    p_cache, p_sharp, closest = defaultdict(float), defaultdict(float), {}
    count, recent, last_at, shown = Counter(), Counter(), {}, {}
    for i, entry in enumerate(written):
        if entry is None:
            continue
        word, shown[word] = entry[0], entry[1]
        p_cache[word] += weights[i]
        p_sharp[word] += sharp[i]
        closest[word] = max(closest.get(word, -math.inf), similarity[i])
        count[word] += 1
        recent[word] += i >= n - RECENT_TOKENS
        last_at[word] = i
    # What followed the passage's last token each time it was written before.
    follows: Counter = Counter()
    if n:
        last_token = int(ids[-1])
        for i in range(n - 1):
            if int(ids[i]) == last_token and last_token != unk and written[i + 1] is not None:
                follows[written[i + 1][0]] += 1
    follows_total = sum(follows.values())
    unknown_words = {w for w, entry in shown.items() if word_id(predictor, w) == unk}
    offered = [i for i in np.argsort(-probs)[: 2 * MODEL_CANDIDATES].tolist()
               if i != unk and predictor.offerable[i] and is_word(forms[i])]
    for i in offered[:MODEL_CANDIDATES]:
        shown.setdefault(forms[i].lower(), forms[i])
    words = list(shown)
    endings = typist.ending_probabilities(words)  # (c,)
    capitals = inner_capitals(prompt)
    rows = []
    for word, ending in zip(words, endings):
        p_model = probs[unk] / len(unknown_words) if word in unknown_words else probs[word_id(predictor, word)]
        rows.append([
            math.log(p_model + 1e-9), math.log(p_cache[word] + 1e-6), math.log(p_sharp[word] + 1e-6),
            closest.get(word, 0.0) / 10, math.log(max(float(ending), 1e-9)), math.log1p(count[word]),
            math.log1p(recent[word]), math.log1p(n - last_at[word]) if word in last_at else 0.0,
            float(word in count), math.log(follows[word] / follows_total + 1e-4) if follows_total else math.log(1e-4),
            math.log1p(capitals[word]), float(word in unknown_words), float(word in FUNCTION_WORDS),
            float(len(word) <= 3),
        ])
    return Candidates(words, [shown[w] for w in words], np.array(rows, dtype=np.float64).reshape(len(words), len(FEATURES)))


@dataclass(frozen=True)
class LastWordRanker:
    """Candidates ordered by weights · features (FEATURES), for one model version and the θ its
    "cache" feature was fitted with."""
    version: str
    flatness: float
    weights: dict[str, float]

    def vector(self) -> np.ndarray:
        return np.array([self.weights.get(name, 0.0) for name in FEATURES])

    def rank(self, typist: NeuralTypist, prompt: str, k: int) -> list[str]:
        """The k likeliest last words of the text the typist has read."""
        candidates = candidate_features(typist, prompt, self.flatness)
        order = np.argsort(-(candidates.features @ self.vector()), kind="stable")
        return [candidates.spellings[i] for i in order[:k]]

    def save(self, path: Path, report: dict | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": self.version, "flatness": self.flatness, "features": list(FEATURES), "weights": self.weights}
        path.write_text(json.dumps({**data, **({"fit": report} if report else {})}, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path, version: str) -> LastWordRanker:
        """The ranker saved for `version`; ValueError if it was fitted for another (its weights follow that model)."""
        data = json.loads(Path(path).read_text())
        if data.get("version") != version:
            raise ValueError(f"{path} was fitted for model {data.get('version')!r}, not {version!r}: fit it again")
        unknown = set(data["weights"]) - set(FEATURES)
        if unknown:
            raise ValueError(f"{path}: unknown features {sorted(unknown)}")
        return cls(version, float(data["flatness"]), {k: float(v) for k, v in data["weights"].items()})


def passage_candidates(typist: NeuralTypist, passages: Sequence[str], flatness: float) -> list[tuple[Candidates, int]]:
    """For each passage: its candidates and the index of its true last word among them (-1: not a candidate)."""
    out = []
    for text in passages:
        prompt, target = lambada_target(text)
        feed_prompt(typist, prompt)
        candidates = candidate_features(typist, prompt, flatness)
        target = target.lower()
        out.append((candidates, candidates.words.index(target) if target in candidates.words else -1))
    return out


def fit_weights(examples: Sequence[tuple[Candidates, int]], l2: float = 1e-2) -> dict[str, float]:
    """The weights maximising the mean log-probability of each passage's true last word under a softmax over
    its candidates' scores, minus l2 · |w|² (a convex problem: L-BFGS from zero finds its optimum). Passages
    whose last word is no candidate teach nothing."""
    usable = [(torch.from_numpy(c.features), y) for c, y in examples if y >= 0]
    if not usable:
        raise ValueError("no passage has its last word among its candidates")
    w = torch.zeros(len(FEATURES), dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([w], max_iter=500, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimiser.zero_grad()
        nll = torch.stack([-torch.log_softmax(x @ w, 0)[y] for x, y in usable]).mean()
        total = nll + l2 * (w ** 2).sum()
        total.backward()
        return total
    optimiser.step(loss)
    return {name: round(float(v), 4) for name, v in zip(FEATURES, w.detach())}


def accuracy(examples: Sequence[tuple[Candidates, int]], weights: dict[str, float]) -> tuple[float, float]:
    """(top-1, top-5) of the ranking by these weights, over all the passages (a target no candidate: a miss)."""
    vector = np.array([weights.get(name, 0.0) for name in FEATURES])
    top1 = top5 = 0
    for candidates, y in examples:
        order = np.argsort(-(candidates.features @ vector), kind="stable")
        top1 += y >= 0 and order[0] == y
        top5 += y >= 0 and y in order[:5]
    return round(top1 / len(examples), 4), round(top5 / len(examples), 4)


def cross_validated(examples: Sequence[tuple[Candidates, int]], folds: int, l2: float) -> dict[str, float]:
    """Top-1 and top-5 over all the passages, each ranked by weights fitted without its fold (every folds-th)."""
    hits = np.zeros(2)
    for fold in range(folds):
        train = [e for i, e in enumerate(examples) if i % folds != fold]
        test = [e for i, e in enumerate(examples) if i % folds == fold]
        hits += np.array(accuracy(test, fit_weights(train, l2))) * len(test)
    return {"top1": round(hits[0] / len(examples), 4), "top5": round(hits[1] / len(examples), 4)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m model.evaluation.last_word", description=__doc__.split("\n\n")[0])
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="fit for the newest version here")
    p.add_argument("--version-dir", type=Path, help="fit for this version directory instead")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--passages", type=keystroke_source, metavar="[KIND=]PATH",
                        help="held-out text to cut LAMBADA-like passages from (never LAMBADA)")
    source.add_argument("--passages-file", type=Path, metavar="JSONL",
                        help="passages already cut, one {\"text\": ...} per line (what real_text --last-word-proxy "
                             "--hard-proxy writes for this version)")
    p.add_argument("--limit", type=int, default=1000, help="passages to fit on")
    p.add_argument("--folds", type=int, default=2, help="report accuracy on passages left out (0: skip)")
    p.add_argument("--l2", type=float, default=1e-2)
    p.add_argument("--out", type=Path, required=True, help="where the weights go (JSON)")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    loaded = load_version(a.version_dir) if a.version_dir else load_latest(a.models_dir)
    predictor = Predictor(loaded)
    if not predictor.cache_settings.enabled:
        raise SystemExit(f"model {loaded.version} has no document cache: the ranker reads it")
    if a.passages_file:
        path, passages = a.passages_file, read_lambada(a.passages_file, a.limit)
    else:
        kind, path = a.passages
        passages = last_word_passages(read_documents(kind, path), limit=a.limit, keep=unpredictable_locally(predictor))
        print(f"{len(passages)} passages from {path} whose last word the model alone does not rank in its top 10")
    flatness = predictor.cache_settings.flatness
    examples = passage_candidates(NeuralTypist(predictor), passages, flatness)
    report: dict = {"passages": len(examples), "source": str(path), "l2": a.l2,
                    "last_word_among_candidates": round(sum(y >= 0 for _, y in examples) / len(examples), 4)}
    if a.folds > 1:
        report["held_out"] = cross_validated(examples, a.folds, a.l2)
    ranker = LastWordRanker(loaded.version, flatness, fit_weights(examples, a.l2))
    report["fitted"] = dict(zip(("top1", "top5"), accuracy(examples, ranker.weights)))
    ranker.save(a.out, report)
    print(json.dumps(report, indent=2))
    print("weights: " + ", ".join(f"{k} {v:+.3f}" for k, v in ranker.weights.items()))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
