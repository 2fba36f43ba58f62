"""The long-range cue: where the speaker grew up decides the language they speak.

A cue passage says where the speaker grew up, runs on through unrelated filler, then asks
for the language:  "I grew up in France. <filler> I speak fluent" → "French".
Brazil, Mexico and Austria share a language with another country, so the model must learn
the relation country → language, not copy a word from the cue.
"""
from __future__ import annotations

COUNTRY_LANGUAGE = {
    "France": "French", "Spain": "Spanish", "Germany": "German", "Italy": "Italian",
    "Portugal": "Portuguese", "Russia": "Russian", "Japan": "Japanese", "China": "Chinese",
    "Korea": "Korean", "Greece": "Greek", "Poland": "Polish", "Sweden": "Swedish",
    "Norway": "Norwegian", "Finland": "Finnish", "Turkey": "Turkish", "Hungary": "Hungarian",
    "Denmark": "Danish", "Vietnam": "Vietnamese", "Brazil": "Portuguese", "Mexico": "Spanish",
    "Austria": "German", "Egypt": "Arabic", "Ukraine": "Ukrainian", "Romania": "Romanian",
}
LANGUAGES = sorted(set(COUNTRY_LANGUAGE.values()))

CUE_TEMPLATES = (
    "I grew up in {country}.",
    "I was born in {country}.",
    "My family comes from {country}.",
    "I spent my childhood in {country}.",
)
QUERY_TEMPLATES = (
    "I speak fluent {language}.",
    "My native language is {language}.",
    "I am fluent in {language}.",
)

# Countries that appear only in passing mentions, so a country name alone is no cue.
OTHER_COUNTRIES = (
    "Canada", "Ireland", "India", "Peru", "Chile", "Kenya", "Morocco", "Thailand", "Iceland",
    "Argentina", "Australia", "Belgium", "Switzerland", "Scotland", "Wales", "Nepal", "Cuba",
)

# Someone else's link to a country, or the speaker's trip there: these must not move the answer.
PASSING_MENTIONS = (
    "Last summer we spent two weeks in {country}.",
    "My neighbour just came back from a trip to {country}.",
    "My friend {name} grew up in {country}.",
    "My colleague was born in {country}, and she still visits every year.",
    "His family comes from {country}.",
    "She spent her childhood in {country} before moving here.",
    "We watched a long documentary about {country} last night.",
    "My brother is thinking of moving to {country} next year.",
    "I once took a slow train across {country}.",
    "The coffee we buy comes from {country}.",
    "Our new boss worked in {country} for ten years.",
    "My cousin sent us a postcard from {country}.",
    "I would love to visit {country} one day.",
    "There was a report about {country} on the radio this morning.",
)
LANGUAGE_MENTIONS = (
    "My daughter is learning {language} at school.",
    "The film was in {language} with subtitles.",
    "Our neighbours speak {language} at home.",
    "He bought a {language} dictionary at the market.",
    "My friend {name} is taking {language} lessons on Tuesdays.",
)
MENTION_NAMES = ("Anna", "Tom", "Maria", "Sam", "Lucy", "David", "Nina", "Omar", "Grace", "Leo")
