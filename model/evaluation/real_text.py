"""Real-text evaluation through the service's own Predictor: LAMBADA, keystroke savings, perplexity.

    make evaluate-text     # the newest model on LAMBADA and Gutenberg fiction (data paths in the Makefile)
    python -m model.evaluation.real_text --models-dir models --lambada PATH --lambada-limit 500 \\
        --keystrokes BOOKS.txt.xz --keystroke-words 5000 --json out.json

- **LAMBADA** (`score_lambada`): the passage without its last word is the prompt; the last word,
  trailing punctuation removed, is the target. Top-1 and top-k hits are counted case-insensitively
  against word predictions only (never <unk>, <eos> or punctuation), and the share of targets that
  are not one known word of the model's vocabulary is reported beside them (a model cannot hit those).
- **Keystroke savings** (`count_keystrokes`, `keystroke_savings`): held-out text is typed word by
  word. Before each letter the model's suggestions for the word being typed are shown (computed from
  the state after the previous words, with the letters typed so far as a prefix); taking one costs a
  keystroke and types the word and its space, a word never suggested costs its letters and a space.
  A word shown for this word and passed over (the typist typed on) is not shown again for it: the
  next letter's slots go to other words (`repeat=True`: the plain top k at every letter, as sessions
  up to 9 measured). Savings = 1 - keystrokes / (letters + spaces). Punctuation is neither typed nor counted, but it is
  fed to the model as context, as the tokenizer splits it.
- **Perplexity of a plain text file** (`text_perplexity`), with the state carried across the whole
  file or reset at each WikiText article heading, scored by `model.evaluation.scoring`.

Text is fed as training text is: every line ends with <eos>. The data comes only from the paths
given; without one, that part is skipped.
"""
from __future__ import annotations

import argparse
import json
import lzma
import math
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from model.cache import OFF, CacheSettings, CacheWords
from model.checkpoint import LoadedModel, load_latest, load_version
from model.evaluation.ngram import KneserNeyLM
from model.evaluation.scoring import evaluate_split
from model.predict import Prediction, Predictor
from model.rnn_lm import State
from model.tokenizer import is_word
from model.training.data import encode_passages

# (the letters typed so far, "" before the first; the words shown for this word and passed over) → suggested words
Suggest = Callable[[str, Collection[str]], list[str]]


# ---------------------------------------------------------------- reading text


def open_text(path: Path):
    """A text file for reading, .xz files decompressed on the fly."""
    path = Path(path)
    return lzma.open(path, "rt", encoding="utf-8") if path.suffix == ".xz" else path.open(encoding="utf-8")


def read_lines(path: Path, max_words: int | None = None) -> list[str]:
    """The file's non-blank lines, stopping once they hold `max_words` whitespace-separated words."""
    lines, words = [], 0
    with open_text(path) as f:
        for raw in f:
            if max_words is not None and words >= max_words:
                break
            line = raw.strip()
            if line:
                lines.append(line)
                words += len(line.split())
    return lines


def read_lambada(path: Path, limit: int | None = None) -> list[str]:
    """The first `limit` passages ("text" of each JSON line) of a LAMBADA jsonl file."""
    passages = []
    with open_text(path) as f:
        for raw in f:
            if limit is not None and len(passages) >= limit:
                break
            if raw.strip():
                passages.append(json.loads(raw)["text"])
    return passages


def prompt_ids(predictor: Predictor, text: str) -> list[int]:
    """Token ids of `text` as training text is fed (model.training.data.encode_passages: each non-blank
    line followed by <eos>), but for the last line, which the prompt stops in the middle of."""
    (ids,) = encode_passages(predictor.tokenizer, [[line for line in text.splitlines() if line.strip()]])
    return ids[:-1]


# ---------------------------------------------------------------- LAMBADA


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


# ---------------------------------------------------------------- keystroke savings


