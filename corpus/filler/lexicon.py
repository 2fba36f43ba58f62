"""Loading the word lists of corpus/lexicon/ into one `_Lexicon`, parsed once per process.

File formats (UTF-8; blank lines and lines starting with "#" are skipped, items are stripped):
    plain list      one item a line (surnames.txt, idioms.txt, ...)
    sections        "[name]" starts a section, the items follow one a line (`_sections`); in
                    class_places.txt and class_spots.txt a header may name several noun
                    classes separated by spaces, which share the list (`_class_sections`)
    class: a, b     one line per class with comma-separated items (frames.txt, noun_adjectives.txt)
    word|x, word/g  a plural or kind after "|", a gender after "/" (nouns.txt, people.txt)
Order and repeats in a list matter: a repeated item is drawn more often, and the generator
picks by position, so reordering a list changes the generated text.
"""
from __future__ import annotations

from pathlib import Path

from corpus.filler.grammar import COUNT, MASS, PLURAL_ONLY, _compile
from corpus.filler.morphology import pluralise, verb_forms

_LEXICON_DIR = Path(__file__).resolve().parents[1] / "lexicon"


def _lines(name: str) -> list[str]:
    text = (_LEXICON_DIR / name).read_text(encoding="utf-8")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _sections(name: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = None
    for line in _lines(name):
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
        elif current is not None:
            current.append(line)
    return sections


def _class_sections(name: str) -> dict[str, tuple[str, ...]]:
    """Sections whose header names one or more classes: every class gets the section's items."""
    out: dict[str, tuple[str, ...]] = {}
    for header, items in _sections(name).items():
        for cls in header.split():
            out[cls] = tuple(items)
    return out


def _class_lines(name: str) -> dict[str, list[str]]:
    """'class: a, b, c' lines as {class: [a, b, c]} (an empty list after a bare 'class:')."""
    out = {}
    for line in _lines(name):
        cls, _, rest = line.partition(":")
        out[cls.strip()] = [item.strip() for item in rest.split(",")] if rest.strip() else []
    return out


def _dedupe(items):
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _gendered(entries):
    """'noun/g' or 'noun|plural/g' lines as (singular, plural, gender) with gender f, m or x."""
    out = []
    for entry in entries:
        word, _, g = entry.partition("/")
        sg, _, pl = word.partition("|")
        out.append((sg, pl or pluralise(sg), g or "x"))
    return _dedupe(out)


class _Lexicon:
    """All word lists, parsed once."""

    def __init__(self) -> None:
        self._load_words()
        self._load_people_and_places()
        self._load_sentence_parts()
        self._check()

    def _load_words(self) -> None:
        # nouns: (singular, plural, kind) with kind COUNT, MASS (no plural, no "a") or PLURAL_ONLY
        self.nouns: dict[str, list[tuple[str, str, int]]] = {}
        for cls, entries in _sections("nouns.txt").items():
            out = []
            for entry in entries:
                word, _, plural = entry.partition("|")
                if plural == "*":
                    out.append((word, word, MASS))
                elif plural == "+":
                    out.append((word, word, PLURAL_ONLY))
                else:
                    out.append((word, plural or pluralise(word), COUNT))
            self.nouns[cls] = _dedupe(out)
        self.count_nouns = {c: [n for n in ns if n[2] == COUNT] for c, ns in self.nouns.items()}
        self.mass_nouns = {c: [n for n in ns if n[2] == MASS] for c, ns in self.nouns.items()}
        self.adjs = {c: _dedupe(v) for c, v in _sections("adjectives.txt").items()}
        self.advs = {c: _dedupe(v) for c, v in _sections("adverbs.txt").items()}
        self.intensifiers = tuple(_sections("adverbs.txt")["intensifier"])
        self.noun_adj = {c: tuple(v) for c, v in _class_lines("noun_adjectives.txt").items()}
        self.verbs: dict[str, tuple[str, str, str, str, str]] = {}
        for line in _lines("verbs.txt"):
            forms = verb_forms(line.split())
            self.verbs.setdefault(forms[0], forms)
        # verb frames: class -> [(verb phrase, det or None)]
        self.frames: dict[str, list[tuple[str, str | None]]] = {}
        for cls, items in _class_lines("frames.txt").items():
            self.frames[cls] = [(verb, det or None) for verb, _, det in (i.partition("=") for i in items)]
        self.frame_classes = sorted(self.frames)
        uses = {k: tuple(v) for k, v in _sections("verb_uses.txt").items()}
        self.durative, self.punctual = uses["durative"], uses["punctual"]
        self.durative_adverbials = uses["durative_adverbial"]
        self.punctual_adverbials = uses["punctual_adverbial"]
        self.intransitive = self.durative + self.punctual
        self.motion_verbs, self.copulas, self.short_verbs = uses["motion"], uses["copula"], uses["short"]
        self.get_adjectives, self.stay_adjectives = uses["get_adjective"], uses["stay_adjective"]
        self.stative = frozenset(uses["stative"])
        self.weather_activities = uses["weather_activity"]
        classes = {k: tuple(v) for k, v in _sections("classes.txt").items()}
        self.countable_everyday, self.buyable = classes["countable_everyday"], classes["buyable"]
        self.imperative_classes = classes["imperative"]
        self.place_classes = frozenset(classes["place"])
        self.singular_classes = frozenset(classes["singular"])
        self.evaluative = frozenset(classes["evaluative"])
        self.activities = _dedupe(_lines("activities.txt"))

    def _load_people_and_places(self) -> None:
        people = _sections("people.txt")
        self.relations = _gendered(people["relation"])
        self.kin_plural = people["kin_plural"]
        self.children = _gendered(people["child"])
        self.professions = _gendered(people["profession"])
        self.people_sg = _gendered(people["people_sg"])
        self.relative_heads = tuple((sg, g) for sg, _, g in _gendered(people["relative_head"]))
        self.our_relations = frozenset(people["our_relation"])
        self.my_professions = frozenset(people["my_profession"])
        self.the_kin = tuple(people["the_kin"])
        names = _sections("names.txt")
        self.names_f, self.names_m = _dedupe(names["f"]), _dedupe(names["m"])
        self.names = self.names_f + self.names_m
        self.surnames = _dedupe(_lines("surnames.txt"))
        places = _sections("places.txt")
        self.towns = _dedupe(places["town"])
        self.street_stems = _dedupe(places["street_stem"])
        self.street_types = _dedupe(places["street_type"])
        self.destinations, self.places = tuple(places["destination"]), tuple(places["place"])
        self.landmarks = tuple(places["landmark"])
        self.class_places = _class_sections("class_places.txt")
        self.class_spots = _class_sections("class_spots.txt")

    def _load_sentence_parts(self) -> None:
        self.idioms = _dedupe(_lines("idioms.txt"))
        self.quotes = _dedupe(_lines("quotes.txt"))
        self.banned_words = frozenset(w.lower() for w in _sections("banned.txt")["words"])
        self.banned_phrases = tuple(p.lower() for p in _sections("banned.txt")["phrases"])
        self.templates = [_compile(t) for t in _dedupe(_lines("templates.txt"))]
        bank = {k: tuple(v) for k, v in _sections("sentences.txt").items()}
        self.short_sentences, self.exclamations = bank["short"], bank["exclamation"]
        self.house_rules, self.greetings = bank["house_rule"], bank["greeting"]
        self.exclaim_openers, self.look_at = bank["exclaim_opener"], bank["look_at"]
        self.question_openers, self.lost_questions = bank["question_opener"], bank["lost_question"]
        self.how_was, self.how_many = bank["how_was"], bank["how_many"]
        # an opener runs straight into the command, so it carries its own trailing space
        self.imperative_openers = tuple("" if x == "-" else x + " " for x in bank["imperative_opener"])
        self.there_was, self.there_are = bank["there_was"], bank["there_are"]
        reasons = _sections("reasons.txt")
        self.reasons_past, self.reasons_pres = tuple(reasons["past"]), tuple(reasons["pres"])
        self.relative_vps_3s = tuple(_sections("relatives.txt")["who"])
        self.thing_verbs = tuple((k, tuple(v)) for k, v in _sections("thing_verbs.txt").items())
        self.whose = tuple((k, tuple(v)) for k, v in _sections("whose.txt").items())
        self.full_of = tuple((k, tuple(v)) for k, v in _sections("full_of.txt").items())

    def _check(self) -> None:
        """Every verb a frame, activity or template names must be in the verb table."""
        heads = [v.split()[0] for items in self.frames.values() for v, _ in items]
        heads += [a.split()[0] for a in self.activities]
        heads += [v.split()[0] for v in self.intransitive + self.motion_verbs + self.copulas + self.short_verbs]
        heads += [v.split()[0] for v in self.weather_activities]
        heads += [v.split()[0] for _, vs in self.thing_verbs for v in vs]

        def template_verbs(parts):
            for part in parts:
                if type(part) is tuple and part[0] in ("v", "pv", "vf"):
                    yield part[1][0].split()[0]
                elif type(part) is list:
                    for alt in part:
                        yield from template_verbs(alt)

        extra = self.relative_vps_3s + self.reasons_past + self.reasons_pres
        for parts in self.templates + [_compile(q) for q in self.quotes] + [_compile(r) for r in extra]:
            heads += list(template_verbs(parts))
        missing = sorted({h for h in heads if h not in self.verbs})
        if missing:
            raise ValueError(f"filler lexicon: verbs missing from verbs.txt: {missing}")
        missing_adj = sorted({a for cs in self.noun_adj.values() for a in cs if a not in self.adjs})
        if missing_adj:
            raise ValueError(f"filler lexicon: adjective classes missing: {missing_adj}")
        unknown = sorted(c for c in self.frames if c not in self.nouns)
        if unknown:
            raise ValueError(f"filler lexicon: frames for unknown noun classes: {unknown}")


_LEX: _Lexicon | None = None


def get_lexicon() -> _Lexicon:
    """The word lists, loaded on first use and shared by every generator in the process."""
    global _LEX
    if _LEX is None:
        _LEX = _Lexicon()
    return _LEX
