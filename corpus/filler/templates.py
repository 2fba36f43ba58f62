"""Filling the hand-written templates of lexicon/templates.txt (and quotes, reasons, relatives): one method per slot family."""
from __future__ import annotations

from corpus.filler.grammar import _MONTHS, _SEASONS, _WEEKDAYS
from corpus.filler.morphology import _ORDINALS, number_words


class Templates:
    """Mixin of FillerGenerator: template slots and the template and idiom sentence shapes."""

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
        # each family answers None for a slot name that is not its own
        for family in (self._slot_subject, self._slot_noun, self._slot_person, self._slot_place_time):
            text = family(name, args, poss, refl)
            if text is not None:
                return text
        raise KeyError(f"unknown template slot {name!r}")

    def _slot_subject(self, name: str, args: tuple, poss: str | None, refl: str | None) -> str | None:
        """Subjects, their pronouns and what agrees with them: S, P, S.pro, v, act, vp, cl, poss."""
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
        return None

    def _slot_noun(self, name: str, args: tuple, poss: str | None, refl: str | None) -> str | None:
        """Nouns, noun phrases, adjectives and adverbs of a class."""
        lex = self.lex
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
        return None

    def _slot_person(self, name: str, args: tuple, poss: str | None, refl: str | None) -> str | None:
        """People named or described: person, people, name, surname, rel, prof, kin."""
        lex = self.lex
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
        return None

    def _slot_place_time(self, name: str, args: tuple, poss: str | None, refl: str | None) -> str | None:
        """Places, times, dates, numbers, sentence intros and quotations."""
        rng, lex = self.rng, self.lex
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
        return None

    def _template(self) -> str:
        return self._fill(self._pick(self.lex.templates))

    def _idiom(self) -> str:
        return self._pick(self.lex.idioms)