def word_keystrokes(word: str, suggest: Suggest, repeat: bool = False) -> int:
    """Keystrokes to type `word` and its space: before each letter the suggestions for the prefix typed
    so far are shown; taking one (a case-insensitive match) costs one keystroke and ends the word.
    Never suggested: its letters plus a space. Unless `repeat`, the words already shown for this word
    (and so passed over) are not suggested again."""
    target = word.lower()
    passed_over: list[str] = []
    for typed in range(len(word)):
        shown = suggest(word[:typed], () if repeat else passed_over)
        if any(s.lower() == target for s in shown):
            return typed + 1
        passed_over += [s.lower() for s in shown]
    return len(word) + 1


@dataclass(frozen=True)
class KeystrokeCount:
    keystrokes: int
    letters_and_spaces: int  # what typing every word in full costs: its letters and a space each
    per_word: tuple[int, ...]  # each word's keystrokes, in order

    @property
    def words(self) -> int:
        return len(self.per_word)

    @property
    def savings(self) -> float:
        return 1 - self.keystrokes / self.letters_and_spaces if self.letters_and_spaces else 0.0


def count_keystrokes(typing: Iterable[tuple[str, Suggest]], repeat: bool = False) -> KeystrokeCount:
    """Keystrokes over (word, its suggester) pairs, taken in order. Pure: everything the model knows
    is in the suggesters; each one is called only before the next pair is drawn."""
    per_word, full = [], 0
    for word, suggest in typing:
        per_word.append(word_keystrokes(word, suggest, repeat))
        full += len(word) + 1
    return KeystrokeCount(sum(per_word), full, tuple(per_word))


class NeuralTypist:
    """What the service suggests while a document is typed: the Predictor's state carried token by token,
    with the version's document cache (or the one given; OFF: none) remembering the document so far."""

    def __init__(self, predictor: Predictor, cache: CacheSettings | None = None) -> None:
        self.predictor = predictor
        self.settings = predictor.cache_settings if cache is None else cache
        self.start()

    def start(self) -> None:
        """A new document: the zero state and an empty cache."""
        self.state: State | None = None
        self.cache = self.predictor.new_cache(self.settings) if self.settings.enabled else None

    def feed(self, ids: Sequence[int], spellings: Sequence[str | None]) -> None:
        if self.cache is None:
            self.state = self.predictor.advance(ids, self.state) if ids else self.state
        else:
            self.state = self.predictor.read(ids, self.state, self.cache, spellings)

    def _state(self) -> State:
        return self.state if self.state is not None else self.predictor.model.initial_state(1)

    def top(self, n: int) -> list[Prediction]:
        """The n likeliest next words after the text fed so far, as the service ranks them."""
        return self.predictor.top_words(self._state(), n, cache=self.cache)

    @torch.inference_mode()
    def ending_probabilities(self, words: Sequence[str]) -> np.ndarray:
        """(n,): for each word, the model's probability (without the cache) that the token after it is not a
        word (punctuation or a line end), each word read from the current state in one batch."""
        if not words:
            return np.zeros(0)
        predictor = self.predictor
        ids = torch.tensor([[word_id(predictor, w)] for w in words], dtype=torch.long)  # (n, 1)
        state = self._state()
        batch = tuple(part.expand(-1, len(words), -1).contiguous() for part in state) if isinstance(state, tuple) \
            else state.expand(-1, len(words), -1).contiguous()  # (layers, n, H)
        out, _ = predictor.model.encode(ids, batch)  # (n, 1, H)
        probs = predictor.model.log_probs(out[:, 0]).exp().numpy()  # (n, V)
        return probs[:, ending_mask(predictor)].sum(axis=1)

    def suggester(self, n: int) -> Suggest:
        """Suggestions after the text fed so far: with no prefix the service's own top_words; with one,
        the next-word distribution (with the cache) computed once at the first such call, then by prefix."""
        predictor, cache = self.predictor, self.cache
        state = self._state()
        mixture: list[CacheWords] = []

        def suggest(prefix: str, passed_over: Collection[str] = ()) -> list[str]:
            if not prefix:
                return [p.word for p in predictor.top_words(state, n, cache=cache, exclude=passed_over)]
            if not mixture:
                probs = predictor.next_word_probabilities(state).numpy()
                mixture.append(cache.mix(probs, predictor._output(state).numpy()) if cache is not None
                               else CacheWords(probs, {}))
            return [p.word for p in predictor.top_from_mixture(mixture[0], n, prefix, passed_over)]
        return suggest


