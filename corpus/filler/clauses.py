"""Lists and relative clauses: 'I bought apples, pears and plums', 'the man who lives next door', 'whose dog ...'."""
from __future__ import annotations

from corpus.filler.grammar import _G3, _PRONOUNS, _TENSE_FAMILY, _join_list


class Clauses:
    """Mixin of FillerGenerator: list sentences and relative clauses."""

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
            where = " " + self._pick(self.lex.class_places.get(cls, self.lex.places)) if rng.random() < 0.35 else ""
            return f"{subj[0]} {self._conj(verb, tense, subj[1])} {self._list(cls)}{where}{self._opt_time(_TENSE_FAMILY[tense])}."
        if r < 0.7:
            tense = self._pick(("past", "past", "pres", "fut", "going"))
            t = self._time(_TENSE_FAMILY[tense])
            body = f"{subj[0]} {self._activity_list(subj, tense)}"
            return f"{t[0].upper() + t[1:]}, {body}." if rng.random() < 0.5 else f"{body} {t}."
        if r < 0.85:
            cls, wheres = self._pick(self.lex.full_of)
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
        noun, preds = self._pick(self.lex.whose)
        verb = self._conj(self._pick(("meet", "see", "talk to", "thank", "help", "visit", "call")), "past", s[1])
        return f"{s[0]} {verb} {np} whose {noun} {self._pick(preds)}."
