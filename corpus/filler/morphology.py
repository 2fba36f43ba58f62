"""English morphology for the filler: a/an, plurals, verb forms, numbers in words."""
from __future__ import annotations

import re

# Spellings whose sound breaks the vowel-letter rule for a/an.
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


# A one-syllable consonant-vowel-consonant verb doubles its last letter (stop, stopped).
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