@dataclass(frozen=True)
class RecencySettings:
    weight: float = 0.1  # share of the recency cache in the mixture
    decay: float = 0.995  # a word's weight is decay ** (tokens since it was written)
    window: int = 2000  # tokens remembered


class NgramTypist:
    """The baseline keyboards use: the 5-gram Kneser-Ney model (model/evaluation/ngram.py) over the same
    vocabulary, mixed with a recency cache of the words written so far in the document (decaying with
    age; words outside the vocabulary copied as written, as Presage's recency predictor does)."""

    def __init__(self, predictor: Predictor, ngram: KneserNeyLM, recency: RecencySettings = RecencySettings()) -> None:
        self.predictor, self.ngram, self.recency = predictor, ngram, recency
        self.offerable = predictor.offerable.numpy()
        self.start()

    def start(self) -> None:
        self.history: list[int] = []
        self.spellings: list[str | None] = []

    def feed(self, ids: Sequence[int], spellings: Sequence[str | None]) -> None:
        keep = self.recency.window
        self.history = (self.history + list(ids))[-keep:]
        self.spellings = (self.spellings + list(spellings))[-keep:]

    def mixture(self) -> CacheWords:
        probs = self.ngram.distribution(self.history[-(self.ngram.order - 1):] if self.ngram.order > 1 else [])
        words = np.asarray(self.history, dtype=np.int64)
        if not len(words) or self.recency.weight <= 0:
            return CacheWords(probs, {})
        ages = len(words) - 1 - np.arange(len(words))
        weights = self.recency.decay ** ages.astype(np.float64)
        unk = self.predictor.tokenizer.unk_id
        weights[~(self.offerable[words] | (words == unk))] = 0.0  # words only: no punctuation, no <eos>
        if weights.sum() <= 0:
            return CacheWords(probs, {})
        weights /= weights.sum()
        lam = self.recency.weight
        recent = np.bincount(words, weights=weights, minlength=len(probs))
        unknown: dict[str, tuple[str, float]] = {}
        for i in np.flatnonzero(words == unk):
            spelling = self.spellings[i]
            if spelling:
                _, before = unknown.get(spelling.lower(), (spelling, 0.0))
                unknown[spelling.lower()] = (spelling, before + lam * weights[i])
        recent[unk] = 0.0
        return CacheWords((1 - lam) * probs + lam * recent, unknown)

    def top(self, n: int) -> list[Prediction]:
        return self.predictor.top_from_mixture(self.mixture(), n)

    def ending_probabilities(self, words: Sequence[str]) -> np.ndarray:
        """(n,): as NeuralTypist's, under the n-gram model (without the recency cache)."""
        context = self.history[-(self.ngram.order - 2):] if self.ngram.order > 2 else []
        mask = ending_mask(self.predictor)
        return np.array([self.ngram.distribution(context + [word_id(self.predictor, w)])[mask].sum() for w in words])

    def suggester(self, n: int) -> Suggest:
        mixture: list[CacheWords] = []

        def suggest(prefix: str, passed_over: Collection[str] = ()) -> list[str]:
            if not mixture:
                mixture.append(self.mixture())
            return [p.word for p in self.predictor.top_from_mixture(mixture[0], n, prefix or None, passed_over)]
        return suggest


Typist = NeuralTypist | NgramTypist


def word_id(predictor: Predictor, word: str) -> int:
    """A suggested word's vocabulary id; <unk> for a word copied from the text (outside the vocabulary)."""
    ids = predictor.tokenizer.encode(word.lower())
    return ids[0] if len(ids) == 1 else predictor.tokenizer.unk_id


def ending_mask(predictor: Predictor) -> np.ndarray:
    """(V,) bool: the tokens that are not words (punctuation, <eos>), <unk> and <pad> left out."""
    mask = ~predictor.offerable.numpy()
    mask[[predictor.tokenizer.unk_id, predictor.tokenizer.pad_id]] = False
    return mask


