"""Seeded generators for the three kinds of synthetic passage.

- cue passages: [lead-in] cue, filler gap, query + answer, sometimes more gaps and queries;
  the filler may mention another country or language in passing;
- everyday passages: plain filler (the broad vocabulary and sentence shapes);
- phrase passages: short everyday sayings in a row ("The clouds are in the sky.").

Every random choice comes from the `random.Random` passed in, so a seed fixes the corpus.
"""
from __future__ import annotations

import random

from corpus.cues import (
    COUNTRY_LANGUAGE,
    CUE_TEMPLATES,
    LANGUAGE_MENTIONS,
    LANGUAGES,
    MENTION_NAMES,
    OTHER_COUNTRIES,
    PASSING_MENTIONS,
    QUERY_TEMPLATES,
)
from corpus.filler import FillerGenerator
from corpus.phrases import EVERYDAY_PHRASES

MAX_GAP_WORDS = 400


SHORT_GAP_WORDS = 20


def sample_gap(rng: random.Random, max_gap: int = MAX_GAP_WORDS) -> int:
    """Filler words between cue and query in a long cue passage: 40% up to 100, the rest beyond."""
    if rng.random() < 0.4:
        return rng.randint(SHORT_GAP_WORDS, 100)
    return rng.randint(100, max_gap)


def passing_mention(rng: random.Random, cue_country: str) -> str:
    """A sentence naming some other country or language, which must not change the answer."""
    name = rng.choice(MENTION_NAMES)
    if rng.random() < 0.25:
        language = rng.choice([lang for lang in LANGUAGES if lang != COUNTRY_LANGUAGE[cue_country]])
        return rng.choice(LANGUAGE_MENTIONS).format(language=language, name=name)
    pool = [c for c in COUNTRY_LANGUAGE if c != cue_country] + list(OTHER_COUNTRIES)
    return rng.choice(PASSING_MENTIONS).format(country=rng.choice(pool), name=name)


def filler_with_mentions(rng: random.Random, filler: FillerGenerator, n_words: int, cue_country: str,
                         mention_rate: float) -> str:
    """`n_words` of filler, with a passing mention spliced in between sentences at the given rate."""
    text = filler.passage(n_words)
    if not text or rng.random() >= mention_rate:
        return text
    sentences = _split_sentences(text)
    sentences.insert(rng.randint(0, len(sentences)), passing_mention(rng, cue_country))
    return " ".join(sentences)


def _split_sentences(text: str) -> list[str]:
    out, current = [], []
    for word in text.split(" "):
        current.append(word)
        if word[-1:] in ".!?" or word[-2:] in ('."', '!"', '?"'):
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return out


def cue_passage(rng: random.Random, filler: FillerGenerator, max_gap: int = MAX_GAP_WORDS,
                mention_rate: float = 0.35, short: bool = False) -> str:
    """A cue, then one to three queries each after a gap of filler.

    Short passages (gaps of 0-20 words, no lead-in) carry many answers per token: they are
    where the country → language binding is learned. Long ones (gaps of 20 to max_gap words)
    teach the model to hold the cue across unrelated text.
    """
    country = rng.choice(list(COUNTRY_LANGUAGE))
    language = COUNTRY_LANGUAGE[country]
    parts = []
    if not short and rng.random() < 0.5:
        parts.append(filler.passage(rng.randint(1, 30)))
    parts.append(rng.choice(CUE_TEMPLATES).format(country=country))
    n_queries = rng.choices((1, 2, 3), weights=(6, 3, 1))[0]
    for _ in range(n_queries):
        gap = rng.randint(0, SHORT_GAP_WORDS) if short else sample_gap(rng, max_gap)
        parts.append(filler_with_mentions(rng, filler, gap, country, 0.0 if short else mention_rate))
        parts.append(rng.choice(QUERY_TEMPLATES).format(language=language))
    if rng.random() < 0.5:
        parts.append(filler.passage(rng.randint(1, 20)))
    return " ".join(p for p in parts if p)


def everyday_passage(rng: random.Random, filler: FillerGenerator) -> str:
    return filler.passage(rng.randint(20, 200))


def phrase_passage(rng: random.Random, filler: FillerGenerator) -> str:
    """A few everyday sayings, each followed by a little filler."""
    parts = []
    for _ in range(rng.randint(2, 6)):
        parts.append(rng.choice(EVERYDAY_PHRASES))
        if rng.random() < 0.5:
            parts.append(filler.passage(rng.randint(1, 15)))
    return " ".join(parts)
