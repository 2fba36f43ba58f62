"""Small pickers, noun phrases and place phrases: the words every sentence shape draws on."""
from __future__ import annotations

from corpus.filler.grammar import _ADJ_ORDER, COUNT, MASS, PLURAL_ONLY, _join_list
from corpus.filler.morphology import number_words


class Words:
    """Mixin of FillerGenerator: picks from lists, builds noun phrases, places and destinations."""

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

    def _noun(self, cls: str):
        return self._pick(self.lex.nouns[cls])

    def _adj_for(self, cls: str) -> str:
        classes = self.lex.noun_adj.get(cls)
        if not classes:
            return ""
        aclass = self._pick(classes)
        return self._pick(self.lex.adjs[aclass])

    def _adjectives(self, cls: str, p: float = 0.28) -> str:
        """'' or 'adj ' (or two adjectives) for a noun of the class."""
        rng = self.rng
        if rng.random() >= p:
            return ""
        classes = self.lex.noun_adj.get(cls)
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
        if det is None and cls in self.lex.place_classes:
            det = "the" if rng.random() < 0.6 else "a"
        elif det is None and cls in self.lex.singular_classes:
            r = rng.random()
            det = "the" if r < 0.5 else "a" if r < 0.78 else "poss" if r < 0.92 else "this"
        elif det is None:
            r = rng.random()
            det = ("a" if r < 0.3 else "the" if r < 0.55 else "poss" if r < 0.68 else
                   "some" if r < 0.75 else "num" if r < 0.81 else "bare" if r < 0.86 else
                   "this" if r < 0.9 else "q")
        adj = self._adjectives(cls, adj_p)
        plural = kind == PLURAL_ONLY or (kind == COUNT and rng.random() < (
            0.06 if cls in self.lex.singular_classes else 0.25))
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
            return self._pick(self.lex.destinations)
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
            return self._pick(self.lex.places)
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