def line_tokens(predictor: Predictor, line: str) -> Iterator[tuple[int, str]]:
    """(token id, the text it was read from) for each token of a line, as the tokenizer splits it."""
    encoding = predictor.tokenizer.tokenizer.encode(line, add_special_tokens=False)
    for token_id, (start, end) in zip(encoding.ids, encoding.offsets):
        yield token_id, line[start:end]


def typing_steps(typist: Typist, documents: Iterable[Sequence[str]], n_suggestions: int = 3,
                 max_words: int | None = None, words_per_document: int | None = None) -> Iterator[tuple[str, Suggest]]:
    """(word, suggester) for each word of the documents as a person types them: each document from its
    start (a fresh state and cache), token by token; punctuation is fed to the model but yields no word;
    lines end with <eos>. The suggester of a word is built from the tokens before it, nothing later.
    At most `words_per_document` words of each, `max_words` in all."""
    predictor = typist.predictor
    unk, eos = predictor.tokenizer.unk_id, predictor.tokenizer.eos_id
    words = 0
    for lines in documents:
        typist.start()
        in_document = 0
        for line in lines:
            if not line.strip():
                continue
            if words_per_document is not None and in_document >= words_per_document:
                break
            for token_id, surface in line_tokens(predictor, line):
                if is_word(surface) and (words_per_document is None or in_document < words_per_document):
                    if max_words is not None and words >= max_words:
                        return
                    yield surface, typist.suggester(n_suggestions)
                    words += 1
                    in_document += 1
                typist.feed([token_id], [surface if token_id == unk else None])
            typist.feed([eos], [None])


def keystroke_savings(typist: Typist | Predictor, text: str | Sequence[str], n_suggestions: int = 3,
                      max_words: int | None = None, repeat: bool = False) -> KeystrokeCount:
    """Keystroke count of typing `text` (a string, or its lines: one document) with `n_suggestions`
    shown, at most `max_words` words. A Predictor types with its version's own cache settings."""
    lines = text.splitlines() if isinstance(text, str) else text
    typist = NeuralTypist(typist) if isinstance(typist, Predictor) else typist
    return count_keystrokes(typing_steps(typist, [lines], n_suggestions, max_words), repeat)


# ---------------------------------------------------------------- perplexity

# A WikiText article heading: " = Title = " (section headings are " = = Section = = ").
ARTICLE_HEADING = re.compile(r"^= [^=].* =$")


def split_articles(lines: Sequence[str]) -> list[list[str]]:
    """Lines → articles, a new one at each WikiText top-level heading (all one article if there is none)."""
    articles: list[list[str]] = []
    for line in lines:
        if not articles or ARTICLE_HEADING.match(line.strip()):
            articles.append([])
        articles[-1].append(line)
    return articles


def text_perplexity(predictor_or_loaded: Predictor | LoadedModel, path: Path, per_article: bool = False,
                    bptt: int = 400) -> dict:
    """Perplexity of a plain text file (every line followed by <eos>, as in training), with the state
    carried across the whole file, or reset at each article heading (`per_article`). As
    model.evaluation.scoring counts it: every token but each passage's first is predicted,
    <unk> and <eos> included; `unk_share` says how much of the text the model cannot name."""
    loaded = predictor_or_loaded.loaded if isinstance(predictor_or_loaded, Predictor) else predictor_or_loaded
    tok = loaded.tokenizer
    lines = read_lines(path)
    passages = encode_passages(tok, split_articles(lines) if per_article else [lines])
    tokens = sum(map(len, passages))
    unk = sum(ids.count(tok.unk_id) for ids in passages)
    result = evaluate_split(loaded.model, passages, tok.pad_id, batch_size=64, bptt=bptt)
    return {"path": str(path), "perplexity": round(result["perplexity"], 3), "tokens": tokens,
            "passages": len(passages), "unk_share": round(unk / max(tokens, 1), 4), "per_article": per_article}


# ---------------------------------------------------------------- documents to type

DOCUMENT_KINDS = ("plain", "fiction", "wikitext", "dialogue", "lambada")


