"""Describing sentence shapes: what things and people are like, 'there is/are', the weather, very short sentences."""
from __future__ import annotations

from corpus.filler.grammar import _G3, _PRONOUNS, PLURAL_ONLY


class Descriptions:
    """Mixin of FillerGenerator: descriptions, existentials, weather and short sentences."""

    def _description(self) -> str:
        rng, lex = self.rng, self.lex
        r = rng.random()
        if r < 0.3:
            cls = self._pick(("room", "shop", "building", "garden_area"))
            adjs = lex.adjs["place"]
            a1 = self._pick(adjs)
            a2 = self._pick(adjs)
            while a2 == a1:
                a2 = self._pick(adjs)
            verb = self._pick(("was", "is", "looked", "felt", "seemed"))
            if rng.random() < 0.6:
                return f"The {self._noun_word(cls)} {verb} {self._pick(self.lex.intensifiers + ('', '', ''))} {a1}."
            return f"The {self._noun_word(cls)} {verb} {a1} {self._pick(('and', 'and very', 'and a bit'))} {a2}."
        if r < 0.5:
            s = self._subject()
            cls = self._pick(("clothes", "misc", "transport_drive", "transport_ride", "furniture", "kitchen", "device"))
            sg, pl, kind = self._noun(cls)
            word, verb = (pl, "are") if kind == PLURAL_ONLY else (sg, "is")
            if rng.random() < 0.5:
                verb = {"are": "were", "is": "was"}[verb]
            owner = s[4].capitalize() if s[0] == s[2] else s[0] + "'s"
            aclass = self._pick(self.lex.noun_adj[cls])
            degree = "" if aclass in ("colour", "material", "shape") else \
                self._pick(("very ", "quite ", "rather ", "really ", "a bit ", "", "", ""))
            new = "new " if rng.random() < 0.3 else ""
            return f"{owner} {new}{word} {verb} {degree}{self._pick(lex.adjs[aclass])}."
        if r < 0.7:
            cls = self._pick(("dish", "baked", "fruit", "drink", "meal"))
            sg, pl, kind = self._noun(cls)
            word, verb = (pl, "were") if kind == PLURAL_ONLY else (sg, "was")
            return f"The {word} {self._pick((verb, 'smelled', 'tasted', 'looked'))} {self._pick(('', 'very ', 'really ', 'a bit ', 'quite ', 'so '))}{self._pick(lex.adjs['food'] if cls != 'drink' else lex.adjs['drink'])}."
        if r < 0.85:
            np, g = self._person_np()
            subj = (np, 1) + _G3[g][2:]
            verb = self._pick(("be", "be", "seem", "look"))
            degree = self._pick(("very", "quite", "rather", "really", "so", "incredibly", "a bit")
                                + (("always",) if verb == "be" else ()))
            people = self.lex.adjs["people"]
            tail = self._pick(("", "", f", but {subj[2]} {self._conj('be', 'pres', 1)} {self._pick(people)}",
                               f" and {self._pick(people)}", f" for {subj[4]} age"))
            return f"{np} {self._conj(verb, self._pick(('pres', 'past')), 1)} {degree} {self._pick(people)}{tail}."
        cls = self._pick(("pet", "farm", "wild", "bird"))
        owner = self._pick(("Our", "My", "The", "Their", "Her", "His")) if cls == "pet" else "The"
        return f"{owner} {self._count_word(cls)} {self._pick(('is', 'was', 'seems', 'looked'))} {self._pick(('very', 'so', 'rather', 'quite', ''))} {self._pick(lex.adjs['animal'])}.".replace("  ", " ")

    def _existential(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            cls = self._pick(tuple(self.lex.class_spots))
            tense = self._pick(("is", "was", "is", "was", "used to be"))
            plural = rng.random() < 0.4 and cls in self.lex.countable_everyday
            if plural:
                tense = {"is": "are", "was": "were", "has been": "have been"}.get(tense, tense)
                np = self._np(cls, self._pick(("num", "q", "some", "some")))
            else:
                np = self._np(cls, "a")
                if self._last_np_plural:
                    tense = {"is": "are", "was": "were"}.get(tense, tense)
            return f"There {tense} {np} {self._pick(self.lex.class_spots[cls])}."
        if r < 0.65:
            be = self._pick(("was", "is"))
            return f"There {be} {self._pick(self.lex.there_was)} {self._place()}{self._opt_time('past' if be == 'was' else 'prog')}."
        if r < 0.8:
            cls = self._pick(("drink", "dairy", "pantry", "dish", "baked", "money", "cleaning", "bathroom"))
            mass = self._pick(self.lex.mass_nouns[cls])[0]
            form = self._pick(("There isn't any {} left.", "There wasn't any {} left.",
                               "There's hardly any {} left.", "There's only a little {} left.",
                               "There wasn't enough {} for everyone.", "There's plenty of {} in the cupboard.",
                               "There was {} all over the floor."))
            return form.format(mass)
        if r < 0.9:
            return f"There's {self._pick(('no point', 'no need', 'no rush', 'no hurry', 'nothing wrong with'))} {self._activity(_PRONOUNS['we'], 'ing')}."
        be = self._pick(("are", "were"))
        return f"There {be} {self._num(2, 12)} {self._pick(self.lex.there_are)}{self._opt_time('past' if be == 'were' else 'prog')}."

    def _weather(self) -> str:
        rng, lex = self.rng, self.lex
        r = rng.random()
        w = lex.adjs["weather"]
        if r < 0.3:
            return f"It {self._pick(('was', 'is', 'has been', 'will be', 'was rather', 'is getting', 'stayed'))} {self._pick(w)} {self._pick(('all day', 'all week', 'this morning', 'since Monday', 'for days', 'in the afternoon', 'today', 'overnight', 'again', 'at the weekend', 'by the coast', 'up on the hills'))}."
        if r < 0.5:
            return f"It {self._pick(('rained', 'snowed', 'poured', 'drizzled', 'hailed'))} {self._pick(('all night', 'all morning', 'for hours', 'on and off all day', 'just as we left', 'the whole weekend', 'while we were out', 'again'))}."
        if r < 0.7:
            return f"The {self._pick(('forecast', 'weather', 'radio', 'news'))} {self._pick(('says', 'said'))} it {self._pick(('will be', 'is going to be', 'would be', 'might be'))} {self._pick(w)} {self._time('fut')}."
        if r < 0.85:
            s = self._subject(self._pick(("1", "1", "3", "pl")))
            weather = self._pick(lex.nouns["weather_noun"])[0]
            act = self._conj(self._pick(self.lex.weather_activities), self._pick(("past", "past", "npast")), s[1])
            return f"{self._pick(('After', 'Despite', 'Because of', 'In spite of'))} the {weather}, {s[0]} {act}."
        return f"{self._pick(('What', 'Such'))} {self._pick(('lovely', 'awful', 'horrible', 'beautiful', 'strange', 'miserable', 'glorious'))} weather {self._pick(('we are having', 'we had', 'for the time of year', 'today'))}{self._pick(('!', '.'))}"

    def _short(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            s = self._subject(self._pick(("i", "we", "pro3", "pro3", "3", "they")))
            verb = self._pick(self.lex.short_verbs)
            return f"{s[0]} {self._conj(verb, self._pick(('past', 'past', 'past', 'perf', 'npast')), s[1])}."
        if r < 0.6:
            return self._pick(self.lex.short_sentences)
        if r < 0.8:
            subject, verbs = self._pick(self.lex.thing_verbs)
            return f"The {subject} {self._conj(self._pick(verbs), 'past', 1)}."
        if r < 0.9:
            return f"{self._pick(('It was', 'It is', 'It feels', 'It looked', 'The day was', 'The morning was', 'The sky was', 'The evening was'))} {self._pick(self.lex.adjs['weather'])}."
        s = self._subject(self._pick(("i", "pro3", "3", "we")))
        return f"{s[0]} {self._conj(self._pick(('feel', 'be', 'look', 'seem', 'get')), 'past', s[1])} {self._pick(self.lex.adjs['feeling'])}."
