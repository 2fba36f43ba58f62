"""Verb phrases and clauses: conjugation by tense and person, objects, activities, place and time adjuncts."""
from __future__ import annotations

from corpus.filler.grammar import _BE, _BE_NEG, _MODALS, _NEGATIVE, _TENSE_FAMILY, _bisect, _join_list


class Verbs:
    """Mixin of FillerGenerator: verb phrases and whole clauses."""

    def _conj(self, verb: str, tense: str, p: int, adv: str | None = None) -> str:
        if tense in ("prog", "pastprog") and verb.split(" ", 1)[0] in self.lex.stative:
            tense = "pres" if tense == "prog" else "past"
        return self._conj_raw(verb, tense, p, adv)

    def _conj_raw(self, verb: str, tense: str, p: int, adv: str | None = None) -> str:
        """Conjugate a verb phrase ('get up', 'look for') for person p in a tense.

        Tenses: base, ing, pp, pres, past, fut, going, prog, pastprog, perf, pluperf, npres,
        npast, nfut, nperf, can, could, should, might, must, would, usedto, ncan, ncould,
        nshould, may, wantto, needto, haveto, hopeto, planto."""
        head, sep, rest = verb.partition(" ")
        forms = self.lex.verbs[head]
        tail = sep + rest
        pre = adv + " " if adv else ""
        if tense == "base":
            return forms[0] + tail
        if tense == "ing":
            return forms[4] + tail
        if tense == "pp":
            return forms[3] + tail
        if tense == "pres":
            if head == "be":
                return _BE["pres", p] + (" " + adv if adv else "") + tail
            return pre + (forms[1] if p == 1 else forms[0]) + tail
        if tense == "past":
            if head == "be":
                return _BE["past", p] + (" " + adv if adv else "") + tail
            return pre + forms[2] + tail
        if tense in _MODALS:
            return f"{_MODALS[tense]} {pre}{forms[0]}{tail}"
        if tense == "going":
            return f"{_BE['pres', p]} {pre}going to {forms[0]}{tail}"
        if tense == "prog":
            return f"{_BE['pres', p]} {pre}{forms[4]}{tail}"
        if tense == "pastprog":
            return f"{_BE['past', p]} {pre}{forms[4]}{tail}"
        if tense == "perf":
            return f"{'has' if p == 1 else 'have'} {pre}{forms[3]}{tail}"
        if tense == "pluperf":
            return f"had {pre}{forms[3]}{tail}"
        if tense == "npres":
            if head == "be":
                return _BE_NEG["pres", p] + tail
            return f"{'doesn' if p == 1 else 'don'}'t {forms[0]}{tail}"
        if tense == "npast":
            if head == "be":
                return _BE_NEG["past", p] + tail
            return f"didn't {forms[0]}{tail}"
        if tense == "nperf":
            return f"{'hasn' if p == 1 else 'haven'}'t {forms[3]}{tail}"
        if tense == "wantto":
            return f"{'wants' if p == 1 else 'want'} to {forms[0]}{tail}"
        if tense == "needto":
            return f"{'needs' if p == 1 else 'need'} to {forms[0]}{tail}"
        if tense == "haveto":
            return f"{'has' if p == 1 else 'have'} to {forms[0]}{tail}"
        if tense == "hopeto":
            return f"{'hopes' if p == 1 else 'hope'} to {forms[0]}{tail}"
        if tense == "planto":
            return f"{'is' if p == 1 else 'am' if p == 0 else 'are'} planning to {forms[0]}{tail}"
        raise ValueError(f"unknown tense {tense!r}")

    def _freq_adv(self, tense: str) -> str | None:
        if self._no_adv:
            return None
        if tense == "pres" and self.rng.random() < 0.15:
            return self._pick(self.lex.advs["frequency"])
        if tense in ("past", "perf", "fut") and self.rng.random() < 0.05:
            return self._pick(("always", "never", "often", "sometimes", "usually", "rarely"))
        return None

    def _object_frame(self, classes=None) -> tuple[str, str, str | None]:
        """(class, verb, det) for a transitive verb phrase (from the given classes, if any)."""
        rng = self.rng
        if classes:
            cls = self._pick(classes)
        else:
            cls = self._frame_classes[_bisect(self._cum_frame, rng.random() * self._cum_frame[-1])]
        verb, det = self._pick(self.lex.frames[cls])
        return cls, verb, det

    def _activity(self, subj: tuple, tense: str, adv: str | None = None) -> str:
        parts = self._pick(self._compiled_activities)
        text = self._fill(parts, poss=subj[4], refl=subj[5])
        verb, _, rest = text.partition(" ")
        if rest and tense in _NEGATIVE:
            rest = (" " + rest + " ").replace(" some ", " any ").strip()
        return self._conj(verb, tense, subj[1], adv) + (" " + rest if rest else "")

    def _vp(self, subj: tuple, tense: str, kind: str | None = None) -> str:
        """A verb phrase agreeing with the subject tuple, in the tense. Sets self._last_cls to the
        object's noun class (or None), so that a place adjunct can suit it."""
        rng = self.rng
        p, poss = subj[1], subj[4]
        adv = self._freq_adv(tense)
        self._last_cls = None
        self._last_adv = adv
        self._last_kind = "obj"
        r = rng.random() if kind is None else {"obj": 0.0, "act": 0.5, "intr": 0.75, "motion": 0.85,
                                               "cop": 0.92}[kind]
        if r < 0.42:
            cls, verb, det = self._object_frame()
            self._last_cls = cls
            obj = self._np(cls, det, poss=poss)
            if tense in _NEGATIVE and obj.startswith("some "):
                obj = "any " + obj[5:]
            if cls == "body" and subj[2] in ("we", "they") and not obj.endswith("s"):
                obj = self._np_plural_body(obj)
            return self._conj(verb, tense, p, adv) + " " + obj
        if r < 0.75:
            self._last_kind = "act"
            return self._activity(subj, tense, adv)
        if r < 0.85:
            self._last_kind = "intr"
            if rng.random() < 0.55:
                vp = self._conj(self._pick(self.lex.durative), tense, p, adv)
                if rng.random() < 0.45:
                    vp += " " + self._pick(self.lex.durative_adverbials)
            else:
                vp = self._conj(self._pick(self.lex.punctual), tense, p, adv)
                if rng.random() < 0.45:
                    vp += " " + self._pick(self.lex.punctual_adverbials)
            return vp
        self._last_kind = "other"
        if r < 0.92:
            verb = self._pick(self.lex.motion_verbs)
            return self._conj(verb, tense, p, adv) + " " + self._destination()
        # copular
        verb = self._pick(self.lex.copulas)
        if verb == "be" and tense in ("base", "ing", "prog", "pastprog"):
            verb = self._pick(("feel", "look", "get"))
        if verb == "be" and rng.random() < 0.3:
            return self._conj("be", tense, p, adv) + " " + self._place()
        if verb == "get":
            adj = self._pick(self.lex.get_adjectives)
        elif verb == "stay":
            adj = self._pick(self.lex.stay_adjectives)
        else:
            adj = self._pick(self.lex.adjs["feeling"])
            if rng.random() < 0.25:
                adj = self._pick(self.lex.intensifiers) + " " + adj
        return self._conj(verb, tense, p, adv) + " " + adj

    def _clause(self, tense: str, subj: tuple | None = None, extras: float = 0.5) -> str:
        """Subject + verb phrase (+ place) (+ time)."""
        rng = self.rng
        subj = subj or self._subject()
        text = subj[0] + " " + self._vp(subj, tense)
        if self._last_kind in ("obj", "intr") and rng.random() < extras * 0.6:
            places = self.lex.class_places.get(self._last_cls) if self._last_cls else None
            text += " " + (self._pick(places) if places and rng.random() < 0.85 else self._place())
        if rng.random() < extras and not self._last_adv and tense != "npres":
            text += " " + self._time(_TENSE_FAMILY.get(tense, "past"))
        return text

    def _tense(self) -> str:
        r = self.rng.random()
        return ("past" if r < 0.4 else "pres" if r < 0.58 else "fut" if r < 0.65 else
                "going" if r < 0.69 else "prog" if r < 0.75 else "pastprog" if r < 0.79 else
                "perf" if r < 0.86 else "npast" if r < 0.9 else "npres" if r < 0.93 else
                self._pick(("can", "might", "should", "usedto", "wantto", "needto", "haveto",
                            "nfut", "nperf", "would", "could")))

    def _activity_list(self, subj: tuple, tense: str) -> str:
        n = self.rng.randint(2, 4)
        items, seen = [], set()
        for _ in range(n * 3):
            a = self._activity(subj, tense)
            head = a.split()[0]
            if head not in seen:
                seen.add(head)
                items.append(a)
            if len(items) == n:
                break
        return _join_list(items)
