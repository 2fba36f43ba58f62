"""Questions, exclamations and quoted speech."""
from __future__ import annotations

from corpus.filler.grammar import _BE, _PRONOUNS, _compile


class Speech:
    """Mixin of FillerGenerator: sentences that ask, exclaim or quote."""

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
            return (f"{self._pick(self.lex.question_openers)} "
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
            return f"{self._pick(self.lex.lost_questions)} {self._np(cls, 'poss', poss=owner, adj_p=0.1)}?"
        if r < 0.86:
            return (f"How {self._pick(('was', 'was', 'is'))} {self._pick(('your', 'the', 'your'))} "
                    f"{self._pick(self.lex.how_was)}?")
        if r < 0.9:
            cls = self._pick(("fruit", "veg", "baked", "kitchen", "misc", "clothes", "container", "toy"))
            return f"How many {self._count_word(cls, True)} {self._pick(self.lex.how_many)}?"
        if r < 0.94:
            cls = self._pick(("drink", "dairy", "pantry", "dish", "baked"))
            return f"Is there any {self._pick(self.lex.mass_nouns[cls])[0]} left?"
        return (f"{self._pick(('What time', 'Where', 'When', 'How often'))} "
                f"{self._pick(('does', 'did'))} the {self._count_word('transport_public')} "
                f"{self._pick(('leave', 'arrive', 'stop', 'get in', 'come'))}?")

    def _exclamation(self) -> str:
        rng, lex = self.rng, self.lex
        r = rng.random()
        if r < 0.25:
            cls = self._pick(("meal", "furniture", "landscape", "sky", "building", "shop", "pet",
                              "clothes", "room", "garden_area", "event", "flower", "baked", "dish"))
            sg = self._pick(lex.count_nouns[cls] or lex.nouns[cls])[0]
            classes = [c for c in self.lex.noun_adj.get(cls, ()) if c in self.lex.evaluative]
            adj = self._pick(lex.adjs[self._pick(classes)] if classes and rng.random() < 0.5
                             else lex.adjs["opinion"])
            return f"What a {adj} {sg}!"
        if r < 0.35:
            cls = self._pick(("flower", "bird", "baked", "fruit", "clothes", "toy", "tree"))
            return f"What {self._pick(lex.adjs['opinion'])} {self._count_word(cls, True)}!"
        if r < 0.45:
            s = self._subject()
            return f"{self._pick(self.lex.exclaim_openers)}, {s[0]} {self._activity(s, self._pick(('past', 'perf', 'perf', 'nperf')))}!"
        if r < 0.55:
            cls = self._pick(("dish", "baked", "fruit", "meal"))
            return (f"This {self._count_word(cls)} is "
                    f"{self._pick(('so', 'really', 'absolutely', 'incredibly'))} {self._pick(lex.adjs['food'])}!")
        if r < 0.65:
            return f"{self._pick(self.lex.greetings)}, {self._name()}!"
        if r < 0.75:
            cls = self._pick(("bird", "flower", "farm", "wild", "tree", "insect"))
            return f"{self._pick(self.lex.look_at)} {self._count_word(cls, True)}!"
        if r < 0.85:
            return self._pick(self.lex.exclamations)
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
