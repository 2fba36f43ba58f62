"""Everyday English filler text for the synthetic training corpus.

The cue passages read "I grew up in France. <filler> I speak fluent French.", and the filler is
the long gap the model must read past. It is judged later on filler written by people, so this
generator aims for variety: a few thousand distinct words from topic lexicons, many sentence
shapes (statements in several tenses, questions, exclamations, quoted speech, lists, compound and
relative clauses, imperatives, times and numbers, very short and very long sentences), hand-written
topic templates and a few hundred fixed everyday sentences.

The filler never carries the cue: no country, nationality, language or continent names, no real
famous city names, and none of the cue or query phrases ("grew up in", "speak fluent", ...). The
lexicons are written to avoid them and every sentence is checked against `lexicon/banned.txt`
before it is returned.

Word lists and sentence banks live in `corpus/lexicon/` (plain text, read once per process by
`lexicon.py`). The grammar is split by sentence shape: each module below holds a mixin class with
the builders of one family, and `FillerGenerator` combines them.

    morphology.py     a/an, plurals, verb forms, numbers in words
    grammar.py        closed tables (pronouns, "be", modals, tense families), clean-up of a sentence
    lexicon.py        loading corpus/lexicon/*.txt into one shared _Lexicon
    words.py          pickers, noun phrases, places and destinations
    people.py         subjects and other people
    verbs.py          conjugation, verb phrases, clauses
    times.py          times, dates, durations; the numbers shape
    templates.py      template slots; the template and idiom shapes
    statements.py     simple, narrated, compound, complex and long statements
    descriptions.py   descriptions, "there is/are", weather, very short sentences
    speech.py         questions, exclamations, quoted speech
    clauses.py        lists and relative clauses
    instructions.py   imperatives, house rules, recipe steps, directions

Every random choice comes from the `random.Random` given to `FillerGenerator`, so a seed fixes
the text; tests/test_filler.py pins the text of three seeds by its sha256.
"""
from __future__ import annotations

import random

from corpus.filler.clauses import Clauses
from corpus.filler.descriptions import Descriptions
from corpus.filler.grammar import _DOUBLED, _WORD, _compile, _cumulative, _finish
from corpus.filler.instructions import Instructions
from corpus.filler.lexicon import get_lexicon
from corpus.filler.morphology import article_for, number_words, pluralise, verb_forms
from corpus.filler.people import People
from corpus.filler.speech import Speech
from corpus.filler.statements import Statements
from corpus.filler.templates import Templates
from corpus.filler.times import Times
from corpus.filler.verbs import Verbs
from corpus.filler.words import Words

__all__ = ["FillerGenerator", "article_for", "get_lexicon", "number_words", "pluralise", "verb_forms"]


class FillerGenerator(Statements, Descriptions, Speech, Clauses, Instructions, Templates, Times,
                      Verbs, People, Words):
    """Seeded generator of everyday English sentences."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lex = get_lexicon()
        lex = self.lex
        # noun classes for the object frames, weighted towards the larger classes
        self._frame_classes = lex.frame_classes
        self._frame_weights = [len(lex.nouns[c]) ** 0.6 for c in self._frame_classes]
        self._cum_frame = _cumulative(self._frame_weights)
        self._compiled_activities = [_compile(a) for a in lex.activities]
        self._reasons_past = [_compile(x) for x in lex.reasons_past]
        self._reasons_pres = [_compile(x) for x in lex.reasons_pres]
        # sentence shapes and their weights; the order is part of what a seed means
        builders = [
            (self._simple, 10), (self._narration, 8), (self._compound, 10), (self._complex, 12),
            (self._question, 6), (self._exclamation, 3), (self._quoted, 5), (self._list_sentence, 5),
            (self._relative, 6), (self._numbers, 4), (self._imperative, 4), (self._short, 3),
            (self._long, 6), (self._template, 24), (self._idiom, 4), (self._description, 4),
            (self._existential, 3), (self._weather, 3),
        ]
        self._builders = [b for b, _ in builders]
        self._cum_builders = _cumulative([w for _, w in builders])
        # state shared between the parts of one sentence
        self._ctx: dict = {}
        self._last_cls: str | None = None
        self._last_adv: str | None = None
        self._last_kind = "obj"
        self._last_np_plural = False
        self._no_adv = False

    def sentence(self) -> str:
        """One sentence, capitalised, ending in . ! or ?"""
        rng = self.rng
        for _ in range(20):
            self._ctx = {}
            self._no_adv = False
            builder = rng.choices(self._builders, cum_weights=self._cum_builders)[0]
            text = _finish(builder())
            if text and self._clean(text) and not _DOUBLED.search(text):
                return text
        return "It rained."

    def passage(self, n_words: int) -> str:
        """Whole sentences joined by single spaces until at least n_words words are produced."""
        if n_words <= 0:
            return ""
        out, count = [], 0
        while count < n_words:
            s = self.sentence()
            out.append(s)
            count += len(s.split())
        return " ".join(out)

    def _clean(self, text: str) -> bool:
        low = text.lower()
        if any(p in low for p in self.lex.banned_phrases):
            return False
        return self.lex.banned_words.isdisjoint(_WORD.findall(low))