def read_documents(kind: str, path: Path) -> Iterator[list[str]]:
    """The documents of a text, each a list of lines, each typed from its start:
    plain: the whole file; fiction: a book each (books.tsv beside the file, else the whole file);
    wikitext: an article each, its tokenisation undone as typed ("@-@" joins, <unk> stays unknown);
    dialogue: blank-line separated blocks; lambada: a passage each (a jsonl file)."""
    path = Path(path)
    if kind == "lambada":
        for text in read_lambada(path):
            yield text.splitlines()
        return
    with open_text(path) as f:
        lines = [raw.rstrip("\n") for raw in f]
    if kind == "wikitext":
        from corpus.english import untokenize_wikitext

        for article in split_articles([line for line in lines if line.strip()]):
            yield [untokenize_wikitext(line.strip()) for line in article]
    elif kind == "dialogue":
        block: list[str] = []
        for line in [*lines, ""]:
            if line.strip():
                block.append(line.strip())
            elif block:
                yield block
                block = []
    elif kind == "fiction":
        from corpus.english import book_starts

        starts = sorted(book_starts(path.parent, path.name.split(".")[0]) | {0})
        for a, b in zip(starts, [*starts[1:], len(lines)]):
            yield [line for line in lines[a:b] if line.strip()]
    elif kind == "plain":
        yield [line for line in lines if line.strip()]
    else:
        raise ValueError(f"unknown kind of text {kind!r} (known: {', '.join(DOCUMENT_KINDS)})")


def fit_ngram_baseline(predictor: Predictor, corpus_train: Path, order: int = 5, max_tokens: int = 0) -> KneserNeyLM:
    """The 5-gram Kneser-Ney model on a corpus's train.txt, over the neural model's own vocabulary."""
    from model.training.data import read_passages

    passages = encode_passages(predictor.tokenizer, read_passages(corpus_train))
    if max_tokens:
        kept, total = [], 0
        for p in passages:
            if total >= max_tokens:
                break
            kept.append(p)
            total += len(p)
        passages = kept
    return KneserNeyLM(predictor.tokenizer.vocab_size, order=order).fit(passages)


