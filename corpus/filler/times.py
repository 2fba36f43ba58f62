"""Times, dates, durations and the numbers-and-quantities sentence shape."""
from __future__ import annotations

from corpus.filler.grammar import _MONTHS, _PARTS_OF_DAY, _SEASONS, _TENSE_FAMILY, _WEEKDAYS
from corpus.filler.morphology import _ORDINALS, number_words


class Times:
    """Mixin of FillerGenerator: time expressions that suit a tense, and sentences about numbers."""

    def _clock(self, lo: int = 1, hi: int = 12) -> str:
        rng = self.rng
        h = rng.randint(lo, hi)
        r = rng.random()
        if r < 0.3:
            return number_words(h) + " o'clock"
        if r < 0.45:
            return "half past " + number_words(h)
        if r < 0.55:
            return "quarter past " + number_words(h)
        if r < 0.65:
            return "quarter to " + number_words(h)
        if r < 0.72:
            return self._pick(("five", "ten", "twenty", "twenty-five")) + " past " + number_words(h)
        if r < 0.78:
            return self._pick(("noon", "midnight", "lunchtime", "teatime", "dawn"))
        if r < 0.9:
            return f"{h}:{self._pick(('00', '05', '10', '15', '20', '30', '40', '45', '50'))}"
        return f"{h} {self._pick(('am', 'pm'))}"

    def _duration(self) -> str:
        rng = self.rng
        unit = self._pick(("minute", "hour", "day", "week", "month", "year"))
        r = rng.random()
        if r < 0.2:
            return "an hour" if unit == "hour" else "a " + unit
        if r < 0.35:
            return "a couple of " + unit + "s"
        if r < 0.5:
            return "a few " + unit + "s"
        if r < 0.58:
            return "half an hour" if unit in ("minute", "hour") else "half a " + unit
        if r < 0.65:
            return "ages"
        n = rng.randint(2, 12) if unit != "minute" else rng.choice((5, 10, 15, 20, 25, 30, 40, 45))
        if self._chance(0.15):
            return f"{n} {unit}s"
        return f"{number_words(n)} {unit}s"

    def _time(self, family: str) -> str:
        """A time expression that suits a tense family (past, pres, prog, fut, perf)."""
        rng = self.rng
        r = rng.random()
        # the draw comes first, whatever the family, so every family uses the same stream of draws
        if family == "past":
            return self._time_past(r)
        if family == "pres":
            return self._time_pres(r)
        if family == "prog":
            return self._time_prog()
        if family == "fut":
            return self._time_fut(r)
        return self._time_perf(r)

    def _time_past(self, r: float) -> str:
        if r < 0.12:
            return self._pick(("yesterday", "last night", "the other day", "this morning",
                               "earlier today", "at the weekend", "over the weekend",
                               "years ago", "a while ago", "recently", "last time"))
        if r < 0.25:
            return "last " + self._pick(_WEEKDAYS + list(_SEASONS) + ["week", "month", "year",
                                                                      "weekend", "night"])
        if r < 0.35:
            return "on " + self._pick(_WEEKDAYS) + self._pick(("", "", " morning", " afternoon",
                                                               " evening", " night"))
        if r < 0.45:
            return f"{self._num(2, 10)} {self._pick(('days', 'weeks', 'months', 'years'))} ago"
        if r < 0.55:
            return "in " + (self._pick(_MONTHS) if self._chance(0.6) else self._year())
        if r < 0.65:
            return "at " + self._clock()
        if r < 0.75:
            return self._pick(("after lunch", "before dinner", "after work", "after school",
                               "before breakfast", "after the party", "during the holidays",
                               "over the summer", "at lunchtime", "in the afternoon",
                               "in the middle of the night", "first thing this morning"))
        if r < 0.82:
            return "yesterday " + self._pick(_PARTS_OF_DAY)
        if r < 0.9:
            return "when I was " + self._pick(("little", "younger", "a student", "at school",
                                               "a teenager", "small", "ten", "in my twenties"))
        return "on the " + self._pick(_ORDINALS) + " of " + self._pick(_MONTHS)

    def _time_pres(self, r: float) -> str:
        if r < 0.2:
            return "every " + self._pick(("day", "morning", "evening", "night", "week",
                                          "weekend", "summer", "winter", "year", "month",
                                          "other day") + tuple(_WEEKDAYS))
        if r < 0.3:
            return "on " + self._pick(_WEEKDAYS) + "s"
        if r < 0.45:
            return self._pick(("at weekends", "in the evenings", "in the mornings",
                               "most mornings", "most days", "before work", "after work",
                               "after school", "on Sunday afternoons", "during the week",
                               "in the summer", "in winter", "at night", "on holiday",
                               "these days", "nowadays", "whenever it rains",
                               "when the weather is nice"))
        if r < 0.6:
            return self._pick(("once", "twice", "three times", "four times")) + " a " + \
                self._pick(("day", "week", "month", "year"))
        if r < 0.7:
            return "at " + self._clock() + " every " + self._pick(("morning", "day", "evening",
                                                                  "night"))
        return self._pick(("every Saturday morning", "every Friday night", "in the holidays",
                           "first thing in the morning", "last thing at night",
                           "every now and then", "from time to time", "all year round"))

    def _time_prog(self) -> str:
        return self._pick(("right now", "at the moment", "today", "this week", "this morning",
                           "this afternoon", "this evening", "these days", "again",
                           "all day", "tonight", "this month", "for a change"))

    def _time_fut(self, r: float) -> str:
        if r < 0.2:
            return self._pick(("tomorrow", "tonight", "later", "soon", "later today",
                               "this weekend", "tomorrow morning", "tomorrow night",
                               "in the morning", "one day", "next time", "after lunch",
                               "after work", "before the end of the week"))
        if r < 0.4:
            return "next " + self._pick(_WEEKDAYS + list(_SEASONS) + ["week", "month", "year",
                                                                      "weekend", "time"])
        if r < 0.55:
            return "on " + self._pick(_WEEKDAYS)
        if r < 0.68:
            return f"in {self._pick(('a few', 'two', 'three', 'a couple of'))} " + \
                self._pick(("days", "weeks", "months", "hours"))
        if r < 0.8:
            return "at " + self._clock()
        if r < 0.9:
            return "in " + self._pick(_MONTHS)
        return "this " + self._pick(_PARTS_OF_DAY + _SEASONS + ("week", "weekend", "year"))

    def _time_perf(self, r: float) -> str:
        if r < 0.4:
            return self._pick(("recently", "lately", "this year", "this week", "already", "all day",
                               "this month", "so far", "since then", "all week", "all morning",
                               "for ages", "twice this week"))
        if r < 0.7:
            return "since " + self._pick(_MONTHS + _WEEKDAYS + ["the summer", "Christmas", "lunch",
                                                               "last year", "the spring"])
        return "for " + self._duration()

    def _opt_time(self, family: str) -> str:
        return " " + self._time(family) if self.rng.random() < 0.35 else ""

    def _numbers(self) -> str:
        rng = self.rng
        r = rng.random()
        s = self._subject()
        if r < 0.2:
            verb = self._pick(("buy", "need", "order", "bring", "find", "pack", "get", "borrow"))
            tense = self._pick(("past", "past", "perf", "fut"))
            return (f"{s[0]} {self._conj(verb, tense, s[1])} "
                    f"{self._np(self._pick(self.lex.buyable), 'num')}{self._opt_time(_TENSE_FAMILY[tense])}.")
        if r < 0.35:
            cls = self._pick(("transport_public", "work_event", "show", "sport_event", "exam", "screen"))
            verb = self._pick(("starts", "leaves", "finishes", "begins", "ends", "started", "finished")
                              if cls == "transport_public" else
                              ("starts", "finishes", "begins", "ends", "started", "finished"))
            return f"The {self._count_word(cls)} {verb} at {self._clock()}."
        if r < 0.5:
            tense = self._pick(("perf", "perf", "past", "pluperf"))
            if s[1] == 2 and rng.random() < 0.3:
                return f"{s[0]} {self._conj('know', tense, 2)} each other for {self._duration()}."
            verb = self._pick(("live", "work", "wait", "stay", "study", "volunteer", "sing"))
            where = self._pick(("here", "there", "in " + self._town(), "at the " + self._noun_word("building"),
                                "on " + self._street()))
            return f"{s[0]} {self._conj(verb, tense, s[1])} {where} for {self._duration()}."
        return self._numbers_dates_and_counts(s, r)

    def _numbers_dates_and_counts(self, s: tuple, r: float) -> str:
        """The second half of the numbers shape: years, ages, journey times, counts, dates."""
        rng = self.rng
        if r < 0.62:
            event = self._pick(("move", "start work", "leave school", "get married", "buy a house",
                                "learn to drive", "start a business", "retire", "move house",
                                "open a shop", "join the choir", "run a marathon", "get a dog",
                                "pass {poss} driving test", "meet {poss} partner", "start university"))
            event = event.replace("{poss}", s[4])
            return f"{s[0]} {self._conj(event, 'past', s[1])} in {self._year()}."
        if r < 0.72:
            if rng.random() < 0.4:
                sg, _, g = self._pick(self.lex.children)
                who, age = f"{self._pick(('my', 'our'))} {sg}", rng.randint(2, 17)
            else:
                who, age = self._person_np()[0], rng.randint(18, 95)
            when = self._pick(("", "", " next week", " on " + self._pick(_WEEKDAYS),
                               " in " + self._pick(_MONTHS)))
            verb = self._pick(("turns", "will be", "is nearly", "is", "is going to be"))
            if rng.random() < 0.35:
                verb = self._pick(("turned", "was only", "was"))
                when = self._pick(("", " last week", " on " + self._pick(_WEEKDAYS), " in " + self._pick(_MONTHS)))
            return f"{who} {verb} {number_words(age)}{when}."
        if r < 0.82:
            how = self._pick(("about", "nearly", "almost", "less than", "more than", "exactly", "roughly"))
            span = self._pick(("ten minutes", "twenty minutes", "half an hour", "an hour", "five minutes",
                               "forty minutes", "two hours", "a quarter of an hour"))
            where = self._pick(("", "", " from here", " from our house", " on a good day",
                                " in the rush hour"))
            return f"It takes {how} {span} to {self._pick(('walk', 'drive', 'cycle', 'get'))} {self._destination()}{where}."
        if r < 0.9:
            amount = str(rng.randint(3, 400)) if rng.random() < 0.5 else self._num(3, 60)
            pre = self._pick(("only ", "about ", "exactly ", "at least ", "more than ", "nearly ", ""))
            be = self._pick(("are", "were"))
            return f"There {be} {pre}{amount} {self._pick(self.lex.there_are)}{self._opt_time('past' if be == 'were' else 'prog')}."
        if r < 0.95:
            thing = self._pick(("Room", "Platform", "Gate", "Bus", "Flat", "House number", "Table",
                                "Seat", "Locker", "Page"))
            state = self._pick(("on the left", "on the right", "closed", "at the end of the corridor",
                                "upstairs", "free", "ours", "empty", "next to the lift", "missing"))
            return f"{thing} {rng.randint(1, 99)} {self._pick(('is', 'was'))} {state}."
        cls = self._pick(("sport_event", "exam", "show", "event"))
        return (f"The {self._count_word(cls)} {self._pick(('is', 'was', 'will be'))} on "
                f"{self._pick(_WEEKDAYS)} the {self._pick(_ORDINALS)}.")
