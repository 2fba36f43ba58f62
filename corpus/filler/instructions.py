"""Imperatives: commands, house rules, recipe steps and directions."""
from __future__ import annotations

from corpus.filler.grammar import _PRONOUNS
from corpus.filler.morphology import _ORDINALS


class Instructions:
    """Mixin of FillerGenerator: sentences that tell someone what to do."""

    def _imperative(self) -> str:
        rng = self.rng
        you = _PRONOUNS["you"]
        r = rng.random()
        if r < 0.3:
            pre = self._pick(self.lex.imperative_openers)
            who = _PRONOUNS["we"] if pre in ("Let's ", "We need to ") else you
            post = self._pick(("", "", "", " " + self._time("fut"), " before you go",
                               " when you get home", " first", " after dinner", ", please",
                               " while I'm out", " before it gets dark", " if you have time"))
            if "lease" in pre and post == ", please":
                post = ""
            end = "?" if pre in ("Could you please ", "Why not ", "Could you ") else "."
            act = self._activity(who, "base")
            if pre == "Go and " and act.startswith("go "):
                pre = ""
            if pre.startswith(("Don't", "Please don't", "Never")):
                act = act.replace(" some ", " any ")
            return f"{pre}{act}{post}{end}"
        if r < 0.5:
            cls, verb, det = self._object_frame(self.lex.imperative_classes)
            pre = self._pick(("", "", "Please ", "Carefully ", "Quickly ", "Go and ", "Just "))
            post = self._pick(("", "", " for me", " now", " later", " first", " when you can")
                              + (() if pre == "Please " else (", please",)))
            np = self._np(cls, det if det else self._pick(("the", "the", "your", "some", "a")), poss="your")
            return f"{pre}{self._conj(verb, 'base', 2)} {np}{post}."
        if r < 0.75:
            return self._recipe_step()
        if r < 0.9:
            return self._directions()
        return self._pick(self.lex.house_rules)

    def _recipe_step(self) -> str:
        rng = self.rng
        k = rng.randint(0, 7)
        if k == 0:
            veg = self._count_word(self._pick(("veg", "fruit")), plural=True)
            return (f"{self._pick(('Chop', 'Slice', 'Peel', 'Wash', 'Dice', 'Grate', 'Halve'))} the {veg} "
                    f"and {self._pick(('fry', 'roast', 'boil', 'steam', 'simmer', 'toss', 'grill'))} them "
                    f"for {self._num(2, 30)} minutes.")
        if k == 1:
            amount, unit = self._pick((("two", "cups"), ("three", "spoonfuls"), ("a", "handful"),
                                       ("half a", "cup"), ("a", "pinch"), ("two", "tablespoons"),
                                       ("a", "teaspoon"), ("a", "splash"), ("a", "knob")))
            return f"Add {amount} {unit} of {self._pick(self.lex.mass_nouns['pantry'])[0]} and stir well."
        if k == 2:
            return f"Preheat the oven and grease {self._pick(('a baking tray', 'the cake tin', 'a large dish', 'two tins'))}."
        if k == 3:
            return (f"Bake for {self._num(15, 50)} minutes until "
                    f"{self._pick(('golden', 'golden brown', 'crisp', 'firm', 'bubbling', 'cooked through', 'risen'))}.")
        if k == 4:
            return (f"Leave the {self._count_word('baked')} to cool before you "
                    f"{self._pick(('slice', 'ice', 'serve', 'cut', 'decorate'))} it.")
        if k == 5:
            return f"Stir in the {self._pick(self.lex.nouns['herb'])[0]} and season with salt and pepper."
        if k == 6:
            return (f"Serve the {self._count_word('dish')} with "
                    f"{self._np(self._pick(('veg', 'baked', 'dairy', 'dish')), 'some', adj_p=0.3)}.")
        return (f"Whisk the eggs with a little {self._pick(('milk', 'cream', 'water', 'sugar'))} "
                f"and pour them into the pan.")

    def _directions(self) -> str:
        k = self.rng.randint(0, 5)
        if k == 0:
            return (f"Turn {self._pick(('left', 'right'))} at the {self._pick(self.lex.landmarks + ('roundabout', 'crossroads', 'traffic lights'))} "
                    f"and keep going until you reach {self._street()}.")
        if k == 1:
            return (f"Take the {self._pick(_ORDINALS[:4])} {self._pick(('road', 'turning', 'street', 'exit'))} "
                    f"on the {self._pick(('left', 'right'))}.")
        if k == 2:
            return (f"Go straight on past the {self._pick(self.lex.landmarks)}, and you'll see the "
                    f"{self._noun_word('shop')} on your {self._pick(('left', 'right'))}.")
        if k == 3:
            return f"Get off the bus at the {self._pick(self.lex.landmarks)} and walk up {self._street()}."
        if k == 4:
            return (f"Follow the path along the {self._pick(('river', 'canal', 'stream', 'beach', 'edge of the wood', 'old railway line'))} "
                    f"for about {self._pick(('ten minutes', 'twenty minutes', 'half an hour', 'a mile', 'an hour'))}.")
        return (f"Park behind the {self._pick(self.lex.landmarks)} and come in "
                f"through the {self._pick(('side door', 'back gate', 'garden', 'main entrance'))}.")