RECENCY_WEIGHTS = (0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
RECENCY_DECAYS = (0.98, 0.99, 0.995, 0.998, 0.999, 1.0)


def recency_target_probs(passage: Sequence[int], counted: np.ndarray, decay: float,
                         window: int = RecencySettings.window) -> tuple[np.ndarray, np.ndarray]:
    """For each position t ≥ 1 of a passage: the recency cache's probability of the token at t (its
    decayed count among the last `window` tokens before it over their decayed total), and whether any
    word is among them (else NgramTypist gives the 5-gram alone). `counted` (V,) marks the ids the cache
    holds (words and <unk>, as NgramTypist). Lazy decay: each id keeps (value, when), so a passage costs
    one pass; a token leaving the window takes its weight, decay ** window by then, with it."""
    values: dict[int, tuple[float, int]] = {}
    total, leaving = 0.0, decay ** window

    def bump(token: int, t: int, amount: float) -> None:
        value, at = values.get(token, (0.0, t))
        values[token] = (value * decay ** (t - at) + amount, t)

    probs, seen = np.zeros(max(len(passage) - 1, 0)), np.zeros(max(len(passage) - 1, 0), dtype=bool)
    for t in range(1, len(passage)):
        total *= decay
        if counted[passage[t - 1]]:
            bump(int(passage[t - 1]), t, 1.0)
            total += 1.0
        if t - 1 - window >= 0 and counted[passage[t - 1 - window]]:
            bump(int(passage[t - 1 - window]), t, -leaving)
            total -= leaving
        seen[t - 1] = total > 1e-12
        entry = values.get(int(passage[t]))
        if entry is not None and seen[t - 1]:
            probs[t - 1] = max(entry[0] * decay ** (t - entry[1]), 0.0) / total
    return probs, seen


def tune_recency(ngram: KneserNeyLM, predictor: Predictor, passages: list[list[int]]) -> tuple[RecencySettings, dict]:
    """The baseline's recency weight and decay with the lowest perplexity on validation passages, each
    passage a document: the neural cache is tuned the same way (model/evaluation/cache_scoring.py), so
    neither system is compared with settings the other did not get. Returns the settings and the grid."""
    passages = [p for p in passages if len(p) > 1]
    window = RecencySettings.window
    ngram_probs = ngram.target_probabilities(passages)  # (N,) in passage order, each passage's positions after its first
    counted = predictor.offerable.numpy() | (np.arange(predictor.tokenizer.vocab_size) == predictor.tokenizer.unk_id)
    grid, best = {}, (math.inf, RecencySettings())
    for decay in RECENCY_DECAYS:
        per_passage = [recency_target_probs(p, counted, decay, window) for p in passages]
        recent, seen = (np.concatenate(parts) for parts in zip(*per_passage))
        for weight in RECENCY_WEIGHTS:
            mixed = np.where(seen, (1 - weight) * ngram_probs + weight * recent, ngram_probs)
            perplexity = math.exp(float(-np.log(mixed).mean()))
            grid[f"{weight}/{decay}"] = round(perplexity, 3)
            if perplexity < best[0]:
                best = (perplexity, RecencySettings(weight=weight, decay=decay, window=window))
    without = math.exp(float(-np.log(ngram_probs).mean()))
    return best[1], {"perplexity": round(best[0], 3), "perplexity_without_recency": round(without, 3),
                     "tokens": len(ngram_probs), "grid": grid}


# ---------------------------------------------------------------- command line


def evaluate(systems: dict[str, Typist], lambada: Path | None, lambada_limit: int,
             keystrokes: Sequence[tuple[str, Path]], keystroke_words: int, n_suggestions: int = 3,
             words_per_document: int | None = None, perplexity: Sequence[Path] = (), per_article: bool = False,
             repeat: bool = False, last_word: LastWord | None = None, ranker=None) -> dict:
    """LAMBADA and keystroke savings for each system (name → typist), perplexity for the neural model. With
    `last_word`, LAMBADA is also scored with each system's words ranked as the passage's last (LastWord);
    with `ranker` (last_word.LastWordRanker), also so ranked for the systems with a document cache."""
    if not systems:
        raise ValueError("no system to evaluate")
    first = next(iter(systems.values()))
    result: dict = {"version": first.predictor.version, "systems": list(systems), "lambada": [], "keystrokes": []}
    for name, typist in systems.items():
        if lambada is not None and lambada_limit > 0:
            rankings: list = [None] + ([last_word] if last_word is not None else [])
            if ranker is not None and getattr(typist, "cache", None) is not None:
                rankings.append(ranker)
            for ranking in rankings:
                score = score_lambada(typist, read_lambada(lambada, lambada_limit), last_word=ranking)
                result["lambada"].append({"system": name, "path": str(lambada), **asdict(score),
                                          "ranking": "next word" if ranking is None else ranking.as_json()})
        if keystroke_words > 0:
            for kind, path in keystrokes:
                count = count_keystrokes(typing_steps(typist, read_documents(kind, path), n_suggestions,
                                                      keystroke_words, words_per_document), repeat)
                result["keystrokes"].append({
                    "system": name, "kind": kind, "path": str(path), "savings": round(count.savings, 4),
                    "keystrokes": count.keystrokes, "letters_and_spaces": count.letters_and_spaces,
                    "words": count.words, "suggestions": n_suggestions, "words_per_document": words_per_document,
                    "passed_over_shown_again": repeat})
    if perplexity:
        result["perplexity"] = [text_perplexity(first.predictor, path, per_article) for path in perplexity]
    return result


def markdown_table(result: dict) -> str:
    rows = ["| system | measure | data | value |", "|---|---|---|---|"]
    for lam in result.get("lambada", []):
        name, where = lam["system"], f"{Path(lam['path']).name}, {lam['n']} passages"
        ranking = lam.get("ranking", "next word")
        if ranking != "next word":
            name += ", last word by the fitted ranker" if "fitted_ranker" in ranking else ", ranked as the last word"
        rows += [f"| {name} | LAMBADA top-1 | {where} | {lam['top1']:.4f} |",
                 f"| {name} | LAMBADA top-{lam['k']} | {where} | {lam['topk']:.4f} |",
                 f"| {name} | LAMBADA targets outside the vocabulary | {where} | {lam['oov_share']:.4f} |"]
    for ks in result.get("keystrokes", []):
        rows.append(f"| {ks['system']} | keystroke savings, {ks['suggestions']} suggestions | {ks['kind']}: "
                    f"{Path(ks['path']).name}, {ks['words']} words | {ks['savings']:.4f} "
                    f"({ks['keystrokes']} of {ks['letters_and_spaces']} keystrokes) |")
    for pp in result.get("perplexity", []):
        scope = "per article" if pp["per_article"] else "whole file"
        rows.append(f"| model | perplexity ({scope}) | {Path(pp['path']).name}, {pp['tokens']} tokens, "
                    f"<unk> {pp['unk_share']:.2%} | {pp['perplexity']:.2f} |")
    return "\n".join(rows)


def cache_override(spec: str) -> tuple[str, float | int | bool]:
    """KEY=VALUE for --cache: one CacheSettings field and its value."""
    key, _, value = spec.partition("=")
    types = {"weight": float, "flatness": float, "entropy_scale": float, "window": int,
             "copy_unknown": lambda v: v.lower() in ("1", "true", "yes")}
    if key not in types or not value:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE with KEY one of {', '.join(types)}, got {spec!r}")
    try:
        return key, types[key](value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{spec!r}: not a number") from None


def keystroke_source(spec: str) -> tuple[str, Path]:
    """KIND=PATH (a bare PATH is plain text: one document)."""
    kind, _, path = spec.rpartition("=")
    kind = kind or "plain"
    if kind not in DOCUMENT_KINDS:
        raise argparse.ArgumentTypeError(f"unknown kind {kind!r} in {spec!r} (known: {', '.join(DOCUMENT_KINDS)})")
    return kind, Path(path)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m model.evaluation.real_text",
                                description="LAMBADA, keystroke savings and perplexity on real text, through the Predictor.")
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="use the newest version here")
    p.add_argument("--version-dir", type=Path, help="evaluate this version directory instead")
    p.add_argument("--lambada", type=Path, help="LAMBADA jsonl ({\"text\": ...} per line); none: skipped")
    p.add_argument("--lambada-limit", type=int, default=500, help="first N passages (0: skip LAMBADA)")
    p.add_argument("--last-word-proxy", type=keystroke_source, metavar="[KIND=]PATH",
                   help="instead of LAMBADA: LAMBADA-like passages cut from this held-out text (last_word_passages)")
    p.add_argument("--hard-proxy", action="store_true",
                   help="keep only proxy passages whose last word the model alone does not rank in its top 10 "
                        "(unpredictable_locally, as LAMBADA's selection)")
    p.add_argument("--last-word", action="store_true",
                   help="also score LAMBADA with the words ranked as the passage's last (LastWord)")
    p.add_argument("--last-word-ranker", type=Path, metavar="JSON",
                   help="also score LAMBADA with the ranker fitted for this version (python -m model.evaluation.last_word)")
    p.add_argument("--last-word-candidates", type=int, default=LastWord.candidates, help="next words re-ranked")
    p.add_argument("--last-word-weight", type=float, default=LastWord.weight,
                   help="exponent of p(no word follows) in the last-word ranking")
    p.add_argument("--keystrokes", type=keystroke_source, nargs="*", default=[], metavar="[KIND=]PATH",
                   help=f"texts to type (.xz read as xz), KIND one of {', '.join(DOCUMENT_KINDS)} (read_documents)")
    p.add_argument("--keystroke-words", type=int, default=2000, help="words typed from each text (0: skip)")
    p.add_argument("--words-per-document", type=int, default=0, help="words typed from each document at most (0: all)")
    p.add_argument("--suggestions", type=int, default=3, help="suggestions shown while typing")
    p.add_argument("--repeat-suggestions", action="store_true",
                   help="show the plain top k at every letter, words passed over included (the measure up to session 9)")
    p.add_argument("--cache", type=cache_override, nargs="+", default=[], metavar="KEY=VALUE",
                   help="evaluate with these document cache settings instead of the version's (weight=0.5 "
                        "entropy_scale=0 ...): chosen on held-out text for a task of its own, such as last words")
    p.add_argument("--no-cache-baseline", action="store_true", help="also the same model with its cache off")
    p.add_argument("--baselines-only", action="store_true",
                   help="leave out the model with its cache (to run the baselines in a process of their own)")
    p.add_argument("--ngram-corpus", type=Path, help="also the 5-gram + recency baseline, fitted on this train.txt")
    p.add_argument("--ngram-tokens", type=int, default=0, help="fit the 5-gram on at most this many tokens (0: all)")
    p.add_argument("--tune-recency", type=Path, metavar="VALID_TXT",
                   help="tune the baseline's recency weight and decay on these passages (a corpus's valid.txt)")
    p.add_argument("--perplexity", type=Path, nargs="*", default=[], help="plain text files to score (whole file read)")
    p.add_argument("--per-article", action="store_true", help="reset the state at each WikiText article heading")
    p.add_argument("--json", type=Path, help="write the result here")
    p.add_argument("--threads", type=int, default=1, help="torch threads (one state at a time: more rarely help)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    loaded = load_version(a.version_dir) if a.version_dir else load_latest(a.models_dir)
    predictor = Predictor(loaded)
    if a.cache:
        predictor.cache_settings = CacheSettings.from_json({**predictor.cache_settings.as_json(), **dict(a.cache)})
    systems: dict[str, Typist] = {"model + cache" if predictor.cache_settings.enabled else "model": NeuralTypist(predictor)}
    if a.no_cache_baseline and predictor.cache_settings.enabled:
        systems["model, no cache"] = NeuralTypist(predictor, OFF)
    if a.baselines_only:
        systems.pop(next(iter(systems)))
    recency_tuning = None
    if a.ngram_corpus:
        ngram = fit_ngram_baseline(predictor, a.ngram_corpus, max_tokens=a.ngram_tokens)
        recency = RecencySettings()
        if a.tune_recency:
            from model.training.data import read_passages

            passages = encode_passages(predictor.tokenizer, read_passages(a.tune_recency))
            recency, recency_tuning = tune_recency(ngram, predictor, passages)
            print(f"5-gram + recency tuned on {recency_tuning['tokens']:,} tokens of {a.tune_recency}: {recency}; "
                  f"perplexity {recency_tuning['perplexity_without_recency']} → {recency_tuning['perplexity']}")
        systems["5-gram + recency"] = NgramTypist(predictor, ngram, recency)
    ranker = None
    if a.last_word_ranker:
        from model.evaluation.last_word import LastWordRanker

        ranker = LastWordRanker.load(a.last_word_ranker, loaded.version)
    lambada = a.lambada
    if a.last_word_proxy:
        kind, path = a.last_word_proxy
        proxy = Path(f"data/eval/last-word-proxy-{path.name.split('.')[0]}{'-hard' if a.hard_proxy else ''}.jsonl")
        proxy.parent.mkdir(parents=True, exist_ok=True)
        passages = last_word_passages(read_documents(kind, path), limit=a.lambada_limit,
                                      keep=unpredictable_locally(predictor) if a.hard_proxy else None)
        proxy.write_text("".join(json.dumps({"text": t}) + "\n" for t in passages))
        lambada = proxy
    result = evaluate(systems, lambada, a.lambada_limit, a.keystrokes, a.keystroke_words, a.suggestions,
                      a.words_per_document or None, a.perplexity, a.per_article, a.repeat_suggestions,
                      LastWord(a.last_word_candidates, a.last_word_weight) if a.last_word else None, ranker)
    result["cache"] = predictor.cache_settings.as_json()
    if recency_tuning is not None:
        result["recency"] = {**asdict(systems["5-gram + recency"].recency), "tuning": recency_tuning}
    print(f"model {loaded.version}, cache {predictor.cache_settings}")
    print(markdown_table(result))
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
