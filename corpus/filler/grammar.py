"""Closed grammatical tables and text helpers shared by the sentence shapes."""
from __future__ import annotations

import re

from corpus.filler.morphology import article_for

# Kinds of noun: COUNT, MASS (no plural, no "a") or PLURAL_ONLY (jeans).
COUNT, MASS, PLURAL_ONLY = 0, 1, 2

# Order of adjectives when two stand before a noun.
_ADJ_ORDER = {"opinion": 0, "size": 1, "age": 2, "shape": 3, "colour": 4, "material": 5}

# Templates: "{slot:arg:arg}" fills, "[a|b|c]" alternatives (slots allowed inside, no nesting).
_TEMPLATE_TOKEN = re.compile(r"(\{[^{}]*\}|\[[^\[\]]*\])")


def _compile(text: str) -> list:
    """A template as a list of text, (slot, args) tuples and lists of alternatives."""
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

# Tense families, for choosing a fitting time expression.
_TENSE_FAMILY = {
    "past": "past", "npast": "past", "pastprog": "past", "pluperf": "past", "usedto": "past",
    "pres": "pres", "npres": "pres", "prog": "prog", "fut": "fut", "nfut": "fut", "going": "fut",
    "perf": "perf", "nperf": "perf", "might": "fut", "can": "fut", "should": "fut", "could": "fut",
    "wantto": "fut", "needto": "fut", "haveto": "pres", "must": "fut", "would": "fut",
    "ncan": "pres", "ncould": "past", "nshould": "pres", "may": "fut", "hopeto": "fut",
    "planto": "fut",
}

# A tense for a second clause that happens at the same time as the first.
_SAME_TIME = {"past": "pastprog", "pres": "prog", "perf": "past", "fut": "going", "going": "fut",
              "prog": "pres", "pastprog": "past", "npast": "past", "npres": "pres"}

_NEGATIVE = frozenset(("npres", "npast", "nfut", "nperf", "ncan", "ncould", "nshould"))

# The calendar: a closed set, like the pronouns.
_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()

_MONTHS = ("January February March April May June July August September October November "
           "December").split()

_SEASONS = ("spring", "summer", "autumn", "winter")

_PARTS_OF_DAY = ("morning", "afternoon", "evening")

# Sentence clean-up: words for the ban check, a/an, spacing, doubled small words.
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
    """'a', 'a and b', 'a, b and c'."""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _cumulative(weights: list[float]) -> list[float]:
    """Running totals, for weighted choices by bisection."""
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _bisect(cum: list[float], x: float) -> int:
    """The first index whose running total exceeds x."""
    lo, hi = 0, len(cum) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] > x:
            hi = mid
        else:
            lo = mid + 1
    return lo
