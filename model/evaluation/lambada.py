"""LAMBADA: the passage without its last word is the prompt; the last word, trailing punctuation
removed, is the target. Top-1 and top-k hits are counted case-insensitively against word predictions
only (never <unk>, <eos> or punctuation), and the share of targets that are not one known word of the
model's vocabulary is reported beside them (a model cannot hit those). The words can be ranked as next
words, as the passage's last word (LastWord), or by the ranker fitted on held-out fiction
(model/evaluation/last_word.py); last_word_passages cuts LAMBADA-like passages from held-out text to
choose settings on, never on LAMBADA itself.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass

from model.cache import OFF
from model.evaluation.texts import line_tokens
from model.evaluation.typists import NeuralTypist, Typist, word_id
from model.predict import Predictor
from model.tokenizer import is_word


def lambada_target(text: str) -> tuple[str, str]:
    """(prompt, target): the target is the last whitespace-separated word with its trailing
    punctuation removed; the prompt is the passage before that word, trailing whitespace removed.
    Punctuation before the word (an opening quote) is left in the prompt: it is context, not target.
    ValueError if the last word has no letter or digit."""
    body = text.rstrip()
    last = body.split()[-1] if body else ""
    start = len(body) - len(last)
    end = len(last)
    while end > 0 and not last[end - 1].isalnum():
        end -= 1
    lead = 0
    while lead < end and not last[lead].isalnum():
        lead += 1
    target = last[lead:end]
    if not target:
        raise ValueError(f"the passage's last word {last!r} has no letter or digit")
    return body[: start + lead].rstrip(), target


def is_known_word(predictor: Predictor, word: str) -> bool:
    """Whether the lower-cased word is a single offerable token of the model's vocabulary
    (not <unk>, not split into several tokens)."""
    i = word_id(predictor, word)
    return i != predictor.tokenizer.unk_id and bool(predictor.offerable[i])


def last_word_passages(documents: Iterable[Sequence[str]], min_words: int = 50, max_words: int = 110,
                       in_context_share: float = 0.85, limit: int | None = None,
                       keep: Callable[[str, str], bool] | None = None) -> list[str]:
    """LAMBADA-like passages from held-out text, to tune and check on instead of the LAMBADA test set: runs
    of consecutive paragraphs of min_words to max_words words, ending where a paragraph ends, whose last
    word has 3+ letters. LAMBADA's targets occur earlier in their passage about 85% of the time (its
    selection asked people to need the context): passages whose last word does are all kept, the others
    only while they stay within (1 - share) / share of those (deterministically, by count), so the mix is
    about the same. (Up to session 10 an other was kept once in every ~6 met, whatever the number of in-context
    ones: on Gutenberg valid 55% of the targets occurred earlier in their passage, not 85%.)
    `keep(prompt, target)`, where given, must also hold (`unpredictable_locally`: LAMBADA's own selection)."""
    kept: list[str] = []
    in_context = others = 0
    ratio = (1 - in_context_share) / in_context_share
    for lines in documents:
        window: list[str] = []
        for line in lines:
            window.append(line)
            while sum(len(w.split()) for w in window) > max_words and len(window) > 1:
                window.pop(0)
            words = sum(len(w.split()) for w in window)
            if words < min_words or words > max_words:
                continue
            text = "\n".join(window)
            try:
                prompt, target = lambada_target(text)
            except ValueError:
                continue
            if len(target) < 3 or not target.isalpha() or (keep is not None and not keep(prompt, target)):
                continue
            if target.lower() in re.findall(r"\w+", prompt.lower()):
                in_context += 1
            elif others + 1 > ratio * in_context:
                continue  # not kept: the window slides on
            else:
                others += 1
            kept.append(text)
            window = []  # kept passages do not overlap
            if limit is not None and len(kept) >= limit:
                return kept
    return kept


def unpredictable_locally(predictor: Predictor, k: int = 10) -> Callable[[str, str], bool]:
    """keep() for last_word_passages: the target is not among the k likeliest next words of the model
    without its document cache, given the whole passage. LAMBADA kept only passages whose last word a
    reader could not get from the last sentence alone, and a model without a memory of the page scores
    0.000 on them; passages cut from held-out text without this are far easier (docs/results.md)."""
    local = NeuralTypist(predictor, OFF)

    def keep(prompt: str, target: str) -> bool:
        return target.lower() not in [w.lower() for w in lambada_predictions(local, prompt, k)]
    return keep


@dataclass(frozen=True)
class LambadaScore:
    top1: float  # share of passages whose target is the first word prediction
    topk: float  # share whose target is among the first k word predictions
    k: int
    n: int  # passages scored
    oov_share: float  # share of targets that are not one known word (no model can hit those)


@dataclass(frozen=True)
class LastWord:
    """LAMBADA asks for a passage's *last* word, and a next-word ranking does not know that the text ends
    there: its first guess is often "the" or "and", which would go on. Ranked as a last word, the
    `candidates` likeliest next words w are ordered by p(w | text) · p(no word follows | text, w)^`weight`,
    the second factor the system's own probability that the token after w is punctuation or a line end
    (model/evaluation: `Typist.ending_probabilities`). Settings chosen on held-out fiction, never LAMBADA.
    model/evaluation/last_word.py weighs more signals, with weights fitted on held-out fiction."""
    candidates: int = 30
    weight: float = 1.0

    def as_json(self) -> dict:
        return asdict(self)

    def rank(self, typist: Typist, prompt: str, k: int) -> list[str]:
        """The k likeliest last words of the text the typist has read (`prompt`)."""
        candidates = [p for p in typist.top(self.candidates) if is_word(p.word)]
        endings = typist.ending_probabilities([p.word for p in candidates])  # (n,)
        scores = [p.probability * max(end, 1e-12) ** self.weight for p, end in zip(candidates, endings)]
        order = sorted(range(len(candidates)), key=lambda i: -scores[i])
        return [candidates[i].word for i in order[:k]]


def feed_prompt(typist: Typist, prompt: str) -> None:
    """Start a new document (the zero state and an empty cache) and read the prompt, lines ended by <eos>."""
    typist.start()
    predictor, unk = typist.predictor, typist.predictor.tokenizer.unk_id
    lines = [line for line in prompt.splitlines() if line.strip()]
    for number, line in enumerate(lines):
        tokens = list(line_tokens(predictor, line))
        typist.feed([t for t, _ in tokens], [surface if t == unk else None for t, surface in tokens])
        if number < len(lines) - 1:
            typist.feed([predictor.tokenizer.eos_id], [None])


def lambada_predictions(typist: Typist | Predictor, prompt: str, k: int, last_word: LastWord | None = None) -> list[str]:
    """The k most likely next words after the prompt (a new document), words only: anything that is not a
    word is dropped before comparing. With `last_word` (LastWord, or last_word.LastWordRanker), the k most
    likely to end the text there."""
    typist = NeuralTypist(typist) if isinstance(typist, Predictor) else typist
    feed_prompt(typist, prompt)
    if last_word is None:
        return [w for w in typist.suggester(k)("") if is_word(w)]
    return last_word.rank(typist, prompt, k)


def score_lambada(typist: Typist | Predictor, passages: Iterable[str], k: int = 5,
                  last_word: LastWord | None = None) -> LambadaScore:
    """Top-1 and top-k accuracy on the passages' last words, compared case-insensitively, and the OOV share."""
    typist = NeuralTypist(typist) if isinstance(typist, Predictor) else typist
    predictor = typist.predictor
    hits1 = hitsk = oov = n = 0
    for text in passages:
        prompt, target = lambada_target(text)
        words = [w.lower() for w in lambada_predictions(typist, prompt, k, last_word)]
        n += 1
        hits1 += bool(words) and words[0] == target.lower()
        hitsk += target.lower() in words
        oov += not is_known_word(predictor, target)
    share = (lambda count: round(count / n, 4)) if n else (lambda count: 0.0)
    return LambadaScore(top1=share(hits1), topk=share(hitsk), k=k, n=n, oov_share=share(oov))
