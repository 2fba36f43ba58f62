"""Sentence subjects and other people: pronouns, relations, names, professions, 'the man who ...'."""
from __future__ import annotations

from corpus.filler.grammar import _G3, _PRONOUNS, _compile
from corpus.filler.morphology import pluralise


class People:
    """Mixin of FillerGenerator: people as subject tuples (text, person, pro, obj, poss, refl)."""

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
            sg, g = self._pick(self.lex.relative_heads)
            g = self._gender(g)
            return f"the {sg} who {self._relative_vp(g)}", g
        if r < 0.4:
            sg, _, g = self._pick(lex.relations)
            g = self._gender(g)
            if sg in self.lex.our_relations:
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
            det = self._pick(("the", "the", "our", "my")) if sg in self.lex.my_professions else "the"
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
            det = self._pick(("the", "my", "our")) if kin in self.lex.the_kin else self._pick(("my", "my", "our"))
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
            text = self._pick(self.lex.relative_vps_3s)
            if "{" in text:
                self._ctx["g"] = _G3[g]
                text = self._fill(_compile(text))
            return text
        subj = ("", 1) + _G3[g][2:]
        return self._vp(subj, self._pick(("pres", "pres", "past", "perf", "prog")))

    def _pronoun_of(self, subj: tuple) -> tuple:
        return (subj[2],) + subj[1:]
