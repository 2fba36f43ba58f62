"""Keystroke savings, the standard measure of word prediction: held-out text is typed word by word.
Before each letter the suggestions for the word being typed are shown (computed from the state after
the previous words, with the letters typed so far as a prefix); taking one costs a keystroke and types
the word and its space, a word never suggested costs its letters and a space. A word shown for this
word and passed over (the typist typed on) is not shown again for it: the next letter's slots go to
other words (`repeat=True`: the plain top k at every letter, as sessions up to 9 measured).
Savings = 1 - keystrokes / (letters + spaces). Punctuation is neither typed nor counted, but it is fed
to the model as context, as the tokenizer splits it; every line ends with <eos>, as in training.
placed_keystrokes gives the same count with each word placed by how far back it was last written in
its document, to show where a document cache saves keystrokes (`by_distance`).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from model.evaluation.texts import line_tokens
from model.evaluation.typists import NeuralTypist, Suggest, Typist
from model.predict import Predictor
from model.tokenizer import is_word


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


# Bucket edges, in words back to where the word was last written in its document: (0, 1] is the word
# just before, ..., (2000, inf) beyond any cache window we serve (W = 2,000 tokens, punctuation included).
DISTANCE_EDGES = (0, 10, 100, 1000, 2000)


class _Documents:
    """A typist that counts the documents started, so the words typed can be placed in theirs."""

    def __init__(self, typist: Typist) -> None:
        self.typist, self.started = typist, 0

    def start(self) -> None:
        self.started += 1
        self.typist.start()

    def __getattr__(self, name: str):
        return getattr(self.typist, name)


@dataclass(frozen=True)
class PlacedKeystrokes:
    """A keystroke count, with each word typed and how many words back it was last written in its
    document (case-insensitive; None: not before in it)."""
    count: KeystrokeCount
    words: tuple[str, ...]
    distances: tuple[int | None, ...]

    def by_distance(self, edges: Sequence[int] = DISTANCE_EDGES) -> list[dict]:
        """Keystroke savings of the words grouped by distance: "new" (not written before), then (0, e1],
        (e1, e2], ..., beyond the last edge. Each group: its label, words, keystrokes, letters and spaces,
        savings (None for an empty group)."""
        bounds = [*edges, None]
        groups = [("new", None, None)] + [(f"{lo + 1}-{hi}" if hi is not None else f">{lo}", lo, hi)
                                          for lo, hi in zip(bounds[:-1], bounds[1:])]
        rows = []
        for label, lo, hi in groups:
            picked = [i for i, d in enumerate(self.distances)
                      if (d is None if lo is None else d is not None and d > lo and (hi is None or d <= hi))]
            full = sum(len(self.words[i]) + 1 for i in picked)
            typed = sum(self.count.per_word[i] for i in picked)
            rows.append({"distance": label, "words": len(picked), "keystrokes": typed, "letters_and_spaces": full,
                         "savings": round(1 - typed / full, 4) if full else None})
        return rows


def placed_keystrokes(typist: Typist, documents: Iterable[Sequence[str]], n_suggestions: int = 3,
                      max_words: int | None = None, words_per_document: int | None = None,
                      repeat: bool = False) -> PlacedKeystrokes:
    """count_keystrokes over typing_steps (the same count), each word placed in its document."""
    counting = _Documents(typist)
    words: list[str] = []
    distances: list[int | None] = []
    last_seen: dict[str, int] = {}
    document = 0

    def placed() -> Iterator[tuple[str, Suggest]]:
        nonlocal document
        in_document = 0
        for word, suggest in typing_steps(counting, documents, n_suggestions, max_words, words_per_document):
            if counting.started != document:  # a new document: its words start afresh
                document, in_document = counting.started, 0
                last_seen.clear()
            before = last_seen.get(word.lower())
            distances.append(None if before is None else in_document - before)
            last_seen[word.lower()] = in_document
            in_document += 1
            words.append(word)
            yield word, suggest
    count = count_keystrokes(placed(), repeat)
    return PlacedKeystrokes(count, tuple(words), tuple(distances))


def keystroke_savings(typist: Typist | Predictor, text: str | Sequence[str], n_suggestions: int = 3,
                      max_words: int | None = None, repeat: bool = False) -> KeystrokeCount:
    """Keystroke count of typing `text` (a string, or its lines: one document) with `n_suggestions`
    shown, at most `max_words` words. A Predictor types with its version's own cache settings."""
    lines = text.splitlines() if isinstance(text, str) else text
    typist = NeuralTypist(typist) if isinstance(typist, Predictor) else typist
    return count_keystrokes(typing_steps(typist, [lines], n_suggestions, max_words), repeat)
