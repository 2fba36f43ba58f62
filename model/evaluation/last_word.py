"""Naming a passage's last word (LAMBADA's task) with a ranker fitted on held-out text.

    python -m model.evaluation.last_word --models-dir models-english \\
        --passages fiction=HELD_OUT_BOOKS.txt.xz --limit 2000 \\
        --out data/eval/last-word-ranker.json
    python -m model.evaluation.real_text ... --last-word-ranker data/eval/last-word-ranker.json

(make evaluate-text runs both, on Gutenberg fiction's valid books: paths in the Makefile.)

The next-word mixture (model + document cache) ranks what usually comes next; LAMBADA asks for the
word that *ends* a passage, most often a name or thing met earlier on the page that the last sentence
alone does not give. The rule of lambada.LastWord (p(w) · p(no word follows w)) uses two of the
signals a reader uses. This ranker weighs more of them, each cheap and read off the same state and
cache the service keeps (FEATURES): the model's and the cache's probabilities, whether the text would
end after w, how often and how recently w was written, whether it was written with a capital (a name),
whether it followed the passage's last word before, how rare a word it is, and whether it is a short
function word. Each candidate (every word of the passage and the model's 30 likeliest) gets a score
from a small Scorer (listwise.py: a linear term and 8 tanh units, about 170 numbers), fitted to maximise the
log-likelihood of the true last word among the candidates on LAMBADA-like passages cut from held-out
fiction whose last word the model alone does not rank in its top 10 (lambada.unpredictable_locally),
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
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from model.checkpoint import load_latest, load_version
from model.evaluation.lambada import feed_prompt, lambada_target, last_word_passages, unpredictable_locally
from model.evaluation.listwise import FitSettings, Scorer, accuracy, cross_validated, fit_scorer
from model.evaluation.texts import document_source, read_documents, read_lambada
from model.evaluation.typists import NeuralTypist, word_id
from model.predict import Predictor
from model.tokenizer import is_word

FEATURES = (
    "model",  # log p_model(w); a word outside the vocabulary: p(<unk>) shared by the passage's unknown words
    "cache",  # log p_cache(w) at the ranker's θ (the version's when it was fitted)
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
    "rarity",  # log(1 + w's vocabulary id) / 10: the vocabulary is ordered by frequency (outside it: V)
    "known_name",  # the model writes w with a capital (its display form; a copied word: as written)
    "capital_share",  # the share of w's occurrences in the passage written with a capital, anywhere
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


def capital_share(written_as: Counter, word: str) -> float:
    """Of the times `word` (lower-cased) is written in the text (written_as: spelling → times), the share
    with a capital first letter; 0 if it is not written."""
    total = capitalised = 0
    for spelling in {word, word.capitalize(), word.upper(), word.title()}:
        total += written_as[spelling]
        capitalised += written_as[spelling] * spelling[:1].isupper()
    return capitalised / total if total else 0.0


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
    offered = [i for i in np.argsort(-probs)[: 2 * MODEL_CANDIDATES].tolist()
               if i != unk and predictor.offerable[i] and is_word(forms[i])]
    for i in offered[:MODEL_CANDIDATES]:
        shown.setdefault(forms[i].lower(), forms[i])
    words = list(shown)
    vocabulary_ids = {word: word_id(predictor, word) for word in words}  # one tokenizer call a word
    unknown_words = {w for w in count if vocabulary_ids[w] == unk}  # copied from the passage as written
    endings = typist.ending_probabilities(words)  # (c,)
    capitals = inner_capitals(prompt)
    written_as = Counter(re.findall(r"[^\W\d_]+", prompt))
    vocabulary = len(forms)
    rows = []
    for word, ending in zip(words, endings):
        unknown = word in unknown_words
        p_model = probs[unk] / len(unknown_words) if unknown else probs[vocabulary_ids[word]]
        values = {
            "model": math.log(p_model + 1e-9),
            "cache": math.log(p_cache[word] + 1e-6),
            "cache_sharp": math.log(p_sharp[word] + 1e-6),
            "closest": closest.get(word, 0.0) / 10,
            "ending": math.log(max(float(ending), 1e-9)),
            "count": math.log1p(count[word]),
            "recent": math.log1p(recent[word]),
            "distance": math.log1p(n - last_at[word]) if word in last_at else 0.0,
            "in_text": float(word in count),
            "follows_last": math.log(follows[word] / follows_total + 1e-4) if follows_total else math.log(1e-4),
            "capitalised": math.log1p(capitals[word]),
            "unknown": float(unknown),
            "function_word": float(word in FUNCTION_WORDS),
            "short": float(len(word) <= 3),
            "rarity": math.log1p(vocabulary if unknown else vocabulary_ids[word]) / 10,
            "known_name": float(shown[word][:1].isupper() and word != "i"),
            "capital_share": capital_share(written_as, word),
        }
        rows.append([values[name] for name in FEATURES])
    features = np.array(rows, dtype=np.float64).reshape(len(words), len(FEATURES))
    return Candidates(words, [shown[w] for w in words], features)


@dataclass(frozen=True)
class LastWordRanker:
    """Candidates ordered by a fitted Scorer of their FEATURES, for one model version and the θ its
    "cache" feature was computed with."""
    version: str
    flatness: float
    scorer: Scorer

    def rank(self, typist: NeuralTypist, prompt: str, k: int) -> list[str]:
        """The k likeliest last words of the text the typist has read."""
        candidates = candidate_features(typist, prompt, self.flatness)
        order = np.argsort(-self.scorer(candidates.features), kind="stable")
        return [candidates.spellings[i] for i in order[:k]]

    def as_json(self) -> dict:
        """What a result file says of this ranking."""
        return {"fitted_ranker": {"version": self.version, "flatness": self.flatness,
                                  "hidden_units": len(self.scorer.hidden_bias), "features": list(FEATURES)}}

    def save(self, path: Path, report: dict | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": self.version, "flatness": self.flatness, "features": list(FEATURES),
                "scorer": self.scorer.as_json(), **({"fit": report} if report else {})}
        path.write_text(json.dumps(data, indent=1) + "\n")

    @classmethod
    def load(cls, path: Path, version: str) -> LastWordRanker:
        """The ranker saved for `version`; ValueError if it was fitted for another model (its scores follow
        that model's probabilities) or other features."""
        data = json.loads(Path(path).read_text())
        if data.get("version") != version:
            raise ValueError(f"{path} was fitted for model {data.get('version')!r}, not {version!r}: fit it again")
        if data.get("features") != list(FEATURES):
            raise ValueError(f"{path} was fitted with the features {data.get('features')}, not {list(FEATURES)}: "
                             "fit it again")
        return cls(version, float(data["flatness"]), Scorer.from_json(data["scorer"], len(FEATURES)))


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


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m model.evaluation.last_word", description=__doc__.split("\n\n")[0])
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="fit for the newest version here")
    p.add_argument("--version-dir", type=Path, help="fit for this version directory instead")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--passages", type=document_source, metavar="[KIND=]PATH",
                        help="held-out text to cut LAMBADA-like passages from (never LAMBADA)")
    source.add_argument("--passages-file", type=Path, metavar="JSONL",
                        help="passages already cut, one {\"text\": ...} per line (what real_text --last-word-proxy "
                             "--hard-proxy writes for this version)")
    p.add_argument("--limit", type=int, default=2000, help="passages to fit on")
    p.add_argument("--folds", type=int, default=2, help="report accuracy on passages left out (0: skip)")
    p.add_argument("--hidden", type=int, default=FitSettings.hidden, help="tanh units of the scorer (0: linear)")
    p.add_argument("--epochs", type=int, default=FitSettings.epochs)
    p.add_argument("--out", type=Path, required=True, help="where the ranker goes (JSON)")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    loaded = load_version(a.version_dir) if a.version_dir else load_latest(a.models_dir)
    predictor = Predictor(loaded)
    if not predictor.cache_settings.enabled:
        # Nothing to fit (the ranker reads the cache), and a ranker left from another model must not be used.
        a.out.unlink(missing_ok=True)
        print(f"model {loaded.version} has no document cache: no last-word ranker (the ranker reads the cache)")
        return
    if a.passages_file:
        path, passages = a.passages_file, read_lambada(a.passages_file, a.limit)
    else:
        kind, path = a.passages
        passages = last_word_passages(read_documents(kind, path), limit=a.limit, keep=unpredictable_locally(predictor))
        print(f"{len(passages)} passages from {path} whose last word the model alone does not rank in its top 10")
    flatness = predictor.cache_settings.flatness
    examples = [(c.features, y) for c, y in passage_candidates(NeuralTypist(predictor), passages, flatness)]
    settings = FitSettings(hidden=a.hidden, epochs=a.epochs)
    report: dict = {"passages": len(examples), "source": str(path), "settings": asdict(settings),
                    "last_word_among_candidates": round(sum(y >= 0 for _, y in examples) / len(examples), 4)}
    if a.folds > 1:
        report["held_out"] = cross_validated(examples, a.folds, settings)
    ranker = LastWordRanker(loaded.version, flatness, fit_scorer(examples, settings))
    report["fitted"] = dict(zip(("top1", "top5"), accuracy(examples, ranker.scorer)))
    ranker.save(a.out, report)
    print(json.dumps(report, indent=2))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
