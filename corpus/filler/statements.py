"""Statement sentence shapes: simple clauses, narration, compound and complex sentences, long sentences."""
from __future__ import annotations

from corpus.filler.grammar import _SAME_TIME, _TENSE_FAMILY


class Statements:
    """Mixin of FillerGenerator: statements in many tenses, joined by and/but/so or subordinated."""

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
        return self._complex_subordinate(s1, r)

    def _complex_subordinate(self, s1: tuple, r: float) -> str:
        """The complex sentences other than 'because': while, although, when, if, until, so ... that."""
        rng = self.rng
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
            lambda: f", so {pro[0]} {self._conj('be', 'past', pro[1])} {self._pick(self.lex.intensifiers)} {self._pick(('tired', 'exhausted', 'hungry', 'happy', 'relieved', 'pleased', 'sleepy', 'grumpy'))} by the time {pro[0]} {self._conj('get', 'past', pro[1])} home",
            lambda: f", even though {self._clause('past', self._subject(), 0.0)}",
            lambda: f" before {self._activity(pro, 'ing')}",
            lambda: f", which {self._pick(('was', 'turned out to be', 'felt'))} {self._pick(self.lex.intensifiers)} {self._pick(self.lex.adjs['event'])}",
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
