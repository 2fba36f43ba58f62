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

Word lists live in `lexicon/` (plain text, read once per process). Every random choice comes from
the `random.Random` given to `FillerGenerator`, so a seed fixes the text.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

__all__ = ["FillerGenerator"]

_LEXICON_DIR = Path(__file__).resolve().parent / "lexicon"

# --------------------------------------------------------------------------------------------
# Morphology
# --------------------------------------------------------------------------------------------

_A_BEFORE_VOWEL_LETTER = ("uni", "use", "usu", "uten", "uk", "ure", "eu", "ewe", "one", "once")
_AN_OVERRIDES = ("unim", "unin", "unid", "unint", "unil")
_AN_BEFORE_CONSONANT_LETTER = ("hour", "honest", "honour", "heir")


def article_for(word: str) -> str:
    """'a' or 'an' for the word that follows (by sound, for the words this lexicon uses)."""
    w = word.lower()
    if not w:
        return "a"
    if w.startswith(_AN_BEFORE_CONSONANT_LETTER):
        return "an"
    if w[0] in "aeiou":
        if w.startswith(_A_BEFORE_VOWEL_LETTER) and not w.startswith(_AN_OVERRIDES):
            return "a"
        return "an"
    return "a"


def pluralise(noun: str) -> str:
    """Regular English plural of a (possibly multi-word) noun: its last word takes the ending."""
    head, sep, last = noun.rpartition(" ")
    if last.endswith(("s", "x", "z", "ch", "sh")):
        last += "es"
    elif last.endswith("y") and len(last) > 1 and last[-2] not in "aeiou":
        last = last[:-1] + "ies"
    else:
        last += "s"
    return head + sep + last


_CVC = re.compile(r"^[^aeiou]*[aeiou][^aeiouwxy]$")


def verb_forms(spec: list[str]) -> tuple[str, str, str, str, str]:
    """(base, third person singular, past, past participle, -ing) from a verbs.txt line."""
    base = spec[0]
    double = base.endswith("+")
    base = base.rstrip("+")
    if base == "be":
        return ("be", "is", "was", "been", "being")
    if base == "have":
        return ("have", "has", "had", "had", "having")
    # third person singular
    if base.endswith(("s", "x", "z", "ch", "sh", "o")):
        s3 = base + "es"
    elif base.endswith("y") and base[-2] not in "aeiou":
        s3 = base[:-1] + "ies"
    else:
        s3 = base + "s"
    doubled = base + base[-1] if (double or _CVC.match(base)) else base
    # past
    if len(spec) >= 2:
        past = spec[1]
        pp = spec[2] if len(spec) >= 3 else past
    elif base.endswith("e"):
        past = pp = base + "d"
    elif base.endswith("y") and base[-2] not in "aeiou":
        past = pp = base[:-1] + "ied"
    else:
        past = pp = doubled + "ed"
    # -ing
    if len(spec) >= 4:
        ing = spec[3]
    elif base.endswith("ie"):
        ing = base[:-2] + "ying"
    elif base.endswith("e") and not base.endswith(("ee", "ye", "oe")) and base != "be":
        ing = base[:-1] + "ing"
    else:
        ing = doubled + "ing"
    return (base, s3, past, pp, ing)


_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
          "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINALS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
             "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth "
             "twenty-first twenty-second twenty-third twenty-fourth twenty-fifth twenty-sixth "
             "twenty-seventh twenty-eighth twenty-ninth thirtieth thirty-first").split()


def number_words(n: int) -> str:
    """0 <= n < 10000 in words: 'forty-two', 'three hundred and six'."""
    if n < 20:
        return _UNITS[n]
    if n < 100:
        tens, units = divmod(n, 10)
        return _TENS[tens] + ("-" + _UNITS[units] if units else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return _UNITS[hundreds] + " hundred" + (" and " + number_words(rest) if rest else "")
    thousands, rest = divmod(n, 1000)
    if rest == 0:
        return number_words(thousands) + " thousand"
    if rest < 100:
        return number_words(thousands) + " thousand and " + number_words(rest)
    return number_words(thousands) + " thousand, " + number_words(rest)


# --------------------------------------------------------------------------------------------
# Lexicon loading
# --------------------------------------------------------------------------------------------

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


def _dedupe(items):
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


# Noun: (singular, plural, kind) with kind COUNT, MASS (no plural, no "a") or PLURAL_ONLY (jeans).
COUNT, MASS, PLURAL_ONLY = 0, 1, 2

# Adjective classes that suit each noun class.
_NOUN_ADJ = {
    "fruit": ("fruit", "fruit", "colour", "size"), "veg": ("veg", "veg", "size"), "meat": ("food",),
    "dairy": ("food",), "baked": ("baked", "baked", "opinion", "size"), "dish": ("food", "opinion"),
    "snack": ("food",), "sweet": ("food",), "pantry": ("food",), "drink": ("drink",),
    "meal": ("event", "food", "opinion"),
    "kitchen": ("condition", "material", "colour", "age", "size"),
    "furniture": ("condition", "material", "colour", "age", "size", "practical"),
    "room": ("place", "condition"), "opening": ("condition", "colour", "material"),
    "structure": ("condition", "age"), "cleaning": ("condition", "colour", "age"),
    "bathroom": ("condition", "colour"), "misc": ("condition", "colour", "age", "practical"),
    "tools": ("condition", "age", "practical"), "container": ("size", "condition", "material"),
    "paper": ("opinion", "practical", "size", "colour"), "clothes": ("clothes", "colour", "material"),
    "body": ("body",), "illness": ("illness",), "medicine": (), "work_doc": ("doc",),
    "work_event": ("event",), "office": ("condition", "tech"), "schoolwork": ("doc",),
    "exam": ("event",), "sport_event": ("event",), "sport_item": ("condition", "colour"),
    "puzzle": ("doc",), "instrument": ("age", "condition", "practical", "material"),
    "song": ("music",), "show": ("event", "media"), "book": ("media", "book"),
    "screen": ("media",), "device": ("tech", "colour"), "digital": ("tech",),
    "media": ("opinion",), "payable": ("money",), "money": ("money",),
    "transport_public": ("vehicle",), "transport_drive": ("vehicle", "colour"),
    "transport_ride": ("vehicle", "colour"), "travel_item": ("condition", "colour", "size"),
    "shop": ("place",), "pet": ("animal",), "farm": ("animal",), "wild": ("animal",),
    "bird": ("animal",), "insect": ("size",), "flower": ("plant", "colour"),
    "tree": ("plant", "size", "age"), "herb": ("plant",), "garden_area": ("place", "condition"),
    "garden_tool": ("condition", "age"), "seed": ("plant",), "landscape": ("place", "opinion"),
    "sky": ("opinion", "colour"), "collectible": ("size", "colour", "opinion"),
    "building": ("place", "age"), "toy": ("condition", "colour", "practical"),
    "event": ("event",), "problem": ("size", "practical"), "people": ("people",),
    "pet_other": ("size", "age"), "zoo": ("size", "age"), "appointment": ("doc",),
}
# Order of adjectives when two stand before a noun.
_ADJ_ORDER = {"opinion": 0, "size": 1, "age": 2, "shape": 3, "colour": 4, "material": 5}

# Count nouns that a number or "a few" may go with, for the numbers-and-quantities sentences.
_COUNTABLE_EVERYDAY = ("fruit", "veg", "baked", "kitchen", "furniture", "misc", "tools", "container",
                       "paper", "clothes", "book", "toy", "flower", "bird", "collectible", "pet",
                       "farm", "sport_item", "seed", "device", "insect")


class _Lexicon:
    """All word lists, parsed once."""

    def __init__(self) -> None:
        # nouns
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
        # adjectives and adverbs
        self.adjs = {c: _dedupe(v) for c, v in _sections("adjectives.txt").items()}
        self.advs = {c: _dedupe(v) for c, v in _sections("adverbs.txt").items()}
        # verbs
        self.verbs: dict[str, tuple[str, str, str, str, str]] = {}
        for line in _lines("verbs.txt"):
            forms = verb_forms(line.split())
            self.verbs.setdefault(forms[0], forms)
        # verb frames: class -> [(verb phrase, det or None)]
        self.frames: dict[str, list[tuple[str, str | None]]] = {}
        for line in _lines("frames.txt"):
            cls, _, rest = line.partition(":")
            items = []
            for item in rest.split(","):
                verb, _, det = item.strip().partition("=")
                items.append((verb, det or None))
            self.frames[cls.strip()] = items
        self.frame_classes = sorted(self.frames)
        # people
        people = _sections("people.txt")

        def gendered(entries):
            out = []
            for entry in entries:
                word, _, g = entry.partition("/")
                sg, _, pl = word.partition("|")
                out.append((sg, pl or pluralise(sg), g or "x"))
            return _dedupe(out)

        self.relations = gendered(people["relation"])
        self.kin_plural = people["kin_plural"]
        self.children = gendered(people["child"])
        self.professions = gendered(people["profession"])
        self.people_sg = gendered(people["people_sg"])
        names = _sections("names.txt")
        self.names_f, self.names_m = _dedupe(names["f"]), _dedupe(names["m"])
        self.names = self.names_f + self.names_m
        self.surnames = _dedupe(_lines("surnames.txt"))
        places = _sections("places.txt")
        self.towns = _dedupe(places["town"])
        self.street_stems = _dedupe(places["street_stem"])
        self.street_types = _dedupe(places["street_type"])
        self.activities = _dedupe(_lines("activities.txt"))
        self.idioms = _dedupe(_lines("idioms.txt"))
        self.quotes = _dedupe(_lines("quotes.txt"))
        self.banned_words = frozenset(w.lower() for w in _sections("banned.txt")["words"])
        self.banned_phrases = tuple(p.lower() for p in _sections("banned.txt")["phrases"])
        self.templates = [_compile(t) for t in _dedupe(_lines("templates.txt"))]
        self._check()

    def _check(self) -> None:
        """Every verb a frame, activity or template names must be in the verb table."""
        heads = [v.split()[0] for items in self.frames.values() for v, _ in items]
        heads += [a.split()[0] for a in self.activities]
        heads += [v.split()[0] for v in _INTRANSITIVE + _MOTION_VERBS + _COPULAS + _SHORT_VERBS]
        heads += [v.split()[0] for v in _WEATHER_ACTIVITIES]
        heads += [v.split()[0] for _, vs in _THING_VERBS for v in vs]

        def template_verbs(parts):
            for part in parts:
                if type(part) is tuple and part[0] in ("v", "pv", "vf"):
                    yield part[1][0].split()[0]
                elif type(part) is list:
                    for alt in part:
                        yield from template_verbs(alt)

        extra = _RELATIVE_VPS_3S + _REASONS_PAST + _REASONS_PRES
        for parts in self.templates + [_compile(q) for q in self.quotes] + [_compile(r) for r in extra]:
            heads += list(template_verbs(parts))
        missing = sorted({h for h in heads if h not in self.verbs})
        if missing:
            raise ValueError(f"filler lexicon: verbs missing from verbs.txt: {missing}")
        missing_adj = sorted({a for cs in _NOUN_ADJ.values() for a in cs if a not in self.adjs})
        if missing_adj:
            raise ValueError(f"filler lexicon: adjective classes missing: {missing_adj}")
        unknown = sorted(c for c in self.frames if c not in self.nouns)
        if unknown:
            raise ValueError(f"filler lexicon: frames for unknown noun classes: {unknown}")


_LEX: _Lexicon | None = None


def _lexicon() -> _Lexicon:
    global _LEX
    if _LEX is None:
        _LEX = _Lexicon()
    return _LEX


# --------------------------------------------------------------------------------------------
# Templates: "{slot:arg:arg}" fills, "[a|b|c]" alternatives (slots allowed inside, no nesting).
# --------------------------------------------------------------------------------------------

_TEMPLATE_TOKEN = re.compile(r"(\{[^{}]*\}|\[[^\[\]]*\])")


def _compile(text: str) -> list:
    parts: list = []
    for token in _TEMPLATE_TOKEN.split(text):
        if not token:
            continue
        if token.startswith("{"):
            name, *args = token[1:-1].split(":")
            parts.append((name, tuple(args)))
        elif token.startswith("["):
            parts.append([_compile(alt) for alt in token[1:-1].split("|")])
        else:
            parts.append(token)
    return parts


# --------------------------------------------------------------------------------------------
# People (sentence subjects and others)
# --------------------------------------------------------------------------------------------

# (text, person, subject pronoun, object pronoun, possessive, reflexive); person 0 = I,
# 1 = third singular, 2 = plural / you.
_PRONOUNS = {
    "I": ("I", 0, "I", "me", "my", "myself"),
    "we": ("we", 2, "we", "us", "our", "ourselves"),
    "you": ("you", 2, "you", "you", "your", "yourself"),
    "he": ("he", 1, "he", "him", "his", "himself"),
    "she": ("she", 1, "she", "her", "her", "herself"),
    "they": ("they", 2, "they", "them", "their", "themselves"),
}
_G3 = {"m": _PRONOUNS["he"], "f": _PRONOUNS["she"]}

_BE = {("pres", 0): "am", ("pres", 1): "is", ("pres", 2): "are",
       ("past", 0): "was", ("past", 1): "was", ("past", 2): "were"}
_BE_NEG = {("pres", 0): "am not", ("pres", 1): "isn't", ("pres", 2): "aren't",
           ("past", 0): "wasn't", ("past", 1): "wasn't", ("past", 2): "weren't"}
_MODALS = {"can": "can", "could": "could", "should": "should", "might": "might", "must": "must",
           "would": "would", "fut": "will", "nfut": "won't", "ncan": "can't", "ncould": "couldn't",
           "nshould": "shouldn't", "usedto": "used to", "may": "may", "wouldrather": "would rather"}

# Tense families for choosing a fitting time expression.
_TENSE_FAMILY = {
    "past": "past", "npast": "past", "pastprog": "past", "pluperf": "past", "usedto": "past",
    "pres": "pres", "npres": "pres", "prog": "prog", "fut": "fut", "nfut": "fut", "going": "fut",
    "perf": "perf", "nperf": "perf", "might": "fut", "can": "fut", "should": "fut", "could": "fut",
    "wantto": "fut", "needto": "fut", "haveto": "pres", "must": "fut", "would": "fut",
    "ncan": "pres", "ncould": "past", "nshould": "pres", "may": "fut", "hopeto": "fut",
    "planto": "fut",
}

_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_MONTHS = ("January February March April May June July August September October November "
           "December").split()
_SEASONS = ("spring", "summer", "autumn", "winter")
_PARTS_OF_DAY = ("morning", "afternoon", "evening")

# Intransitive verbs that last a while ("read for hours") and ones that happen at a point
# ("arrived at last"), each with adverbials that suit it.
_DURATIVE = (
    "sleep", "laugh", "wait", "work", "cry", "sing", "dance", "cough", "read", "write", "paint",
    "draw", "study", "knit", "garden", "shop", "cook", "bake", "relax", "rest", "chat", "argue",
    "complain", "grumble", "giggle", "snore", "travel", "swim", "cycle", "jog", "hike", "queue",
    "listen", "struggle", "practise", "revise", "train", "walk", "sunbathe", "doze", "nap",
    "fidget", "tidy up", "potter about", "shiver", "whistle", "exercise", "play outside",
    "work late", "sit still", "chat away", "read aloud", "hum along",
)
_DURATIVE_ADVERBIALS = (
    "for hours", "all afternoon", "for a while", "all day", "for ages", "quietly", "non-stop",
    "happily", "in silence", "until midnight", "all evening", "for twenty minutes", "a lot",
    "most of the day", "all morning", "for most of the weekend", "until it got dark",
    "for a bit", "all night", "for the whole journey", "peacefully", "without a break",
)
_PUNCTUAL = (
    "arrive", "wake up", "get up", "sit down", "stand up", "calm down", "cheer up", "settle down",
    "turn up", "show up", "give up", "eat out", "move in", "move out", "go out", "stay in",
    "dress up", "warm up", "cool down", "slow down", "hurry up", "lie down", "fall over",
    "trip over", "wash up", "clear up", "nod off", "run late", "frown", "grin", "shrug", "blink",
    "sigh", "nod", "wave", "yawn", "sneeze", "smile", "panic", "apologise", "oversleep",
    "stumble", "wander off", "look around", "leave", "set off", "drop by", "call round",
    "check in", "sign up", "join in", "fall asleep", "change", "get changed", "turn round",
)
_PUNCTUAL_ADVERBIALS = (
    "at last", "again", "in the end", "as usual", "early", "late", "straight away", "suddenly",
    "eventually", "at once", "right away", "just in time", "for once", "without a word",
    "at the last minute", "halfway through", "before anyone else", "without thinking",
    "first thing", "on the way", "twice", "for the first time",
)
_INTRANSITIVE = _DURATIVE + _PUNCTUAL
_MOTION_VERBS = ("go", "walk", "drive", "cycle", "run", "hurry", "head", "wander", "stroll", "rush",
                 "jog", "travel", "come back", "get back", "set off", "go back", "pop out",
                 "move", "race", "return", "go straight", "cycle back", "walk back")
_COPULAS = ("be", "feel", "look", "seem", "get", "stay")
_GET_ADJECTIVES = (
    "tired", "hungry", "bored", "cold", "wet", "angry", "upset", "worried", "nervous", "excited",
    "lost", "stuck", "lucky", "annoyed", "impatient", "sleepy", "thirsty", "better", "worse",
    "ready", "dressed", "married", "soaked", "sunburnt", "distracted", "carried away", "fed up",
    "grumpy", "restless", "muddy", "cross", "confused", "bitten",
)
_STAY_ADJECTIVES = ("calm", "awake", "quiet", "positive", "warm", "dry", "cheerful", "patient",
                    "busy", "inside", "late", "fit", "friends", "in touch", "in bed", "at home")

# Where things of a class are, or where one deals with them: place adjuncts and "There are ...".
_FOOD_PLACES = ("at the market", "at the supermarket", "at the farm shop", "at the corner shop",
                "for lunch", "for dinner", "for the picnic", "for the party", "for breakfast",
                "in the kitchen", "for the kids", "for the weekend", "at the bakery")
_HOME_PLACES = ("upstairs", "downstairs", "at home", "in the flat", "at my mum's", "at the weekend",
                "before the guests arrived", "in the new house", "at my gran's", "in the spare room")
_HANDY_PLACES = ("at home", "at work", "on the bus", "in the car", "at the office", "in the hall",
                 "by the front door", "in my bag", "on the train", "at my sister's")
_OUTDOOR_PLACES = ("in the garden", "in the park", "by the river", "in the woods", "on our walk",
                   "by the pond", "in the hedge", "at the nature reserve", "on the common",
                   "along the lane", "in the field behind the house")
_GARDEN_PLACES = ("in the garden", "on the allotment", "in the back garden", "by the shed",
                  "at the garden centre", "in the front garden", "along the fence", "in the greenhouse")
_CLASS_PLACES = {
    **{c: _FOOD_PLACES for c in ("fruit", "veg", "meat", "dairy", "baked", "snack", "sweet",
                                 "pantry", "drink", "dish")},
    "meal": ("in the garden", "at the kitchen table", "with friends", "with the family",
             "at my mum's", "on the balcony", "in front of the television", "at the pub"),
    "kitchen": ("in the kitchen", "after dinner", "at my sister's", "before the guests arrived",
                "in the sink", "at the cafe"),
    **{c: _HOME_PLACES for c in ("furniture", "room", "structure", "opening", "cleaning",
                                 "bathroom")},
    **{c: _HANDY_PLACES for c in ("misc", "tools", "container", "paper")},
    "clothes": ("for the wedding", "for work", "for school", "in the sale", "at the charity shop",
                "for the party", "before the interview", "for the holiday", "in the rain"),
    "body": ("at the gym", "in the garden", "at work", "playing football", "on the stairs",
             "on the ice", "in the kitchen"),
    **{c: ("at work", "at the office", "before the meeting", "from home", "for my boss",
           "on the train", "in the staff room") for c in ("work_doc", "work_event", "office")},
    **{c: ("at school", "at the library", "at the kitchen table", "with a friend",
           "in the evenings", "after school") for c in ("schoolwork", "exam", "subject")},
    **{c: ("at the leisure centre", "in the park", "at the club", "at school", "with friends",
           "on the beach", "at the sports centre") for c in ("sport_play", "sport_go",
                                                            "sport_event", "sport_item")},
    **{c: ("with friends", "in the evenings", "on rainy days", "at the community centre",
           "with my grandad", "at the kitchen table") for c in ("hobby", "game", "puzzle")},
    **{c: ("at the church hall", "at school", "with the band", "at the community centre",
           "in the evenings", "in the village hall") for c in ("instrument", "song", "show")},
    **{c: ("on the train", "in bed", "on the sofa", "at the library", "in the evenings",
           "on my phone", "in the bath") for c in ("book", "screen", "media")},
    **{c: ("at work", "at home", "in the office", "on the train", "at the library")
       for c in ("device", "digital")},
    **{c: ("at the bank", "at the post office", "online", "at the end of the month",
           "by mistake") for c in ("payable", "money")},
    **{c: ("at the station", "in town", "outside the house", "on the way to work",
           "at the garage", "in the car park") for c in ("transport_public", "transport_drive",
                                                         "transport_ride")},
    **{c: ("in town", "on the way home", "near the station", "in the rain", "on foot", "by car",
           "on my bike", "at lunchtime") for c in ("shop", "building")},
    "travel_item": ("at the airport", "at the station", "in the hotel", "before the trip",
                    "on the train", "at the ferry port"),
    **{c: ("in the garden", "at the farm", "in the kitchen", "at the rescue centre",
           "on the sofa") for c in ("pet", "pet_other", "farm")},
    **{c: _OUTDOOR_PLACES for c in ("wild", "bird", "insect")},
    "zoo": ("at the zoo", "at the wildlife park", "on a nature programme", "at the aquarium",
            "on the school trip"),
    **{c: _GARDEN_PLACES for c in ("flower", "tree", "herb", "garden_area", "garden_tool", "seed")},
    **{c: ("on our walk", "at the weekend", "on holiday", "with the kids", "after lunch",
           "on the way home") for c in ("landscape", "sky", "collectible")},
    "toy": ("in the playroom", "at the park", "in the garden", "at nursery", "at the toy shop",
            "under the bed"),
    **{c: ("at the surgery", "at the health centre", "at the hospital", "last winter")
       for c in ("illness", "medicine", "appointment")},
}
_CLASS_SPOTS = {
    **{c: ("in the fridge", "in the cupboard", "in the fruit bowl", "on the table", "in the basket",
           "on the counter", "in the shopping bag") for c in ("fruit", "veg", "baked", "dairy",
                                                             "snack", "sweet")},
    **{c: ("on the table", "in the drawer", "by the door", "under the sofa", "in the car",
           "on the stairs", "in the hall") for c in ("misc", "paper", "device")},
    "flower": ("in the vase", "in the garden", "by the gate", "on the windowsill", "in the border"),
    "toy": ("in the toy box", "under the bed", "on the floor", "in the garden", "on the stairs"),
    "book": ("on the shelf", "by the bed", "on the table", "in the box", "on the floor"),
    "clothes": ("in the wardrobe", "on the floor", "in the washing basket", "on the bed",
                "on the line", "in the suitcase"),
    "tools": ("in the shed", "in the toolbox", "in the garage", "on the workbench"),
    "kitchen": ("in the sink", "in the cupboard", "in the dishwasher", "on the draining board",
                "in the drawer"),
    **{c: ("in the garden", "on the roof", "by the pond", "in the hedge", "on the lawn",
           "in the tree", "by the back door") for c in ("wild", "bird", "insect")},
    "pet": ("in the garden", "in the kitchen", "on the sofa", "under the table", "on the bed"),
    "collectible": ("on the windowsill", "in my pocket", "in the jar", "on the beach", "on the path"),
    "container": ("in the hall", "in the garage", "in the attic", "on the doorstep", "in the loft"),
    "furniture": ("in the attic", "in the garage", "in the living room", "in the spare room",
                  "in the hall"),
    "seed": ("in the greenhouse", "in the shed", "on the windowsill"),
    "sport_item": ("in the garage", "in the boot of the car", "in my bag", "under the stairs"),
    "farm": ("in the field", "in the barn", "in the lane", "in the yard"),
    "tree": ("in the garden", "along the road", "in the park", "by the river"),
}

_DEGREE = ("very", "really", "quite", "rather", "so", "a bit", "slightly", "terribly", "extremely",
           "incredibly", "pretty", "a little")
_WEATHER_ACTIVITIES = (
    "go for a walk", "walk the dog", "go for a run", "have a picnic", "play football in the park",
    "go swimming", "wash the car", "mow the lawn", "hang out the washing", "go to the market",
    "cycle to work", "have a barbecue", "go to the beach", "go fishing", "take the kids to the park",
    "sit in the garden", "go camping", "play tennis", "walk to school", "do some gardening",
)
_THERE_WAS = ("a long queue", "a lot of traffic", "no one", "nobody", "a strange smell",
              "a loud noise", "a power cut", "a problem", "a party", "a market", "a fair", "roadworks",
              "a sale", "a leak", "nothing", "hardly anyone", "a new sign", "a traffic jam",
              "a lovely atmosphere", "a lot of noise", "a man selling flowers", "a burst pipe",
              "a long delay", "a funny smell", "a police car", "a fire engine", "a new cafe")
_THERE_ARE = ("people in the queue", "children in the class", "cars in the car park", "houses on our street",
              "chairs around the table", "books on the shelf", "guests at the party", "runners in the race",
              "boxes in the hall", "steps up to the front door", "trees in the garden",
              "birds on the feeder", "seats left on the bus", "stalls at the market", "eggs in the box",
              "cakes on the table", "bikes outside the school", "ducks on the pond")
_SAME_TIME = {"past": "pastprog", "pres": "prog", "perf": "past", "fut": "going", "going": "fut",
              "prog": "pres", "pastprog": "past", "npast": "past", "npres": "pres"}
_MY_PROFESSIONS = frozenset((
    "doctor", "dentist", "teacher", "hairdresser", "accountant", "solicitor", "plumber", "cleaner",
    "vet", "childminder", "nanny", "barber", "optician", "physiotherapist", "personal trainer",
    "driving instructor", "piano teacher", "music teacher", "coach", "postman", "postwoman",
    "window cleaner", "gardener", "builder", "electrician", "mechanic", "headteacher", "landlord",
    "swimming coach", "tutor", "lecturer", "professor", "milkman",
))
_THE_KIN = ("kids", "children", "twins", "neighbours")
_PLACE_CLASSES = frozenset(("shop", "building", "landscape", "sky", "zoo", "wild", "bird", "insect"))
_SINGULAR_CLASSES = frozenset((
    "shop", "building", "room", "landscape", "garden_area", "structure", "opening", "sky", "meal",
    "work_event", "event", "exam", "sport_event", "show", "screen", "digital", "payable", "illness",
    "appointment", "transport_public", "transport_drive", "transport_ride", "instrument", "puzzle",
    "device", "schoolwork", "work_doc", "problem", "furniture", "office",
))
_IMPERATIVE_OPENERS = ("", "", "Please ", "Remember to ", "Don't forget to ", "Try to ",
                       "Make sure you ", "Let's ", "Could you please ", "Just ", "Never ",
                       "Always ", "Don't ", "Please don't ", "You should ", "We need to ", "Go and ",
                       "Why not ", "Try not to ", "Be sure to ", "Could you ")
_HOUSE_RULES = (
    "Wash your hands before dinner.", "Put your shoes by the door.",
    "Switch the lights off when you leave.", "Close the gate behind you.",
    "Keep the noise down, please.", "Don't slam the door.", "Mind the wet floor.",
    "Wipe your feet on the mat.", "Take an umbrella with you.", "Call me when you get there.",
    "Text me when you get home.", "Don't stay up too late.", "Put your coat on, it's cold.",
    "Eat your vegetables.", "Have a lovely time.", "Drive carefully.", "Sit down and relax.",
    "Help yourself to biscuits.", "Make yourself at home.", "Leave the key under the mat.",
    "Feed the cat before you go.", "Don't forget your lunch.",
    "Tidy your room before your grandma arrives.", "Turn the music down a bit.",
    "Put the milk back in the fridge.", "Hang your coat on the hook.",
    "Shut the window, it's freezing.", "Ring the bell and wait.", "Bring a jumper, it gets cold later.",
)
_REASONS_PAST = (
    "it was raining", "it was too cold to go out", "it was such a lovely day", "the shops were shut",
    "we had run out of milk", "the car wouldn't start", "{S.pro} {v:be:past} tired",
    "{S.pro} {v:feel:past} {adj:feeling}", "{S.poss} back was killing {S.obj}",
    "there was nothing on television", "it was {S.poss} turn", "the kids were bored",
    "{S.pro} {v:have:past} a day off", "{S.pro} {v:need:past} the exercise",
    "the forecast said rain", "{P} {pv:be:past} coming for dinner",
    "{S.pro} {v:want:past} to surprise {P}", "{S.pro} {v:forget:past} {S.poss} keys",
    "{S.pro} had promised {S.poss} mum", "the boiler had broken down", "the house was a mess",
    "there was a power cut", "the fridge was empty", "it was {S.poss} birthday",
    "{S.pro} {v:be:past} running late", "{S.pro} {v:miss:past} the bus", "the dog needed a walk",
    "the garden was overgrown", "the roads were icy", "the kitchen tap was leaking",
    "{S.pro} {v:have:past} nothing else to do", "{S.pro} {v:be:past} bored",
    "{S.pro} couldn't sleep", "{S.pro} couldn't find {S.poss} {n:misc}",
    "the neighbours were having a party", "{S.pro} {v:be:past} expecting visitors",
    "there was a sale on", "the weather had turned", "everyone else was busy",
    "{S.pro} {v:be:past} in a good mood", "it was the last day of the holidays",
    "{S.poss} {rel} was staying for the weekend", "the traffic was terrible",
    "the trains weren't running", "{S.pro} {v:have:past} a cold", "it was too hot to cook",
    "there was a leak in the {n:room}", "the {n:device} had stopped working",
    "the {n:shop} had closed early", "{P} {pv:ask:past} {S.obj} to", "it was getting dark",
    "{S.pro} {v:be:past} starving", "it was half price", "the old one was falling apart",
    "{S.pro} {v:have:past} an early start the next day", "nobody else wanted to",
    "the baby was asleep", "the kettle was broken", "the lift was out of order",
)
_REASONS_PRES = (
    "it's raining", "it's too cold", "{S.pro} {v:be:pres} tired", "{S.pro} {v:have:pres} a day off",
    "the shops are shut", "we're out of milk", "{S.poss} back hurts", "{S.pro} {v:like:pres} to be early",
    "the house is a mess", "the kids are on holiday", "{S.pro} {v:work:pres} from home on Fridays",
    "the buses are so unreliable", "it's cheaper", "it's quicker", "the forecast is good",
    "{S.pro} {v:need:pres} the exercise", "the dog needs a walk", "{P} {pv:be:pres} coming round later",
    "it's {S.poss} turn", "the garden needs it", "{S.pro} {v:enjoy:pres} it", "it's nearly the weekend",
    "the car is at the garage", "{S.pro} {v:hate:pres} being late", "it helps {S.obj} relax",
    "the {n:device} keeps crashing", "{S.pro} {v:have:pres} no choice", "it's good for {S.obj}",
    "the kids love it", "there's nothing else to do", "it's too hot to cook", "{S.pro} {v:be:pres} busy",
    "the {n:shop} closes early on {weekday}s", "{S.pro} {v:get:pres} bored otherwise",
    "it's on the way", "the {n:room} is freezing", "{S.poss} {rel} is staying with {S.obj}",
)
_STATIVE = frozenset(("need", "like", "love", "hate", "know", "own", "prefer", "want", "belong", "hear", "see",
                      "owe", "recognise", "mind", "remember", "forget", "seem", "understand"))
_RELATIVE_HEADS = (("man", "m"), ("woman", "f"), ("lady", "f"), ("old man", "m"),
                   ("old lady", "f"), ("young woman", "f"), ("young man", "m"), ("boy", "m"),
                   ("girl", "f"), ("neighbour", "x"), ("friend", "x"), ("chap", "m"))
_OUR_RELATIONS = frozenset((
    "neighbour", "next-door neighbour", "landlord", "landlady", "cousin", "aunt", "uncle", "grandma",
    "grandpa", "granny", "grandad", "nan", "great-aunt", "great-uncle", "flatmate", "housemate",
    "boss", "manager", "friend", "old friend", "mum", "dad", "mother", "father", "grandmother",
    "grandfather", "son", "daughter", "eldest son", "youngest daughter", "niece", "nephew",
    "little brother", "little sister", "big brother", "big sister", "godmother", "godfather",
))
_IMPERATIVE_CLASSES = (
    "fruit", "veg", "meat", "dairy", "baked", "dish", "snack", "sweet", "pantry", "drink",
    "kitchen", "furniture", "room", "opening", "structure", "cleaning", "bathroom", "misc",
    "tools", "container", "paper", "clothes", "medicine", "work_doc", "office", "schoolwork",
    "book", "device", "media", "payable", "travel_item", "pet", "flower", "herb", "garden_area",
    "garden_tool", "seed", "toy", "transport_drive", "transport_ride", "instrument",
)
_BUYABLE = ("fruit", "veg", "baked", "kitchen", "misc", "tools", "container", "paper", "clothes",
            "book", "toy", "flower", "seed", "sport_item")
_EVALUATIVE = frozenset(("opinion", "food", "fruit", "veg", "baked", "place", "people", "media", "event", "animal", "plant",
                         "music", "clothes", "drink", "weather"))
_FULL_OF = (
    ("flower", ("The garden", "The meadow", "The border", "The vase", "The flower stall",
                "The churchyard", "The park")),
    ("bird", ("The trees", "The bird table", "The garden", "The sky", "The hedge", "The marsh")),
    ("farm", ("The field", "The farmyard", "The barn", "The lane")),
    ("insect", ("The garden", "The meadow", "The kitchen", "The air", "The lavender")),
    ("toy", ("The toy box", "The playroom", "The back of the car", "The cupboard under the stairs")),
    ("fruit", ("The basket", "The fruit bowl", "The market stall", "The shop window", "The orchard")),
    ("veg", ("The basket", "The vegetable patch", "The market stall", "The fridge", "The allotment")),
    ("collectible", ("The jar", "The bucket", "Her pockets", "His pockets", "The windowsill")),
    ("wild", ("The woods", "The nature reserve", "The hedgerow", "The garden at night")),
    ("baked", ("The bakery window", "The table", "The cake stall", "The tin")),
    ("book", ("The shelf", "The box", "The charity shop", "The spare room", "The library van")),
    ("clothes", ("The wardrobe", "The suitcase", "The washing basket", "The drawer", "The floor")),
    ("tools", ("The shed", "The garage", "The toolbox", "The van")),
)
_LANDMARKS = ("library", "museum", "church", "hospital", "town hall", "cinema", "station", "school",
              "post office", "fire station", "park", "bakery", "supermarket", "pub", "garden centre",
              "leisure centre", "police station", "petrol station", "village hall", "bus station")
_NEGATIVE = frozenset(("npres", "npast", "nfut", "nperf", "ncan", "ncould", "nshould"))
_WHOSE = (
    ("dog", ("barks all night", "got out again", "was lost for a week", "won a prize at the show",
             "dug up our garden", "was on the local news")),
    ("cat", ("keeps coming into our kitchen", "went missing", "sleeps on our shed roof",
             "had kittens")),
    ("car", ("was stolen", "was blocking the road", "broke down on the ring road",
             "is always parked outside our house")),
    ("van", ("was parked across our drive", "broke down outside the school")),
    ("bike", ("was stolen from the station", "had a flat tyre")),
    ("garden", ("won a prize", "is full of roses", "backs onto ours", "is always so tidy")),
    ("house", ("was on the market for a year", "has a blue door", "flooded last winter")),
    ("son", ("plays in the band", "is in my class", "delivers our paper")),
    ("daughter", ("is getting married", "works at the hospital", "babysits for us")),
    ("kitchen", ("was flooded", "is being redone")),
)
_SHORT_VERBS = ("sleep", "laugh", "smile", "wait", "cry", "sigh", "nod", "shrug", "yawn", "shiver",
                "panic", "agree", "refuse", "listen", "win", "lose", "give up", "cheat", "oversleep",
                "apologise", "complain", "hesitate", "frown", "grin", "relax", "arrive", "leave",
                "stay", "knock", "wave", "blush", "sneeze", "cough", "stumble", "snore", "try again",
                "gasp", "stare", "pay", "forget", "remember")
_THING_VERBS = (
    ("dog", ("bark", "growl", "whine", "sleep", "hide", "escape", "yawn", "howl")),
    ("puppy", ("whine", "sleep", "chew the sofa", "wag its tail", "fall asleep")),
    ("cat", ("purr", "hide", "yawn", "hiss", "escape", "stretch", "disappear")),
    ("kitten", ("purr", "pounce", "fall asleep", "hide")),
    ("baby", ("cry", "giggle", "sleep", "wake up", "sneeze", "smile")),
    ("phone", ("ring", "buzz", "beep", "die", "crash")),
    ("kettle", ("boil", "whistle", "click off")),
    ("doorbell", ("ring", "buzz")),
    ("bus", ("arrive", "stop", "leave", "break down")),
    ("train", ("arrive", "stop", "leave", "break down")),
    ("car", ("break down", "stall", "skid")),
    ("alarm", ("go off", "beep", "ring")),
    ("bird", ("sing", "fly away", "whistle")),
    ("wind", ("drop", "howl", "pick up")),
    ("rain", ("stop", "ease off", "start again")),
    ("crowd", ("cheer", "clap", "groan")),
    ("lights", ("flicker", "go out")),
    ("milk", ("boil over", "go off")),
    ("toast", ("burn",)),
    ("ice", ("melt", "crack")),
)
_RELATIVE_VPS_3S = (
    "lives next door", "lives across the road", "lives at the end of our street",
    "lives in the flat upstairs", "lives in the flat below us", "sits next to me at work",
    "delivers our post", "delivers our newspaper", "drives the school bus", "cuts my hair",
    "fixed our boiler", "sold us our car", "cleans the windows on our street",
    "walks past our house every morning", "always waves at us", "runs the {n:shop} on {street}",
    "works at the {n:building}", "works at the {n:shop}", "owns the {n:shop} in {town}",
    "teaches {n:subject} at the [primary school|secondary school|college|university]", "looks after our {n:pet}",
    "lent us a {n:tools}", "moved in last {season}", "helped us move house",
    "started at my office last week", "plays {n:sport_play} every {weekday}",
    "coaches the {n:sport_play} team", "sings in the choir", "grows {ns:veg} on the allotment",
    "keeps {ns:farm}", "makes the best {n:baked} in town", "always has a story to tell",
    "never stops talking", "knows everyone in {town}", "lost {g.poss} {n:misc} at the {n:shop}",
    "brought {g.poss} {n:pet} to the party", "fell off {g.poss} {n:transport_ride} last week",
)

_DESTINATIONS = (
    "home", "to work", "to school", "into town", "to the shops", "to bed", "to church",
    "to the city centre", "downstairs", "upstairs", "outside", "to the park", "to the beach",
    "to the seaside", "to the countryside", "round the corner", "next door", "to the village",
)
_PLACES = (
    "at home", "at work", "at school", "in town", "in the garden", "in the kitchen", "upstairs",
    "downstairs", "in bed", "on the bus", "on the train", "in the car", "at the weekend",
    "in the city centre", "next door", "across the road", "down the road", "round the corner",
    "outside", "indoors", "in the back garden", "on the sofa", "in the queue", "at the table",
    "in the park", "on the beach", "in the woods", "by the river", "by the sea", "at the station",
    "on the way home", "on the way to work", "in the village", "at the end of the street",
    "in the countryside", "in the hall", "at the top of the stairs", "at the bus stop",
)


_QUESTION_OPENERS = (
    "Do you want to", "Would you like to", "Shall we", "Why don't we", "Can you help me",
    "Are you going to", "Did you remember to", "Did you manage to", "Have you had time to",
    "Could you", "Do you fancy helping me",
)
_LOST_QUESTIONS = ("Have you seen", "Where did you put", "Has anyone seen", "Do you know where I left",
                   "Did you find", "Who moved", "Who took")
_HOW_WAS = ("weekend", "holiday", "day", "trip", "interview", "meeting", "birthday", "exam", "journey",
            "first day", "visit", "party", "week", "appointment", "match", "concert", "flight",
            "lesson", "date", "evening", "walk", "dinner", "swim", "shift", "game")
_HOW_MANY = ("do we need", "did you buy", "are left", "are there", "should I bring", "have you got",
             "did they eat", "can you carry")
_EXCLAIM_OPENERS = ("Oh no", "Oh dear", "Oops", "Great", "Brilliant", "Typical", "Honestly", "Well",
                    "Look", "Guess what", "Amazing", "Finally", "Thank goodness")
_GREETINGS = ("Happy birthday", "Well done", "Good luck", "Congratulations", "Good morning",
              "Good night", "Welcome home", "Hurry up", "Come on", "Thank you", "Watch out",
              "Cheer up", "Sleep well", "Safe travels", "Get well soon", "Merry Christmas",
              "Happy anniversary", "Hello", "Goodbye", "See you soon", "Take care")
_LOOK_AT = ("Look at all those", "Listen to those", "Just look at those", "I love those",
            "Look at those lovely", "Be careful of the")
_EXCLAMATIONS = (
    "Watch out!", "Hurry up!", "Be careful!", "Thank goodness!", "What a relief!",
    "What a mess!", "What a day!", "How lovely!", "How kind of you!", "Not again!",
    "Surprise!", "Help!", "Stop!", "Wait for me!", "Come here!", "Look out!",
    "I can't believe it!", "That's amazing!", "That's brilliant!", "Well done!",
    "Good job!", "Never mind!", "Oh, how exciting!", "What a shame!", "Lucky you!",
    "Of course!", "No way!", "Go on!", "Shh!", "Ouch!", "Yuck!", "Yum!", "Phew!",
    "Oh well!", "Here we go again!", "Dinner's ready!", "Time for bed!",
    "Rise and shine!", "Mind your head!", "Mind the step!", "Don't touch that!",
    "It's freezing!", "It's boiling!", "It's snowing!", "It's raining again!",
    "We did it!", "We won!", "She's home!", "He's here!", "The kettle's boiling!",
    "The bath's overflowing!", "The milk's boiling over!", "The dog's got out!",
    "Somebody answer the door!", "Shut the door, it's cold!", "Turn it down!",
)


class FillerGenerator:
    """Seeded generator of everyday English sentences."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lex = _lexicon()
        lex = self.lex
        # noun classes for the object frames, weighted towards the larger classes
        self._frame_classes = lex.frame_classes
        self._frame_weights = [len(lex.nouns[c]) ** 0.6 for c in self._frame_classes]
        self._cum_frame = _cumulative(self._frame_weights)
        self._compiled_activities = [_compile(a) for a in lex.activities]
        self._reasons_past = [_compile(x) for x in _REASONS_PAST]
        self._reasons_pres = [_compile(x) for x in _REASONS_PRES]
        builders = [
            (self._simple, 10), (self._narration, 8), (self._compound, 10), (self._complex, 12),
            (self._question, 6), (self._exclamation, 3), (self._quoted, 5), (self._list_sentence, 5),
            (self._relative, 6), (self._numbers, 4), (self._imperative, 4), (self._short, 3),
            (self._long, 6), (self._template, 24), (self._idiom, 4), (self._description, 4),
            (self._existential, 3), (self._weather, 3),
        ]
        self._builders = [b for b, _ in builders]
        self._cum_builders = _cumulative([w for _, w in builders])
        self._ctx: dict = {}
        self._last_cls: str | None = None
        self._last_adv: str | None = None
        self._last_kind = "obj"
        self._last_np_plural = False
        self._no_adv = False

    # ---------------------------------------------------------------- public interface
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

    # ---------------------------------------------------------------- checks
    def _clean(self, text: str) -> bool:
        low = text.lower()
        if any(p in low for p in self.lex.banned_phrases):
            return False
        return self.lex.banned_words.isdisjoint(_WORD.findall(low))

    # ---------------------------------------------------------------- small pickers
    def _pick(self, seq):
        return seq[int(self.rng.random() * len(seq))]

    def _chance(self, p: float) -> bool:
        return self.rng.random() < p

    def _name(self, gender: str | None = None) -> str:
        lex = self.lex
        if gender == "f":
            return self._pick(lex.names_f)
        if gender == "m":
            return self._pick(lex.names_m)
        return self._pick(lex.names)

    def _named(self) -> tuple[str, str]:
        """A first name and its gender."""
        if self._chance(0.5):
            return self._pick(self.lex.names_f), "f"
        return self._pick(self.lex.names_m), "m"

    def _gender(self, g: str) -> str:
        if g == "x":
            return "f" if self._chance(0.5) else "m"
        return g

    def _town(self) -> str:
        return self._pick(self.lex.towns)

    def _street(self) -> str:
        r = self.rng.random()
        if r < 0.08:
            return "the High Street"
        stem, kind = self._pick(self.lex.street_stems), self._pick(self.lex.street_types)
        if kind == "Square":
            return stem + " Square"
        return f"{stem} {kind}"

    def _num(self, lo: int = 2, hi: int = 12) -> str:
        return number_words(self.rng.randint(lo, hi))

    def _year(self) -> str:
        return str(self.rng.randint(1962, 2023))

    def _clock(self, lo: int = 1, hi: int = 12) -> str:
        rng = self.rng
        h = rng.randint(lo, hi)
        r = rng.random()
        if r < 0.3:
            return number_words(h) + " o'clock"
        if r < 0.45:
            return "half past " + number_words(h)
        if r < 0.55:
            return "quarter past " + number_words(h)
        if r < 0.65:
            return "quarter to " + number_words(h)
        if r < 0.72:
            return self._pick(("five", "ten", "twenty", "twenty-five")) + " past " + number_words(h)
        if r < 0.78:
            return self._pick(("noon", "midnight", "lunchtime", "teatime", "dawn"))
        if r < 0.9:
            return f"{h}:{self._pick(('00', '05', '10', '15', '20', '30', '40', '45', '50'))}"
        return f"{h} {self._pick(('am', 'pm'))}"

    def _duration(self) -> str:
        rng = self.rng
        unit = self._pick(("minute", "hour", "day", "week", "month", "year"))
        r = rng.random()
        if r < 0.2:
            return "an hour" if unit == "hour" else "a " + unit
        if r < 0.35:
            return "a couple of " + unit + "s"
        if r < 0.5:
            return "a few " + unit + "s"
        if r < 0.58:
            return "half an hour" if unit in ("minute", "hour") else "half a " + unit
        if r < 0.65:
            return "ages"
        n = rng.randint(2, 12) if unit != "minute" else rng.choice((5, 10, 15, 20, 25, 30, 40, 45))
        if self._chance(0.15):
            return f"{n} {unit}s"
        return f"{number_words(n)} {unit}s"

    def _time(self, family: str) -> str:
        """A time expression that suits a tense family (past, pres, prog, fut, perf)."""
        rng = self.rng
        r = rng.random()
        if family == "past":
            if r < 0.12:
                return self._pick(("yesterday", "last night", "the other day", "this morning",
                                   "earlier today", "at the weekend", "over the weekend",
                                   "years ago", "a while ago", "recently", "last time"))
            if r < 0.25:
                return "last " + self._pick(_WEEKDAYS + list(_SEASONS) + ["week", "month", "year",
                                                                          "weekend", "night"])
            if r < 0.35:
                return "on " + self._pick(_WEEKDAYS) + self._pick(("", "", " morning", " afternoon",
                                                                   " evening", " night"))
            if r < 0.45:
                return f"{self._num(2, 10)} {self._pick(('days', 'weeks', 'months', 'years'))} ago"
            if r < 0.55:
                return "in " + (self._pick(_MONTHS) if self._chance(0.6) else self._year())
            if r < 0.65:
                return "at " + self._clock()
            if r < 0.75:
                return self._pick(("after lunch", "before dinner", "after work", "after school",
                                   "before breakfast", "after the party", "during the holidays",
                                   "over the summer", "at lunchtime", "in the afternoon",
                                   "in the middle of the night", "first thing this morning"))
            if r < 0.82:
                return "yesterday " + self._pick(_PARTS_OF_DAY)
            if r < 0.9:
                return "when I was " + self._pick(("little", "younger", "a student", "at school",
                                                   "a teenager", "small", "ten", "in my twenties"))
            return "on the " + self._pick(_ORDINALS) + " of " + self._pick(_MONTHS)
        if family == "pres":
            if r < 0.2:
                return "every " + self._pick(("day", "morning", "evening", "night", "week",
                                              "weekend", "summer", "winter", "year", "month",
                                              "other day") + tuple(_WEEKDAYS))
            if r < 0.3:
                return "on " + self._pick(_WEEKDAYS) + "s"
            if r < 0.45:
                return self._pick(("at weekends", "in the evenings", "in the mornings",
                                   "most mornings", "most days", "before work", "after work",
                                   "after school", "on Sunday afternoons", "during the week",
                                   "in the summer", "in winter", "at night", "on holiday",
                                   "these days", "nowadays", "whenever it rains",
                                   "when the weather is nice"))
            if r < 0.6:
                return self._pick(("once", "twice", "three times", "four times")) + " a " + \
                    self._pick(("day", "week", "month", "year"))
            if r < 0.7:
                return "at " + self._clock() + " every " + self._pick(("morning", "day", "evening",
                                                                      "night"))
            return self._pick(("every Saturday morning", "every Friday night", "in the holidays",
                               "first thing in the morning", "last thing at night",
                               "every now and then", "from time to time", "all year round"))
        if family == "prog":
            return self._pick(("right now", "at the moment", "today", "this week", "this morning",
                               "this afternoon", "this evening", "these days", "again",
                               "all day", "tonight", "this month", "for a change"))
        if family == "fut":
            if r < 0.2:
                return self._pick(("tomorrow", "tonight", "later", "soon", "later today",
                                   "this weekend", "tomorrow morning", "tomorrow night",
                                   "in the morning", "one day", "next time", "after lunch",
                                   "after work", "before the end of the week"))
            if r < 0.4:
                return "next " + self._pick(_WEEKDAYS + list(_SEASONS) + ["week", "month", "year",
                                                                          "weekend", "time"])
            if r < 0.55:
                return "on " + self._pick(_WEEKDAYS)
            if r < 0.68:
                return f"in {self._pick(('a few', 'two', 'three', 'a couple of'))} " + \
                    self._pick(("days", "weeks", "months", "hours"))
            if r < 0.8:
                return "at " + self._clock()
            if r < 0.9:
                return "in " + self._pick(_MONTHS)
            return "this " + self._pick(_PARTS_OF_DAY + _SEASONS + ("week", "weekend", "year"))
        # perf
        if r < 0.4:
            return self._pick(("recently", "lately", "this year", "this week", "already", "all day",
                               "this month", "so far", "since then", "all week", "all morning",
                               "for ages", "twice this week"))
        if r < 0.7:
            return "since " + self._pick(_MONTHS + _WEEKDAYS + ["the summer", "Christmas", "lunch",
                                                               "last year", "the spring"])
        return "for " + self._duration()

    # ---------------------------------------------------------------- nouns and noun phrases
    def _noun(self, cls: str):
        return self._pick(self.lex.nouns[cls])

    def _adj_for(self, cls: str) -> str:
        classes = _NOUN_ADJ.get(cls)
        if not classes:
            return ""
        aclass = self._pick(classes)
        return self._pick(self.lex.adjs[aclass])

    def _adjectives(self, cls: str, p: float = 0.28) -> str:
        """'' or 'adj ' (or two adjectives) for a noun of the class."""
        rng = self.rng
        if rng.random() >= p:
            return ""
        classes = _NOUN_ADJ.get(cls)
        if not classes:
            return ""
        c1 = self._pick(classes)
        a1 = self._pick(self.lex.adjs[c1])
        if rng.random() < 0.12 and len(classes) > 1:
            c2 = self._pick(classes)
            if c2 != c1 and c1 in _ADJ_ORDER and c2 in _ADJ_ORDER:
                a2 = self._pick(self.lex.adjs[c2])
                if a2 != a1:
                    if _ADJ_ORDER[c1] > _ADJ_ORDER[c2]:
                        a1, a2 = a2, a1
                    return f"{a1} {a2} "
        return a1 + " "

    def _np(self, cls: str, det: str | None = None, poss: str = "my", adj_p: float = 0.28) -> str:
        """A noun phrase of the class with a determiner ('a', 'the', 'poss', 'some', 'bare',
        'num', 'this', 'q', or None for a random one). Articles are fixed later (a -> an)."""
        rng = self.rng
        sg, pl, kind = self._noun(cls)
        if det is None and cls in _PLACE_CLASSES:
            det = "the" if rng.random() < 0.6 else "a"
        elif det is None and cls in _SINGULAR_CLASSES:
            r = rng.random()
            det = "the" if r < 0.5 else "a" if r < 0.78 else "poss" if r < 0.92 else "this"
        elif det is None:
            r = rng.random()
            det = ("a" if r < 0.3 else "the" if r < 0.55 else "poss" if r < 0.68 else
                   "some" if r < 0.75 else "num" if r < 0.81 else "bare" if r < 0.86 else
                   "this" if r < 0.9 else "q")
        adj = self._adjectives(cls, adj_p)
        plural = kind == PLURAL_ONLY or (kind == COUNT and rng.random() < (
            0.06 if cls in _SINGULAR_CLASSES else 0.25))
        self._last_np_plural = kind == PLURAL_ONLY
        word = pl if plural else sg
        if det == "a":
            if kind == COUNT:
                return f"a {adj}{sg}"
            if kind == PLURAL_ONLY and cls == "clothes":
                self._last_np_plural = False
                return f"a pair of {adj}{pl}"
            return f"some {adj}{word}"
        if det == "the":
            return f"the {adj}{word}"
        if det == "poss":
            return f"{poss} {adj}{word}"
        if det == "some":
            return f"some {adj}{pl if kind != MASS else sg}"
        if det == "bare":
            return f"{adj}{pl if kind != MASS else sg}"
        if det == "num":
            if kind == COUNT:
                n = rng.randint(2, 12)
                num = str(n) if rng.random() < 0.2 else number_words(n)
                return f"{num} {adj}{pl}"
            if kind == PLURAL_ONLY and cls == "clothes":
                return f"{self._num(2, 5)} pairs of {adj}{pl}"
            return f"some {adj}{word}"
        if det == "this":
            if kind == MASS:
                return f"{self._pick(('this', 'that'))} {adj}{sg}"
            if plural:
                return f"{self._pick(('these', 'those'))} {adj}{pl}"
            return f"{self._pick(('this', 'that'))} {adj}{sg}"
        # quantities
        if kind == MASS:
            return f"{self._pick(('a lot of', 'a bit of', 'plenty of', 'loads of', 'a little'))} {adj}{sg}"
        return f"{self._pick(('a few', 'a couple of', 'lots of', 'several', 'loads of', 'plenty of'))} {adj}{pl}"

    def _noun_word(self, cls: str, plural: bool = False) -> str:
        sg, pl, kind = self._noun(cls)
        return pl if plural else sg

    def _count_word(self, cls: str, plural: bool = False) -> str:
        nouns = self.lex.count_nouns.get(cls) or self.lex.nouns[cls]
        sg, pl, _ = self._pick(nouns)
        return pl if plural else sg

    def _list(self, cls: str, det: str | None = None, n: int | None = None) -> str:
        n = n or self.rng.randint(3, 5)
        seen, items = set(), []
        for _ in range(n * 3):
            item = self._np(cls, det or self._pick(("a", "a", "some", "num", "bare", "a")), adj_p=0.1)
            key = item.split()[-1]
            if key not in seen:
                seen.add(key)
                items.append(item)
            if len(items) == n:
                break
        return _join_list(items)

    # ---------------------------------------------------------------- people
    def _subject(self, kind: str = "any") -> tuple:
        """(text, person, pro, obj, poss, refl) for a sentence subject of the given kind:
        any, i, we, 1 (I or we), 3 (third person singular), pl (plural), kid, person (3 or pl)."""
        rng = self.rng
        if kind == "any":
            r = rng.random()
            kind = ("i" if r < 0.24 else "we" if r < 0.33 else "you" if r < 0.36 else
                    "pro3" if r < 0.47 else "they" if r < 0.5 else "pl" if r < 0.62 else "3")
        elif kind == "1":
            kind = "i" if rng.random() < 0.7 else "we"
        elif kind == "person":
            kind = "3" if rng.random() < 0.75 else "pl"
        if kind == "i":
            return _PRONOUNS["I"]
        if kind == "we":
            if rng.random() < 0.15:
                return (self._pick(("my wife and I", "my husband and I", "my partner and I",
                                    "my friends and I", "my sister and I", "my brother and I",
                                    "my parents and I", "the kids and I", "my flatmate and I",
                                    f"{self._name()} and I")),) + _PRONOUNS["we"][1:]
            return _PRONOUNS["we"]
        if kind == "you":
            return _PRONOUNS["you"]
        if kind == "they":
            return _PRONOUNS["they"]
        if kind == "pro3":
            return _PRONOUNS["he" if rng.random() < 0.5 else "she"]
        if kind == "pl":
            return (self._plural_people(),) + _PRONOUNS["they"][1:]
        if kind == "kid":
            r = rng.random()
            if r < 0.25:
                return (self._pick(("the kids", "the children", "my kids", "our children",
                                    "the twins", "the boys", "the girls")),) + _PRONOUNS["they"][1:]
            sg, _, g = self._pick(self.lex.children)
            g = self._gender(g)
            if r < 0.45:
                name = self._name(g)
                return (name,) + _G3[g][1:]
            return (f"{self._pick(('my', 'our', 'my', 'our', 'your'))} {sg}",) + _G3[g][1:]
        # third person singular
        text, g = self._person_np()
        return (text,) + _G3[g][1:]

    def _person_np(self, relative: bool = False) -> tuple[str, str]:
        """A third-person-singular person and its gender ('m' or 'f')."""
        rng, lex = self.rng, self.lex
        r = rng.random()
        if relative or r < 0.08:
            sg, g = self._pick(_RELATIVE_HEADS)
            g = self._gender(g)
            return f"the {sg} who {self._relative_vp(g)}", g
        if r < 0.4:
            sg, _, g = self._pick(lex.relations)
            g = self._gender(g)
            if sg in _OUR_RELATIONS:
                det = self._pick(("my", "my", "my", "our", "your"))
            else:
                det = self._pick(("my", "my", "your"))
            return f"{det} {sg}", g
        if r < 0.58:
            name, g = self._named()
            return name, g
        if r < 0.68:
            name, g = self._named()
            sg, _, g2 = self._pick(lex.relations)
            if g2 != "x" and g2 != g:
                return f"my {sg}", g2
            return f"my {sg} {name}", g
        if r < 0.74:
            name = self._name()
            sg, _, g = self._pick(lex.relations)
            return f"{name}'s {sg}", self._gender(g)
        if r < 0.86:
            sg, _, g = self._pick(lex.professions)
            det = self._pick(("the", "the", "our", "my")) if sg in _MY_PROFESSIONS else "the"
            return f"{det} {sg}", self._gender(g)
        if r < 0.94:
            title, g = self._pick((("Mr", "m"), ("Mrs", "f"), ("Ms", "f"), ("Dr", "x"), ("Miss", "f")))
            return f"{title} {self._pick(lex.surnames)}", self._gender(g)
        sg, _, g = self._pick(lex.people_sg)
        return f"the {sg} {self._pick(('next door', 'across the road', 'at the end of the street', 'upstairs', 'from the bakery', 'in the flat below', 'at the corner shop', 'with the dog'))}", self._gender(g)

    def _plural_people(self) -> str:
        rng, lex = self.rng, self.lex
        r = rng.random()
        if r < 0.4:
            kin = self._pick(lex.kin_plural)
            det = self._pick(("the", "my", "our")) if kin in _THE_KIN else self._pick(("my", "my", "our"))
            return f"{det} {kin}"
        if r < 0.55:
            return f"{self._name()} and {self._name()}"
        if r < 0.7:
            _, pl, _ = self._pick(lex.professions)
            return f"the {pl}"
        if r < 0.8:
            return f"{self._pick(('both of my', 'some of my', 'most of my', 'a few of my', 'all of my'))} {self._pick(('friends', 'colleagues', 'neighbours', 'cousins', 'classmates', 'brothers', 'sisters', 'friends from school'))}"
        if r < 0.9:
            _, pl, _ = self._pick(lex.people_sg)
            return f"the {pl} {self._pick(('next door', 'across the road', 'in the park', 'on the bus', 'at the bus stop', 'in the queue'))}"
        return "the " + pluralise(self._pick(lex.surnames))

    def _relative_vp(self, g: str) -> str:
        if self.rng.random() < 0.9:
            text = self._pick(_RELATIVE_VPS_3S)
            if "{" in text:
                self._ctx["g"] = _G3[g]
                text = self._fill(_compile(text))
            return text
        subj = ("", 1) + _G3[g][2:]
        return self._vp(subj, self._pick(("pres", "pres", "past", "perf", "prog")))

    # ---------------------------------------------------------------- verbs
    def _conj(self, verb: str, tense: str, p: int, adv: str | None = None) -> str:
        if tense in ("prog", "pastprog") and verb.split(" ", 1)[0] in _STATIVE:
            tense = "pres" if tense == "prog" else "past"
        return self._conj_raw(verb, tense, p, adv)

    def _conj_raw(self, verb: str, tense: str, p: int, adv: str | None = None) -> str:
        """Conjugate a verb phrase ('get up', 'look for') for person p in a tense.

        Tenses: base, ing, pp, pres, past, fut, going, prog, pastprog, perf, pluperf, npres,
        npast, nfut, nperf, can, could, should, might, must, would, usedto, ncan, ncould,
        nshould, may, wantto, needto, haveto, hopeto, planto."""
        head, sep, rest = verb.partition(" ")
        forms = self.lex.verbs[head]
        tail = sep + rest
        pre = adv + " " if adv else ""
        if tense == "base":
            return forms[0] + tail
        if tense == "ing":
            return forms[4] + tail
        if tense == "pp":
            return forms[3] + tail
        if tense == "pres":
            if head == "be":
                return _BE["pres", p] + (" " + adv if adv else "") + tail
            return pre + (forms[1] if p == 1 else forms[0]) + tail
        if tense == "past":
            if head == "be":
                return _BE["past", p] + (" " + adv if adv else "") + tail
            return pre + forms[2] + tail
        if tense in _MODALS:
            return f"{_MODALS[tense]} {pre}{forms[0]}{tail}"
        if tense == "going":
            return f"{_BE['pres', p]} {pre}going to {forms[0]}{tail}"
        if tense == "prog":
            return f"{_BE['pres', p]} {pre}{forms[4]}{tail}"
        if tense == "pastprog":
            return f"{_BE['past', p]} {pre}{forms[4]}{tail}"
        if tense == "perf":
            return f"{'has' if p == 1 else 'have'} {pre}{forms[3]}{tail}"
        if tense == "pluperf":
            return f"had {pre}{forms[3]}{tail}"
        if tense == "npres":
            if head == "be":
                return _BE_NEG["pres", p] + tail
            return f"{'doesn' if p == 1 else 'don'}'t {forms[0]}{tail}"
        if tense == "npast":
            if head == "be":
                return _BE_NEG["past", p] + tail
            return f"didn't {forms[0]}{tail}"
        if tense == "nperf":
            return f"{'hasn' if p == 1 else 'haven'}'t {forms[3]}{tail}"
        if tense == "wantto":
            return f"{'wants' if p == 1 else 'want'} to {forms[0]}{tail}"
        if tense == "needto":
            return f"{'needs' if p == 1 else 'need'} to {forms[0]}{tail}"
        if tense == "haveto":
            return f"{'has' if p == 1 else 'have'} to {forms[0]}{tail}"
        if tense == "hopeto":
            return f"{'hopes' if p == 1 else 'hope'} to {forms[0]}{tail}"
        if tense == "planto":
            return f"{'is' if p == 1 else 'am' if p == 0 else 'are'} planning to {forms[0]}{tail}"
        raise ValueError(f"unknown tense {tense!r}")

    def _freq_adv(self, tense: str) -> str | None:
        if self._no_adv:
            return None
        if tense == "pres" and self.rng.random() < 0.15:
            return self._pick(self.lex.advs["frequency"])
        if tense in ("past", "perf", "fut") and self.rng.random() < 0.05:
            return self._pick(("always", "never", "often", "sometimes", "usually", "rarely"))
        return None

    def _object_frame(self, classes=None) -> tuple[str, str, str | None]:
        """(class, verb, det) for a transitive verb phrase (from the given classes, if any)."""
        rng = self.rng
        if classes:
            cls = self._pick(classes)
        else:
            cls = self._frame_classes[_bisect(self._cum_frame, rng.random() * self._cum_frame[-1])]
        verb, det = self._pick(self.lex.frames[cls])
        return cls, verb, det

    def _activity(self, subj: tuple, tense: str, adv: str | None = None) -> str:
        parts = self._pick(self._compiled_activities)
        text = self._fill(parts, poss=subj[4], refl=subj[5])
        verb, _, rest = text.partition(" ")
        if rest and tense in _NEGATIVE:
            rest = (" " + rest + " ").replace(" some ", " any ").strip()
        return self._conj(verb, tense, subj[1], adv) + (" " + rest if rest else "")

    def _vp(self, subj: tuple, tense: str, kind: str | None = None) -> str:
        """A verb phrase agreeing with the subject tuple, in the tense. Sets self._last_cls to the
        object's noun class (or None), so that a place adjunct can suit it."""
        rng = self.rng
        p, poss = subj[1], subj[4]
        adv = self._freq_adv(tense)
        self._last_cls = None
        self._last_adv = adv
        self._last_kind = "obj"
        r = rng.random() if kind is None else {"obj": 0.0, "act": 0.5, "intr": 0.75, "motion": 0.85,
                                               "cop": 0.92}[kind]
        if r < 0.42:
            cls, verb, det = self._object_frame()
            self._last_cls = cls
            obj = self._np(cls, det, poss=poss)
            if tense in _NEGATIVE and obj.startswith("some "):
                obj = "any " + obj[5:]
            if cls == "body" and subj[2] in ("we", "they") and not obj.endswith("s"):
                obj = self._np_plural_body(obj)
            return self._conj(verb, tense, p, adv) + " " + obj
        if r < 0.75:
            self._last_kind = "act"
            return self._activity(subj, tense, adv)
        if r < 0.85:
            self._last_kind = "intr"
            if rng.random() < 0.55:
                vp = self._conj(self._pick(_DURATIVE), tense, p, adv)
                if rng.random() < 0.45:
                    vp += " " + self._pick(_DURATIVE_ADVERBIALS)
            else:
                vp = self._conj(self._pick(_PUNCTUAL), tense, p, adv)
                if rng.random() < 0.45:
                    vp += " " + self._pick(_PUNCTUAL_ADVERBIALS)
            return vp
        self._last_kind = "other"
        if r < 0.92:
            verb = self._pick(_MOTION_VERBS)
            return self._conj(verb, tense, p, adv) + " " + self._destination()
        # copular
        verb = self._pick(_COPULAS)
        if verb == "be" and tense in ("base", "ing", "prog", "pastprog"):
            verb = self._pick(("feel", "look", "get"))
        if verb == "be" and rng.random() < 0.3:
            return self._conj("be", tense, p, adv) + " " + self._place()
        if verb == "get":
            adj = self._pick(_GET_ADJECTIVES)
        elif verb == "stay":
            adj = self._pick(_STAY_ADJECTIVES)
        else:
            adj = self._pick(self.lex.adjs["feeling"])
            if rng.random() < 0.25:
                adj = self._pick(_DEGREE) + " " + adj
        return self._conj(verb, tense, p, adv) + " " + adj

    def _np_plural_body(self, obj: str) -> str:
        """'their knee' -> 'their knees' for plural owners."""
        head, _, last = obj.rpartition(" ")
        for sg, pl, _ in self.lex.nouns["body"]:
            if sg == last:
                return f"{head} {pl}"
        return obj

    def _destination(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            return self._pick(_DESTINATIONS)
        if r < 0.5:
            return "to the " + self._noun_word("shop")
        if r < 0.68:
            return "to the " + self._noun_word("building")
        if r < 0.78:
            return "to " + self._town()
        if r < 0.86:
            return "to the " + self._noun_word("landscape")
        if r < 0.93:
            return f"to {self._name()}'s {self._pick(('house', 'flat', 'place', 'party'))}"
        return f"to my {self._pick(('aunt', 'uncle', 'gran', 'sister', 'brother', 'cousin', 'mum', 'dad'))}'s"

    def _place(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            return self._pick(_PLACES)
        if r < 0.45:
            return "at the " + self._noun_word("shop")
        if r < 0.6:
            return self._pick(("at", "near", "outside", "behind", "opposite", "next to")) + \
                " the " + self._noun_word("building")
        if r < 0.7:
            return "in the " + self._noun_word("room")
        if r < 0.78:
            return "in " + self._town()
        if r < 0.86:
            return "on " + self._street()
        if r < 0.93:
            return self._pick(("by", "near")) + " the " + self._noun_word("landscape")
        return f"at {self._name()}'s {self._pick(('house', 'flat', 'place'))}"

    def _clause(self, tense: str, subj: tuple | None = None, extras: float = 0.5) -> str:
        """Subject + verb phrase (+ place) (+ time)."""
        rng = self.rng
        subj = subj or self._subject()
        text = subj[0] + " " + self._vp(subj, tense)
        if self._last_kind in ("obj", "intr") and rng.random() < extras * 0.6:
            places = _CLASS_PLACES.get(self._last_cls) if self._last_cls else None
            text += " " + (self._pick(places) if places and rng.random() < 0.85 else self._place())
        if rng.random() < extras and not self._last_adv and tense != "npres":
            text += " " + self._time(_TENSE_FAMILY.get(tense, "past"))
        return text

    def _tense(self) -> str:
        r = self.rng.random()
        return ("past" if r < 0.4 else "pres" if r < 0.58 else "fut" if r < 0.65 else
                "going" if r < 0.69 else "prog" if r < 0.75 else "pastprog" if r < 0.79 else
                "perf" if r < 0.86 else "npast" if r < 0.9 else "npres" if r < 0.93 else
                self._pick(("can", "might", "should", "usedto", "wantto", "needto", "haveto",
                            "nfut", "nperf", "would", "could")))

    def _pronoun_of(self, subj: tuple) -> tuple:
        return (subj[2],) + subj[1:]

    # ---------------------------------------------------------------- template filling
    def _fill(self, parts: list, poss: str | None = None, refl: str | None = None) -> str:
        out = []
        for part in parts:
            if type(part) is str:
                out.append(part)
            elif type(part) is list:
                out.append(self._fill(self._pick(part), poss, refl))
            else:
                out.append(self._slot(part[0], part[1], poss, refl))
        return "".join(out)

    def _get_subj(self, key: str, kind: str = "any") -> tuple:
        subj = self._ctx.get(key)
        if subj is None:
            subj = self._subject(kind if kind != "any" or key == "S" else "person")
            self._ctx[key] = subj
        return subj

    def _slot(self, name: str, args: tuple, poss: str | None, refl: str | None) -> str:
        """Fill one template slot. Slots (arguments after colons):

        people    S[:kind] the subject (kinds: any, i, we, 1, 3, pl, kid, person, you, pro3),
                  P[:kind] a second person, S.pro S.obj S.poss S.refl (and P.*), person, people,
                  name[:f|m], surname, rel, prof, profs, kin
        verbs     v:VERB:TENSE agrees with S, pv:... with P, vf:... adds a frequency adverb;
                  act:TENSE / pact:TENSE an everyday activity; vp:TENSE / pvp:TENSE any verb
                  phrase; cl:TENSE a whole clause; cls:TENSE a clause about S; actlist:TENSE
        nouns     np:CLASS[:DET] a noun phrase, n / ns singular / plural noun, cn / cns count
                  nouns only, mn a mass noun, list:CLASS[:DET], adj:CLASS, adv:CLASS
        places    town, street, place, dest
        times     time:FAMILY (past, pres, prog, fut, perf), clock[:LO:HI], year, month, weekday,
                  season, dur, date, num[:LO:HI], digits[:LO:HI], ord
        other     intro (sentence adverb and comma), quote, poss, refl
        """
        rng, lex = self.rng, self.lex
        # subjects and their pronouns
        if name in ("S", "P"):
            return self._get_subj(name, args[0] if args else "any")[0]
        if name[:2] in ("S.", "P.", "g."):
            subj = self._ctx["g"] if name[0] == "g" else self._get_subj(name[0])
            return subj[{"pro": 2, "obj": 3, "poss": 4, "refl": 5}[name[2:]]]
        if name in ("v", "pv", "vf"):
            subj = self._get_subj("P" if name == "pv" else "S")
            tense = args[1]
            adv = self._freq_adv(tense) if name == "vf" else None
            return self._conj(args[0], tense, subj[1], adv)
        if name in ("act", "pact"):
            subj = self._get_subj("P" if name == "pact" else "S")
            return self._activity(subj, args[0])
        if name in ("vp", "pvp"):
            subj = self._get_subj("P" if name == "pvp" else "S")
            return self._vp(subj, args[0], args[1] if len(args) > 1 else None)
        if name == "cl":
            return self._clause(args[0])
        if name == "cls":
            return self._clause(args[0], self._pronoun_of(self._get_subj("S")))
        if name == "poss":
            return poss or self._get_subj("S")[4]
        if name == "refl":
            return refl or self._get_subj("S")[5]
        # nouns
        if name == "np":
            det = args[1] if len(args) > 1 else None
            owner = self._ctx.get("S") if "S" in self._ctx else None
            if det == "pposs":
                det, owner = "poss", self._get_subj("P")
            return self._np(args[0], det, poss=owner[4] if owner else "my")
        if name == "n":
            return self._noun_word(args[0])
        if name == "ns":
            sg, pl, kind = self._noun(args[0])
            return pl
        if name == "mn":
            nouns = lex.mass_nouns.get(args[0]) or lex.nouns[args[0]]
            return self._pick(nouns)[0]
        if name == "cn":
            return self._count_word(args[0])
        if name == "cns":
            return self._count_word(args[0], plural=True)
        if name == "adj":
            return self._pick(lex.adjs[args[0]])
        if name == "adv":
            return self._pick(lex.advs[args[0]])
        if name == "list":
            return self._list(args[0], args[1] if len(args) > 1 else None)
        if name == "actlist":
            subj = self._get_subj("S")
            return self._activity_list(subj, args[0])
        # people
        if name == "person":
            return self._person_np()[0]
        if name == "people":
            return self._plural_people()
        if name == "name":
            return self._name(args[0] if args else None)
        if name == "surname":
            return self._pick(lex.surnames)
        if name == "rel":
            return self._pick(lex.relations)[0]
        if name == "prof":
            return self._pick(lex.professions)[0]
        if name == "profs":
            return self._pick(lex.professions)[1]
        if name == "kin":
            return self._pick(lex.kin_plural)
        # places and times
        if name == "town":
            return self._town()
        if name == "street":
            return self._street()
        if name == "place":
            return self._place()
        if name == "dest":
            return self._destination()
        if name == "time":
            return self._time(args[0])
        if name == "clock":
            return self._clock(int(args[0]), int(args[1])) if len(args) >= 2 else self._clock()
        if name == "year":
            return self._year()
        if name == "month":
            return self._pick(_MONTHS)
        if name == "weekday":
            return self._pick(_WEEKDAYS)
        if name == "season":
            return self._pick(_SEASONS)
        if name == "dur":
            return self._duration()
        if name == "num":
            lo, hi = (int(args[0]), int(args[1])) if len(args) >= 2 else (2, 12)
            return number_words(rng.randint(lo, hi))
        if name == "digits":
            lo, hi = (int(args[0]), int(args[1])) if len(args) >= 2 else (2, 99)
            return str(rng.randint(lo, hi))
        if name == "ord":
            return self._pick(_ORDINALS[:10])
        if name == "date":
            return "the " + self._pick(_ORDINALS) + " of " + self._pick(_MONTHS)
        if name == "intro":
            return self._pick(lex.advs["intro"]) + ","
        if name == "quote":
            return self._utterance()[0]
        raise KeyError(f"unknown template slot {name!r}")

    def _activity_list(self, subj: tuple, tense: str) -> str:
        n = self.rng.randint(2, 4)
        items, seen = [], set()
        for _ in range(n * 3):
            a = self._activity(subj, tense)
            head = a.split()[0]
            if head not in seen:
                seen.add(head)
                items.append(a)
            if len(items) == n:
                break
        return _join_list(items)

    # ---------------------------------------------------------------- sentence builders
    def _simple(self) -> str:
        rng = self.rng
        tense = self._tense()
        r = rng.random()
        if r < 0.12:
            return f"{self._pick(self.lex.advs['intro'])}, {self._clause(tense, extras=0.2)}."
        if r < 0.2:
            front = self._time(_TENSE_FAMILY.get(tense, "past"))
            return f"{front}, {self._clause(tense, extras=0.0)}."
        return self._clause(tense) + "."

    def _narration(self) -> str:
        rng = self.rng
        subj = self._subject(self._pick(("1", "1", "1", "3", "pl")))
        tense = self._pick(("past", "past", "past", "pres", "pres", "fut", "going", "usedto"))
        fam = _TENSE_FAMILY[tense]
        first = self._activity(subj, tense) if rng.random() < 0.6 else self._vp(subj, tense)
        text = f"{subj[0]} {first}"
        r = rng.random()
        if r < 0.3:
            text = f"{self._time(fam)}, {text}"
        elif r < 0.55:
            text += " " + self._time(fam)
        if rng.random() < 0.45:
            pro = self._pronoun_of(subj)
            joiner = self._pick((", and then ", ", then ", " and ", ", and afterwards ", " before ",
                                 " after "))
            if joiner in (" before ", " after "):
                text += joiner + self._activity(pro, "ing")
            else:
                second = self._activity(pro, tense) if rng.random() < 0.7 else self._vp(pro, tense)
                text += joiner + second
        return text + "."

    def _compound(self) -> str:
        rng = self.rng
        tense = self._tense()
        s1 = self._subject()
        c1 = self._clause(tense, s1, extras=0.2)
        r = rng.random()
        if r < 0.45:
            # same subject, pronoun in the second clause
            s2 = self._pronoun_of(s1)
        else:
            s2 = self._subject()
        tense2 = tense if rng.random() < 0.85 else _SAME_TIME.get(tense, tense)
        c2 = self._clause(tense2, s2, extras=0.15)
        if s2[0] == s1[2]:
            conj = self._pick((", and", ", but", ", so", " and", ", but", ", and then", ", but luckily",
                               ", so in the end", ", and of course", ", but unfortunately", ", so"))
        else:
            conj = self._pick((", and", ", but", ", while", ", and meanwhile", ", but", ", whereas"))
        return f"{c1}{conj} {c2}."

    def _complex(self) -> str:
        rng = self.rng
        self._no_adv = True
        s1 = self._subject()
        r = rng.random()
        if r < 0.18:   # because / since / as, with an everyday reason
            tense = self._pick(("past", "past", "npast", "pres", "fut", "going", "pastprog", "perf"))
            if rng.random() < 0.65:
                main = f"{s1[0]} {self._activity(s1, tense)}"
            else:
                main = self._clause(tense, s1, 0.2)
            fam = _TENSE_FAMILY[tense]
            self._ctx = {"S": self._pronoun_of(s1)}
            reason = self._fill(self._pick(self._reasons_past if fam == "past" else self._reasons_pres))
            word = self._pick(("because", "because", "because", "since", "as"))
            if rng.random() < 0.2:
                return f"{word.capitalize()} {reason}, {main}."
            return f"{main} {word} {reason}."
        if r < 0.32:   # while + progressive
            main = self._clause("past", s1, 0.2)
            sub = self._clause("pastprog", self._subject(), 0.15)
            if rng.random() < 0.5:
                return f"While {sub}, {main}."
            return f"{main} while {sub}."
        if r < 0.46:   # although / even though / though
            t = self._pick(("past", "pres", "perf"))
            sub = self._clause(t, s1, 0.2)
            main = self._clause(self._pick((t, t, "past", "fut")), self._subject(), 0.2)
            word = self._pick(("Although", "Even though", "Though"))
            if rng.random() < 0.6:
                return f"{word} {sub}, {main}."
            return f"{main}, {word.lower()} {sub}."
        if r < 0.62:   # when / after / before / as soon as / once (past)
            word = self._pick(("When", "After", "Before", "As soon as", "Once", "By the time", "Just after"))
            sub = self._clause("past", s1, 0.15)
            main_t = "pluperf" if word == "By the time" else "past"
            main = self._clause(main_t, self._subject() if rng.random() < 0.5 else self._pronoun_of(s1), 0.2)
            if rng.random() < 0.65:
                return f"{word} {sub}, {main}."
            return f"{main} {word.lower()} {sub}."
        if r < 0.74:   # future with present in the time clause
            word = self._pick(("When", "As soon as", "If", "Once", "Unless", "Before", "After"))
            sub = self._clause("pres" if word != "Unless" else "pres", s1, 0.15)
            main = self._clause(self._pick(("fut", "fut", "going", "might", "can", "should")),
                                self._subject() if rng.random() < 0.5 else self._pronoun_of(s1), 0.2)
            if rng.random() < 0.7:
                return f"{word} {sub}, {main}."
            return f"{main} {word.lower()} {sub}."
        if r < 0.82:   # until
            main = self._clause("past", s1, 0.1)
            sub = self._clause("past", self._subject(), 0.1)
            return f"{main} until {sub}."
        if r < 0.9:    # habitual whenever
            sub = self._clause("pres", s1, 0.0)
            main = self._clause("pres", self._subject() if rng.random() < 0.5 else self._pronoun_of(s1), 0.0)
            return f"{self._pick(('Whenever', 'Every time', 'When'))} {sub}, {main}."
        if r < 0.95:   # so ... that
            subj = s1
            adj = self._pick(self.lex.adjs["feeling"])
            main = self._clause("past", self._pronoun_of(subj), 0.0)
            return f"{subj[0]} {self._conj('be', 'past', subj[1])} so {adj} that {main}."
        # second conditional
        sub = self._clause("past", s1, 0.1)
        main = self._clause("would", self._subject() if rng.random() < 0.5 else self._pronoun_of(s1), 0.1)
        return f"If {sub}, {main}."

    def _question(self) -> str:
        rng = self.rng
        r = rng.random()
        subj = self._subject(self._pick(("you", "you", "you", "any", "we")))
        p = subj[1]
        if r < 0.14:
            return f"Did {subj[0]} {self._vp(subj, 'base')}{self._opt_time('past')}?"
        if r < 0.24:
            aux = "Does" if p == 1 else "Do"
            return f"{aux} {subj[0]} {self._vp(subj, 'base')}{self._opt_time('pres')}?"
        if r < 0.32:
            aux = "Have" if p != 1 else "Has"
            return f"{aux} {subj[0]} {self._vp(subj, 'pp')}{self._opt_time('perf')}?"
        if r < 0.4:
            aux = self._pick(("Will", "Can", "Could", "Should", "Would", "Shall"))
            if aux == "Shall":
                subj = _PRONOUNS[self._pick(("I", "we"))]
            return f"{aux} {subj[0]} {self._vp(subj, 'base')}{self._opt_time('fut')}?"
        if r < 0.46:
            be = _BE["pres", p].capitalize()
            return f"{be} {subj[0]} {self._vp(subj, 'ing')}{self._opt_time('prog')}?"
        if r < 0.52:
            return (f"{self._pick(_QUESTION_OPENERS)} "
                    f"{self._activity(_PRONOUNS['you'], 'base')}{self._opt_time('fut')}?")
        if r < 0.6:
            cls, verb, det = self._object_frame()
            if det in ("bare", "poss"):
                cls, verb, det = "misc", "find", None
            aux = self._pick(("did", "did", "do", "will", "should", "can"))
            if aux == "do" and p == 1:
                aux = "does"
            wh = self._pick(("Where", "When", "Why", "How"))
            return f"{wh} {aux} {subj[0]} {self._conj(verb, 'base', p)} the {self._noun_word(cls)}?"
        if r < 0.68:
            cls, verb, det = self._object_frame()
            if det == "bare":
                return f"Who taught {subj[3]} {self._noun_word(cls)}?"
            wh = self._pick(("What", "What", "Which one", "How many", "What else"))
            return f"{wh} did {subj[0]} {self._conj(verb, 'base', p)}{self._opt_time('past')}?"
        if r < 0.74:
            cls, verb, det = self._object_frame()
            obj = self._np(cls, det if det in ("bare", "poss") else "the", poss="your")
            return f"Who {self._conj(verb, 'past', 1)} {obj}?"
        if r < 0.8:
            cls = self._pick(("misc", "misc", "tools", "clothes", "device", "kitchen", "book"))
            owner = self._pick(("my", "my", "the", "your", "our", "his", "her"))
            return f"{self._pick(_LOST_QUESTIONS)} {self._np(cls, 'poss', poss=owner, adj_p=0.1)}?"
        if r < 0.86:
            return (f"How {self._pick(('was', 'was', 'is'))} {self._pick(('your', 'the', 'your'))} "
                    f"{self._pick(_HOW_WAS)}?")
        if r < 0.9:
            cls = self._pick(("fruit", "veg", "baked", "kitchen", "misc", "clothes", "container", "toy"))
            return f"How many {self._count_word(cls, True)} {self._pick(_HOW_MANY)}?"
        if r < 0.94:
            cls = self._pick(("drink", "dairy", "pantry", "dish", "baked"))
            return f"Is there any {self._pick(self.lex.mass_nouns[cls])[0]} left?"
        return (f"{self._pick(('What time', 'Where', 'When', 'How often'))} "
                f"{self._pick(('does', 'did'))} the {self._count_word('transport_public')} "
                f"{self._pick(('leave', 'arrive', 'stop', 'get in', 'come'))}?")

    def _opt_time(self, family: str) -> str:
        return " " + self._time(family) if self.rng.random() < 0.35 else ""

    def _exclamation(self) -> str:
        rng, lex = self.rng, self.lex
        r = rng.random()
        if r < 0.25:
            cls = self._pick(("meal", "furniture", "landscape", "sky", "building", "shop", "pet",
                              "clothes", "room", "garden_area", "event", "flower", "baked", "dish"))
            sg = self._pick(lex.count_nouns[cls] or lex.nouns[cls])[0]
            classes = [c for c in _NOUN_ADJ.get(cls, ()) if c in _EVALUATIVE]
            adj = self._pick(lex.adjs[self._pick(classes)] if classes and rng.random() < 0.5
                             else lex.adjs["opinion"])
            return f"What a {adj} {sg}!"
        if r < 0.35:
            cls = self._pick(("flower", "bird", "baked", "fruit", "clothes", "toy", "tree"))
            return f"What {self._pick(lex.adjs['opinion'])} {self._count_word(cls, True)}!"
        if r < 0.45:
            s = self._subject()
            return f"{self._pick(_EXCLAIM_OPENERS)}, {s[0]} {self._activity(s, self._pick(('past', 'perf', 'perf', 'nperf')))}!"
        if r < 0.55:
            cls = self._pick(("dish", "baked", "fruit", "meal"))
            return (f"This {self._count_word(cls)} is "
                    f"{self._pick(('so', 'really', 'absolutely', 'incredibly'))} {self._pick(lex.adjs['food'])}!")
        if r < 0.65:
            return f"{self._pick(_GREETINGS)}, {self._name()}!"
        if r < 0.75:
            cls = self._pick(("bird", "flower", "farm", "wild", "tree", "insect"))
            return f"{self._pick(_LOOK_AT)} {self._count_word(cls, True)}!"
        if r < 0.85:
            return self._pick(_EXCLAMATIONS)
        if r < 0.93:
            s = self._subject("person")
            return (f"{s[0]} {self._conj('be', 'pres', s[1])} "
                    f"{self._pick(('so', 'really', 'always so', 'incredibly'))} {self._pick(lex.adjs['people'])}!")
        cls = self._pick(("meal", "event", "pet", "building", "landscape"))
        return f"{self._pick(('I', 'We'))} {self._pick(('love', 'hate', 'miss'))} {self._np(cls, 'this')} so much!"

    def _utterance(self) -> tuple[str, str]:
        """Something said aloud: (text without closing punctuation, mark)."""
        rng = self.rng
        r = rng.random()
        if r < 0.55:
            line = self._pick(self.lex.quotes)
            if "{" in line:
                line = self._fill(_compile(line))
            return line[:-1], line[-1]
        you = _PRONOUNS["you"]
        if r < 0.65:
            return f"Don't forget to {self._activity(you, 'base')}", "."
        if r < 0.72:
            return f"Could you {self._activity(you, 'base')}", "?"
        if r < 0.8:
            me = _PRONOUNS["I"]
            return f"I'll {self._activity(me, 'base')} {self._time('fut')}", "."
        if r < 0.86:
            return f"Have you {self._activity(you, 'pp')} yet", "?"
        if r < 0.92:
            return f"Let's {self._activity(_PRONOUNS['we'], 'base')}", self._pick((".", "!"))
        return f"Did you {self._activity(you, 'base')}", "?"

    def _quoted(self) -> str:
        rng = self.rng
        text, mark = self._utterance()
        text = text[0].upper() + text[1:]
        speaker = self._subject(self._pick(("pro3", "pro3", "3", "i", "we", "pl")))
        if mark == "?":
            verb = self._pick(("asked", "asked", "wondered", "asked again", "called out"))
        elif mark == "!":
            verb = self._pick(("shouted", "cried", "called", "yelled", "laughed", "said"))
        else:
            verb = self._pick(("said", "said", "said", "replied", "explained", "added", "admitted",
                               "whispered", "muttered", "called", "promised", "insisted",
                               "announced", "sighed", "laughed", "suggested", "warned", "agreed",
                               "complained", "reminded us", "told me", "pointed out", "joked"))
        inner = text + ("," if mark == "." else mark)
        tail = ""
        if rng.random() < 0.3:
            tail = ", " + self._activity(speaker, "ing")
        elif rng.random() < 0.15:
            tail = " " + self._pick(self.lex.advs["manner"])
        if speaker[2] == speaker[0] or rng.random() < 0.5 or verb.count(" "):
            return f"\"{inner}\" {speaker[0]} {verb}{tail}."
        return f"\"{inner}\" {verb} {speaker[0]}{tail}."

    def _list_sentence(self) -> str:
        rng = self.rng
        r = rng.random()
        subj = self._subject(self._pick(("1", "1", "any")))
        if r < 0.4:
            cls = self._pick(("fruit", "veg", "baked", "dairy", "snack", "drink", "pantry", "clothes",
                              "kitchen", "misc", "tools", "paper", "toy", "book", "bathroom",
                              "sweet", "meat", "travel_item", "furniture", "flower", "seed"))
            verb = self._pick(("buy", "pack", "need", "find", "bring", "order", "forget", "pick up",
                               "get") if cls not in ("flower", "seed") else ("buy", "plant", "pick"))
            tense = self._pick(("past", "past", "perf", "fut", "going", "needto", "pres"))
            if verb == "need" and tense == "needto":
                tense = "pres"
            where = " " + self._pick(_CLASS_PLACES.get(cls, _PLACES)) if rng.random() < 0.35 else ""
            return f"{subj[0]} {self._conj(verb, tense, subj[1])} {self._list(cls)}{where}{self._opt_time(_TENSE_FAMILY[tense])}."
        if r < 0.7:
            tense = self._pick(("past", "past", "pres", "fut", "going"))
            t = self._time(_TENSE_FAMILY[tense])
            body = f"{subj[0]} {self._activity_list(subj, tense)}"
            return f"{t[0].upper() + t[1:]}, {body}." if rng.random() < 0.5 else f"{body} {t}."
        if r < 0.85:
            cls, wheres = self._pick(_FULL_OF)
            where = self._pick(wheres)
            return f"{where} {self._pick(('was', 'is'))} full of {self._list(cls, 'bare')}."
        names = [self._name() for _ in range(rng.randint(3, 4))]
        return f"{_join_list(names)} {self._vp(_PRONOUNS['they'], self._pick(('past', 'fut', 'going', 'perf')))}."

    def _relative(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            np, g = self._person_np(relative=True)
            subj = (np, 1) + _G3[g][2:]
            return f"{np} {self._vp(subj, self._pick(('past', 'past', 'perf', 'pres', 'fut')))}{self._opt_time('past')}."
        if r < 0.6:
            s = self._subject()
            cls, verb, det = self._object_frame()
            if det == "bare":
                cls, verb = "book", "read"
            p_subj = self._subject(self._pick(("i", "we", "person", "person")))
            verb2 = self._pick(self.lex.frames[cls])[0]
            rel = self._pick(("that", "which", "that", ""))
            rel = rel + " " if rel else ""
            time = self._opt_time("past")
            return (f"{s[0]} {self._conj(verb, self._pick(('past', 'past', 'perf')), s[1])} the "
                    f"{self._noun_word(cls)} {rel}{p_subj[0]} {self._conj(verb2, 'past', p_subj[1])}{time}.")
        if r < 0.8:
            np, g = self._person_np()
            if np.startswith("the ") and " who " in np:
                np = "my " + self._pick(self.lex.relations)[0]
            who = self._relative_vp(g)
            subj = (np, 1) + _G3[g][2:]
            return f"{np}, who {who}, {self._vp(subj, self._pick(('past', 'pres', 'perf', 'going')))}."
        if r < 0.9:
            place_cls = self._pick(("shop", "building", "landscape"))
            c = self._clause("past", self._subject("1"), 0.0)
            p2 = self._subject()
            return f"{p2[0]} {self._conj(self._pick(('go', 'go', 'walk', 'drive', 'cycle', 'go back')), self._pick(('past', 'perf', 'fut')), p2[1])} to the {self._noun_word(place_cls)} where {c}."
        s = self._subject()
        np, g = self._person_np()
        if " who " in np:
            np = "the " + self._pick(("neighbour", "woman", "man", "teacher", "friend", "boy", "girl"))
        noun, preds = self._pick(_WHOSE)
        verb = self._conj(self._pick(("meet", "see", "talk to", "thank", "help", "visit", "call")), "past", s[1])
        return f"{s[0]} {verb} {np} whose {noun} {self._pick(preds)}."

    def _numbers(self) -> str:
        rng = self.rng
        r = rng.random()
        s = self._subject()
        if r < 0.2:
            verb = self._pick(("buy", "need", "order", "bring", "find", "pack", "get", "borrow"))
            tense = self._pick(("past", "past", "perf", "fut"))
            return (f"{s[0]} {self._conj(verb, tense, s[1])} "
                    f"{self._np(self._pick(_BUYABLE), 'num')}{self._opt_time(_TENSE_FAMILY[tense])}.")
        if r < 0.35:
            cls = self._pick(("transport_public", "work_event", "show", "sport_event", "exam", "screen"))
            verb = self._pick(("starts", "leaves", "finishes", "begins", "ends", "started", "finished")
                              if cls == "transport_public" else
                              ("starts", "finishes", "begins", "ends", "started", "finished"))
            return f"The {self._count_word(cls)} {verb} at {self._clock()}."
        if r < 0.5:
            tense = self._pick(("perf", "perf", "past", "pluperf"))
            if s[1] == 2 and rng.random() < 0.3:
                return f"{s[0]} {self._conj('know', tense, 2)} each other for {self._duration()}."
            verb = self._pick(("live", "work", "wait", "stay", "study", "volunteer", "sing"))
            where = self._pick(("here", "there", "in " + self._town(), "at the " + self._noun_word("building"),
                                "on " + self._street()))
            return f"{s[0]} {self._conj(verb, tense, s[1])} {where} for {self._duration()}."
        if r < 0.62:
            event = self._pick(("move", "start work", "leave school", "get married", "buy a house",
                                "learn to drive", "start a business", "retire", "move house",
                                "open a shop", "join the choir", "run a marathon", "get a dog",
                                "pass {poss} driving test", "meet {poss} partner", "start university"))
            event = event.replace("{poss}", s[4])
            return f"{s[0]} {self._conj(event, 'past', s[1])} in {self._year()}."
        if r < 0.72:
            if rng.random() < 0.4:
                sg, _, g = self._pick(self.lex.children)
                who, age = f"{self._pick(('my', 'our'))} {sg}", rng.randint(2, 17)
            else:
                who, age = self._person_np()[0], rng.randint(18, 95)
            when = self._pick(("", "", " next week", " on " + self._pick(_WEEKDAYS),
                               " in " + self._pick(_MONTHS)))
            verb = self._pick(("turns", "will be", "is nearly", "is", "is going to be"))
            if rng.random() < 0.35:
                verb = self._pick(("turned", "was only", "was"))
                when = self._pick(("", " last week", " on " + self._pick(_WEEKDAYS), " in " + self._pick(_MONTHS)))
            return f"{who} {verb} {number_words(age)}{when}."
        if r < 0.82:
            how = self._pick(("about", "nearly", "almost", "less than", "more than", "exactly", "roughly"))
            span = self._pick(("ten minutes", "twenty minutes", "half an hour", "an hour", "five minutes",
                               "forty minutes", "two hours", "a quarter of an hour"))
            where = self._pick(("", "", " from here", " from our house", " on a good day",
                                " in the rush hour"))
            return f"It takes {how} {span} to {self._pick(('walk', 'drive', 'cycle', 'get'))} {self._destination()}{where}."
        if r < 0.9:
            amount = str(rng.randint(3, 400)) if rng.random() < 0.5 else self._num(3, 60)
            pre = self._pick(("only ", "about ", "exactly ", "at least ", "more than ", "nearly ", ""))
            be = self._pick(("are", "were"))
            return f"There {be} {pre}{amount} {self._pick(_THERE_ARE)}{self._opt_time('past' if be == 'were' else 'prog')}."
        if r < 0.95:
            thing = self._pick(("Room", "Platform", "Gate", "Bus", "Flat", "House number", "Table",
                                "Seat", "Locker", "Page"))
            state = self._pick(("on the left", "on the right", "closed", "at the end of the corridor",
                                "upstairs", "free", "ours", "empty", "next to the lift", "missing"))
            return f"{thing} {rng.randint(1, 99)} {self._pick(('is', 'was'))} {state}."
        cls = self._pick(("sport_event", "exam", "show", "event"))
        return (f"The {self._count_word(cls)} {self._pick(('is', 'was', 'will be'))} on "
                f"{self._pick(_WEEKDAYS)} the {self._pick(_ORDINALS)}.")

    def _imperative(self) -> str:
        rng = self.rng
        you = _PRONOUNS["you"]
        r = rng.random()
        if r < 0.3:
            pre = self._pick(_IMPERATIVE_OPENERS)
            who = _PRONOUNS["we"] if pre in ("Let's ", "We need to ") else you
            post = self._pick(("", "", "", " " + self._time("fut"), " before you go",
                               " when you get home", " first", " after dinner", ", please",
                               " while I'm out", " before it gets dark", " if you have time"))
            if "lease" in pre and post == ", please":
                post = ""
            end = "?" if pre in ("Could you please ", "Why not ", "Could you ") else "."
            act = self._activity(who, "base")
            if pre == "Go and " and act.startswith("go "):
                pre = ""
            if pre.startswith(("Don't", "Please don't", "Never")):
                act = act.replace(" some ", " any ")
            return f"{pre}{act}{post}{end}"
        if r < 0.5:
            cls, verb, det = self._object_frame(_IMPERATIVE_CLASSES)
            pre = self._pick(("", "", "Please ", "Carefully ", "Quickly ", "Go and ", "Just "))
            post = self._pick(("", "", " for me", " now", " later", " first", " when you can")
                              + (() if pre == "Please " else (", please",)))
            np = self._np(cls, det if det else self._pick(("the", "the", "your", "some", "a")), poss="your")
            return f"{pre}{self._conj(verb, 'base', 2)} {np}{post}."
        if r < 0.75:
            return self._recipe_step()
        if r < 0.9:
            return self._directions()
        return self._pick(_HOUSE_RULES)

    def _recipe_step(self) -> str:
        rng = self.rng
        k = rng.randint(0, 7)
        if k == 0:
            veg = self._count_word(self._pick(("veg", "fruit")), plural=True)
            return (f"{self._pick(('Chop', 'Slice', 'Peel', 'Wash', 'Dice', 'Grate', 'Halve'))} the {veg} "
                    f"and {self._pick(('fry', 'roast', 'boil', 'steam', 'simmer', 'toss', 'grill'))} them "
                    f"for {self._num(2, 30)} minutes.")
        if k == 1:
            amount, unit = self._pick((("two", "cups"), ("three", "spoonfuls"), ("a", "handful"),
                                       ("half a", "cup"), ("a", "pinch"), ("two", "tablespoons"),
                                       ("a", "teaspoon"), ("a", "splash"), ("a", "knob")))
            return f"Add {amount} {unit} of {self._pick(self.lex.mass_nouns['pantry'])[0]} and stir well."
        if k == 2:
            return f"Preheat the oven and grease {self._pick(('a baking tray', 'the cake tin', 'a large dish', 'two tins'))}."
        if k == 3:
            return (f"Bake for {self._num(15, 50)} minutes until "
                    f"{self._pick(('golden', 'golden brown', 'crisp', 'firm', 'bubbling', 'cooked through', 'risen'))}.")
        if k == 4:
            return (f"Leave the {self._count_word('baked')} to cool before you "
                    f"{self._pick(('slice', 'ice', 'serve', 'cut', 'decorate'))} it.")
        if k == 5:
            return f"Stir in the {self._pick(self.lex.nouns['herb'])[0]} and season with salt and pepper."
        if k == 6:
            return (f"Serve the {self._count_word('dish')} with "
                    f"{self._np(self._pick(('veg', 'baked', 'dairy', 'dish')), 'some', adj_p=0.3)}.")
        return (f"Whisk the eggs with a little {self._pick(('milk', 'cream', 'water', 'sugar'))} "
                f"and pour them into the pan.")

    def _directions(self) -> str:
        k = self.rng.randint(0, 5)
        if k == 0:
            return (f"Turn {self._pick(('left', 'right'))} at the {self._pick(_LANDMARKS + ('roundabout', 'crossroads', 'traffic lights'))} "
                    f"and keep going until you reach {self._street()}.")
        if k == 1:
            return (f"Take the {self._pick(_ORDINALS[:4])} {self._pick(('road', 'turning', 'street', 'exit'))} "
                    f"on the {self._pick(('left', 'right'))}.")
        if k == 2:
            return (f"Go straight on past the {self._pick(_LANDMARKS)}, and you'll see the "
                    f"{self._noun_word('shop')} on your {self._pick(('left', 'right'))}.")
        if k == 3:
            return f"Get off the bus at the {self._pick(_LANDMARKS)} and walk up {self._street()}."
        if k == 4:
            return (f"Follow the path along the {self._pick(('river', 'canal', 'stream', 'beach', 'edge of the wood', 'old railway line'))} "
                    f"for about {self._pick(('ten minutes', 'twenty minutes', 'half an hour', 'a mile', 'an hour'))}.")
        return (f"Park behind the {self._pick(_LANDMARKS)} and come in "
                f"through the {self._pick(('side door', 'back gate', 'garden', 'main entrance'))}.")

    def _short(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            s = self._subject(self._pick(("i", "we", "pro3", "pro3", "3", "they")))
            verb = self._pick(_SHORT_VERBS)
            return f"{s[0]} {self._conj(verb, self._pick(('past', 'past', 'past', 'perf', 'npast')), s[1])}."
        if r < 0.6:
            return self._pick((
                "It rained.", "It snowed.", "Nobody answered.", "The phone rang.", "The kettle boiled.",
                "The doorbell rang.", "The baby cried.", "The dog barked.", "The bus was late.",
                "Dinner is ready.", "Nobody came.", "The lights went out.", "The alarm went off.",
                "Everyone clapped.", "The door creaked.", "The cat purred.", "The rain stopped.",
                "It was late.", "It was cold.", "It was over.", "Time passed.", "Nothing happened.",
                "The sun came out.", "The wind dropped.", "The shop was shut.", "We were lost.",
                "I was wrong.", "She was right.", "He was late again.", "Nobody noticed.",
                "Things got better.", "Lunch was lovely.", "The kids were asleep.", "We missed it.",
                "The milk had gone off.", "The fridge was empty.", "The house was quiet.",
                "It worked.", "It didn't work.", "That was that.", "We laughed.", "Everyone agreed.",
                "The train was packed.", "The tea went cold.", "The toast burned.",
                "The heating broke.", "The power went off.", "The car wouldn't start.",
                "My feet hurt.", "I'm exhausted.", "She's asleep.", "He's out.", "We're nearly there.",
                "It's Tuesday.", "It's nearly lunchtime.", "It's a deal.", "Fair enough.",
                "No problem.", "Not yet.", "Maybe later.", "See you soon.", "Good night.",
                "Thanks again.", "Me too.", "Same here.", "I agree.", "I'm not sure.",
            ))
        if r < 0.8:
            subject, verbs = self._pick(_THING_VERBS)
            return f"The {subject} {self._conj(self._pick(verbs), 'past', 1)}."
        if r < 0.9:
            return f"{self._pick(('It was', 'It is', 'It feels', 'It looked', 'The day was', 'The morning was', 'The sky was', 'The evening was'))} {self._pick(self.lex.adjs['weather'])}."
        s = self._subject(self._pick(("i", "pro3", "3", "we")))
        return f"{s[0]} {self._conj(self._pick(('feel', 'be', 'look', 'seem', 'get')), 'past', s[1])} {self._pick(self.lex.adjs['feeling'])}."

    def _long(self) -> str:
        """A sentence of 25 words or more: time, a subordinate clause, a list of things done,
        then reasons and afterthoughts."""
        rng = self.rng
        s = self._subject(self._pick(("1", "1", "3", "pl")))
        pro = self._pronoun_of(s)
        self._no_adv = True
        parts = []
        if rng.random() < 0.6:
            t = self._time("past")
            parts.append(t[0].upper() + t[1:] + ",")
        if rng.random() < 0.5:
            word = self._pick(("after", "when", "just after", "once", "as soon as"))
            parts.append(f"{word} {self._clause('past', self._subject(), 0.3)},")
        parts.append(f"{s[0]} {self._activity_list(s, 'past')}")
        self._ctx = {"S": pro}

        def reason():
            return f", {self._pick(('because', 'since', 'as'))} {self._fill(self._pick(self._reasons_past))}"

        tails = [
            reason,
            lambda: f", while {self._clause('pastprog', self._subject(), 0.0)}",
            lambda: f", and {self._pick(('later', 'then', 'afterwards', 'after that', 'later that evening'))} {pro[0]} {self._activity(pro, 'past')}",
            lambda: f", but {pro[0]} {self._activity(pro, 'npast')}",
            lambda: f", so {pro[0]} {self._conj('be', 'past', pro[1])} {self._pick(_DEGREE)} {self._pick(('tired', 'exhausted', 'hungry', 'happy', 'relieved', 'pleased', 'sleepy', 'grumpy'))} by the time {pro[0]} {self._conj('get', 'past', pro[1])} home",
            lambda: f", even though {self._clause('past', self._subject(), 0.0)}",
            lambda: f" before {self._activity(pro, 'ing')}",
            lambda: f", which {self._pick(('was', 'turned out to be', 'felt'))} {self._pick(_DEGREE)} {self._pick(self.lex.adjs['event'])}",
            lambda: f" {self._place()}",
        ]
        text = " ".join(parts)
        words = len(text.split())
        used = set()
        for _ in range(8):
            if words >= 25:
                break
            i = rng.randrange(len(tails))
            if i in used:
                continue
            used.add(i)
            tail = tails[i]()
            text += tail
            words += len(tail.split())
        return text + "."

    def _template(self) -> str:
        return self._fill(self._pick(self.lex.templates))

    def _idiom(self) -> str:
        return self._pick(self.lex.idioms)

    def _description(self) -> str:
        rng, lex = self.rng, self.lex
        r = rng.random()
        if r < 0.3:
            cls = self._pick(("room", "shop", "building", "garden_area"))
            adjs = lex.adjs["place"]
            a1 = self._pick(adjs)
            a2 = self._pick(adjs)
            while a2 == a1:
                a2 = self._pick(adjs)
            verb = self._pick(("was", "is", "looked", "felt", "seemed"))
            if rng.random() < 0.6:
                return f"The {self._noun_word(cls)} {verb} {self._pick(_DEGREE + ('', '', ''))} {a1}."
            return f"The {self._noun_word(cls)} {verb} {a1} {self._pick(('and', 'and very', 'and a bit'))} {a2}."
        if r < 0.5:
            s = self._subject()
            cls = self._pick(("clothes", "misc", "transport_drive", "transport_ride", "furniture", "kitchen", "device"))
            sg, pl, kind = self._noun(cls)
            word, verb = (pl, "are") if kind == PLURAL_ONLY else (sg, "is")
            if rng.random() < 0.5:
                verb = {"are": "were", "is": "was"}[verb]
            owner = s[4].capitalize() if s[0] == s[2] else s[0] + "'s"
            aclass = self._pick(_NOUN_ADJ[cls])
            degree = "" if aclass in ("colour", "material", "shape") else \
                self._pick(("very ", "quite ", "rather ", "really ", "a bit ", "", "", ""))
            new = "new " if rng.random() < 0.3 else ""
            return f"{owner} {new}{word} {verb} {degree}{self._pick(lex.adjs[aclass])}."
        if r < 0.7:
            cls = self._pick(("dish", "baked", "fruit", "drink", "meal"))
            sg, pl, kind = self._noun(cls)
            word, verb = (pl, "were") if kind == PLURAL_ONLY else (sg, "was")
            return f"The {word} {self._pick((verb, 'smelled', 'tasted', 'looked'))} {self._pick(('', 'very ', 'really ', 'a bit ', 'quite ', 'so '))}{self._pick(lex.adjs['food'] if cls != 'drink' else lex.adjs['drink'])}."
        if r < 0.85:
            np, g = self._person_np()
            subj = (np, 1) + _G3[g][2:]
            verb = self._pick(("be", "be", "seem", "look"))
            degree = self._pick(("very", "quite", "rather", "really", "so", "incredibly", "a bit")
                                + (("always",) if verb == "be" else ()))
            people = self.lex.adjs["people"]
            tail = self._pick(("", "", f", but {subj[2]} {self._conj('be', 'pres', 1)} {self._pick(people)}",
                               f" and {self._pick(people)}", f" for {subj[4]} age"))
            return f"{np} {self._conj(verb, self._pick(('pres', 'past')), 1)} {degree} {self._pick(people)}{tail}."
        cls = self._pick(("pet", "farm", "wild", "bird"))
        owner = self._pick(("Our", "My", "The", "Their", "Her", "His")) if cls == "pet" else "The"
        return f"{owner} {self._count_word(cls)} {self._pick(('is', 'was', 'seems', 'looked'))} {self._pick(('very', 'so', 'rather', 'quite', ''))} {self._pick(lex.adjs['animal'])}.".replace("  ", " ")

    def _existential(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            cls = self._pick(tuple(_CLASS_SPOTS))
            tense = self._pick(("is", "was", "is", "was", "used to be"))
            plural = rng.random() < 0.4 and cls in _COUNTABLE_EVERYDAY
            if plural:
                tense = {"is": "are", "was": "were", "has been": "have been"}.get(tense, tense)
                np = self._np(cls, self._pick(("num", "q", "some", "some")))
            else:
                np = self._np(cls, "a")
                if self._last_np_plural:
                    tense = {"is": "are", "was": "were"}.get(tense, tense)
            return f"There {tense} {np} {self._pick(_CLASS_SPOTS[cls])}."
        if r < 0.65:
            be = self._pick(("was", "is"))
            return f"There {be} {self._pick(_THERE_WAS)} {self._place()}{self._opt_time('past' if be == 'was' else 'prog')}."
        if r < 0.8:
            cls = self._pick(("drink", "dairy", "pantry", "dish", "baked", "money", "cleaning", "bathroom"))
            mass = self._pick(self.lex.mass_nouns[cls])[0]
            form = self._pick(("There isn't any {} left.", "There wasn't any {} left.",
                               "There's hardly any {} left.", "There's only a little {} left.",
                               "There wasn't enough {} for everyone.", "There's plenty of {} in the cupboard.",
                               "There was {} all over the floor."))
            return form.format(mass)
        if r < 0.9:
            return f"There's {self._pick(('no point', 'no need', 'no rush', 'no hurry', 'nothing wrong with'))} {self._activity(_PRONOUNS['we'], 'ing')}."
        be = self._pick(("are", "were"))
        return f"There {be} {self._num(2, 12)} {self._pick(_THERE_ARE)}{self._opt_time('past' if be == 'were' else 'prog')}."

    def _weather(self) -> str:
        rng, lex = self.rng, self.lex
        r = rng.random()
        w = lex.adjs["weather"]
        if r < 0.3:
            return f"It {self._pick(('was', 'is', 'has been', 'will be', 'was rather', 'is getting', 'stayed'))} {self._pick(w)} {self._pick(('all day', 'all week', 'this morning', 'since Monday', 'for days', 'in the afternoon', 'today', 'overnight', 'again', 'at the weekend', 'by the coast', 'up on the hills'))}."
        if r < 0.5:
            return f"It {self._pick(('rained', 'snowed', 'poured', 'drizzled', 'hailed'))} {self._pick(('all night', 'all morning', 'for hours', 'on and off all day', 'just as we left', 'the whole weekend', 'while we were out', 'again'))}."
        if r < 0.7:
            return f"The {self._pick(('forecast', 'weather', 'radio', 'news'))} {self._pick(('says', 'said'))} it {self._pick(('will be', 'is going to be', 'would be', 'might be'))} {self._pick(w)} {self._time('fut')}."
        if r < 0.85:
            s = self._subject(self._pick(("1", "1", "3", "pl")))
            weather = self._pick(lex.nouns["weather_noun"])[0]
            act = self._conj(self._pick(_WEATHER_ACTIVITIES), self._pick(("past", "past", "npast")), s[1])
            return f"{self._pick(('After', 'Despite', 'Because of', 'In spite of'))} the {weather}, {s[0]} {act}."
        return f"{self._pick(('What', 'Such'))} {self._pick(('lovely', 'awful', 'horrible', 'beautiful', 'strange', 'miserable', 'glorious'))} weather {self._pick(('we are having', 'we had', 'for the time of year', 'today'))}{self._pick(('!', '.'))}"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z]+")
_ARTICLE = re.compile(r"\b([Aa])n?(?= [\"']?([A-Za-z][\w'-]*))")
_SPACES = re.compile(r"  +")
_DOUBLED = re.compile(r"(?<![\w-])(the|a|an|to|and|of|in|on|at|for|with) \1\b", re.IGNORECASE)


def _fix_article(m: re.Match) -> str:
    a = article_for(m.group(2))
    return a if m.group(1) == "a" else a.capitalize()


def _finish(text: str) -> str:
    """Fix a/an, spacing and capitals; the sentence must end in . ! or ?"""
    text = _ARTICLE.sub(_fix_article, text)
    if "  " in text:
        text = _SPACES.sub(" ", text)
    if " ," in text or " ." in text:
        text = text.replace(" ,", ",").replace(" .", ".")
    text = text.strip()
    if not text:
        return ""
    i = 1 if text[0] == '"' else 0
    if len(text) > i:
        text = text[:i] + text[i].upper() + text[i + 1:]
    if text[-1] not in ".!?":
        text += "."
    return text


def _join_list(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _bisect(cum: list[float], x: float) -> int:
    lo, hi = 0, len(cum) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] > x:
            hi = mid
        else:
            lo = mid + 1
    return lo
