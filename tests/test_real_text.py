"""The real-text evaluation (model/evaluation/: texts.py, typists.py, keystrokes.py, lambada.py, real_text.py):
LAMBADA targets and scoring, keystroke savings, the baseline's typist, perplexity of a text file, the CLI."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from model.cache import OFF, CacheSettings
from model.checkpoint import load_latest
from model.evaluation.cache_scoring import fit_ngram
from model.evaluation.keystrokes import (
    count_keystrokes,
    keystroke_savings,
    placed_keystrokes,
    typing_steps,
    word_keystrokes,
)
from model.evaluation.lambada import (
    LastWord,
    is_known_word,
    lambada_predictions,
    lambada_target,
    last_word_passages,
    score_lambada,
    unpredictable_locally,
)
from model.evaluation.real_text import main, text_perplexity
from model.evaluation.texts import read_documents, read_lambada, split_articles
from model.evaluation.typists import (
    NeuralTypist,
    NgramTypist,
    RecencySettings,
    ending_mask,
    recency_target_probs,
    tune_recency,
    word_id,
)
from model.predict import Prediction, Predictor
from model.tokenizer import is_word

REAL_LAMBADA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "lambada" / "lambada_test.jsonl"


@pytest.fixture(scope="module")
def predictor(tiny_models_dir) -> Predictor:
    return Predictor(load_latest(tiny_models_dir))


# ---------------------------------------------------------------- LAMBADA


@pytest.mark.parametrize(("text", "prompt", "target"), [
    ("He looked up at the sky.", "He looked up at the", "sky"),  # trailing full stop
    ("Nobody moved until she said \"Run!\"\n", "Nobody moved until she said \"", "Run"),  # quoted, the quote stays in the prompt
    ("\"Will you come?\" he asked. I said I don't.", "\"Will you come?\" he asked. I said I", "don't"),  # an apostrophe word
    ("They walked on.\n\nIt was Helen", "They walked on.\n\nIt was", "Helen"),  # no punctuation, line breaks kept
])
def test_lambada_target(text, prompt, target):
    assert lambada_target(text) == (prompt, target)


def test_lambada_target_refuses_a_passage_without_a_final_word():
    with pytest.raises(ValueError):
        lambada_target("It ended with ...")


def test_top_words_offers_only_words(predictor):
    # After "sky" the likeliest token is "." and <eos>; ranking the whole vocabulary must still show words only.
    state = predictor.advance(predictor.encode("The clouds are in the sky"))
    everything = predictor.top_words(state, predictor.tokenizer.vocab_size)
    assert everything and all(is_word(p.word) for p in everything)
    assert not {".", ",", "<unk>", "<eos>", "<pad>"} & {p.word for p in everything}


def test_known_word_means_one_offerable_token(predictor):
    assert is_known_word(predictor, "French") and is_known_word(predictor, "sky")
    assert not is_known_word(predictor, "zebrafish")  # <unk>
    assert not is_known_word(predictor, "sky-milk")  # three tokens
    assert not is_known_word(predictor, ".")  # a token, but not a word


def test_score_lambada_on_the_tiny_models_own_sentences(predictor):
    passages = [
        "I grew up in France. I speak fluent French.",
        "The clouds are in the sky.",
        "She poured milk into her zebrafish.",  # not in the vocabulary: cannot be hit
    ]
    score = score_lambada(predictor, passages, k=5)
    assert score.n == 3 and score.k == 5
    assert score.oov_share == round(1 / 3, 4)
    assert score_lambada(predictor, passages[:1]).top1 == 1.0  # "French", first
    assert score.top1 == round(2 / 3, 4) and score.topk == round(2 / 3, 4)


class FixedTypist(NeuralTypist):
    """The tiny model's typist, with its candidates and their ending probabilities given."""

    def __init__(self, predictor, candidates: dict[str, tuple[float, float]]) -> None:
        super().__init__(predictor)
        self.candidates = candidates

    def top(self, n):
        ranked = sorted(self.candidates.items(), key=lambda item: -item[1][0])[:n]
        return [Prediction(word, p) for word, (p, _) in ranked]

    def ending_probabilities(self, words):
        return np.array([self.candidates[w][1] for w in words])


def test_ranked_as_the_last_word_by_probability_times_the_ending(predictor):
    """p(w) · p(no word follows w)^weight over the first `candidates` next words: "the" (likeliest, but
    never ends a text) falls behind a word that does; weight 0 is the next-word ranking."""
    typist = FixedTypist(predictor, {"the": (0.5, 0.001), "sky": (0.2, 0.6), "French": (0.1, 0.9), "a": (0.05, 0.0)})
    prompt = "I grew up in France. I speak fluent"
    assert lambada_predictions(typist, prompt, 4, LastWord(candidates=10, weight=1.0)) == ["sky", "French", "the", "a"]
    assert lambada_predictions(typist, prompt, 2, LastWord(candidates=10, weight=2.0)) == ["French", "sky"]
    assert lambada_predictions(typist, prompt, 2, LastWord(candidates=2, weight=1.0)) == ["sky", "the"]
    assert lambada_predictions(typist, prompt, 2, LastWord(candidates=10, weight=0.0)) == ["the", "sky"]


def test_ending_probabilities_are_each_systems_own(predictor, tiny_corpus):
    """The neural typist's batch and the 5-gram's, against the next-token distribution after each word read
    one at a time: the share of punctuation and line ends; a copied word reads as <unk>."""
    words = ["sky", "the", "French", "Zorblax"]
    assert word_id(predictor, "Zorblax") == predictor.tokenizer.unk_id
    mask = ending_mask(predictor)
    assert mask[predictor.tokenizer.eos_id] and not mask[predictor.tokenizer.unk_id] and mask.sum() >= 2
    typist = NeuralTypist(predictor, OFF)
    ids, spellings = predictor.encode_with_spellings("The clouds are in the")
    typist.feed(ids, spellings)
    expected = [predictor.next_word_probabilities(predictor.advance([word_id(predictor, w)], typist.state)).numpy()[mask].sum()
                for w in words]
    assert typist.ending_probabilities(words) == pytest.approx(expected, abs=1e-5)
    assert typist.ending_probabilities(["sky"])[0] > 0.5 > typist.ending_probabilities(["the"])[0]
    ngram = NgramTypist(predictor, fit_ngram(predictor.loaded, tiny_corpus / "train.txt"))
    ngram.feed(ids, spellings)
    context = ids[-(ngram.ngram.order - 2):]
    assert ngram.ending_probabilities(words) == pytest.approx(
        [ngram.ngram.distribution(context + [word_id(predictor, w)])[mask].sum() for w in words])


def test_score_lambada_ranked_as_the_last_word(predictor):
    passages = ["I grew up in France. I speak fluent French.", "The clouds are in the sky."]
    score = score_lambada(predictor, passages, k=5, last_word=LastWord())
    assert score.n == 2 and score.top1 == 1.0


@pytest.mark.skipif(not REAL_LAMBADA.is_file(), reason=f"{REAL_LAMBADA} is not here (shared data not mounted)")
def test_real_lambada_targets_are_words():
    passages = read_lambada(REAL_LAMBADA, limit=3)
    assert len(passages) == 3
    for text in passages:
        prompt, target = lambada_target(text)
        assert target and target.isalpha(), target
        assert prompt and text.startswith(prompt)


# ---------------------------------------------------------------- keystroke savings


def fake_suggester(table: dict[str, list[str]], calls: list[str], k: int = 3):
    """The first k words of table[prefix] that were not passed over (the words ranked for that prefix)."""
    def suggest(prefix: str, passed_over=()) -> list[str]:
        calls.append(prefix)
        return [w for w in table.get(prefix, []) if w.lower() not in passed_over][:k]
    return suggest


def test_count_keystrokes_on_a_hand_worked_example():
    calls: dict[str, list[str]] = {w: [] for w in ("the", "cat", "sat", "mat")}
    typing = [
        # "the": suggested before any letter ("The": case does not matter) → 1 keystroke (of 3 letters + space = 4)
        ("the", fake_suggester({"": ["The", "a", "I"]}, calls["the"])),
        # "cat": typed c, a, then taken → 3 keystrokes (of 4)
        ("cat", fake_suggester({"": ["dog", "a", "the"], "c": ["car", "can", "cup"], "ca": ["cab", "cat"]}, calls["cat"])),
        # "sat": offered only once it is typed in full, which is too late → 3 letters + space = 4 (of 4)
        ("sat", fake_suggester({"sat": ["sat"]}, calls["sat"])),
        # "mat": typed m, then "MAT" taken → 2 keystrokes (of 4)
        ("mat", fake_suggester({"m": ["MAT"]}, calls["mat"])),
    ]
    count = count_keystrokes(typing)
    assert count.per_word == (1, 3, 4, 2)
    assert (count.keystrokes, count.letters_and_spaces) == (10, 16)
    assert count.words == 4 and count.savings == pytest.approx(1 - 10 / 16)
    # Suggestions are asked for before each letter, never after the last one.
    assert calls == {"the": [""], "cat": ["", "c", "ca"], "sat": ["", "s", "sa"], "mat": ["", "m"]}


def test_words_passed_over_are_not_shown_again_for_the_same_word():
    """"this": "" shows the, a, I; after "t" the ranking is the, they, that, this. Without repeats the
    slots go to they, that, this: taken at the second keystroke. Shown again, the, they, that hold the
    slots after "t" and after "th" too: "this" waits for "thi" → 4 keystrokes."""
    table = {"": ["the", "a", "I", "and"], "t": ["the", "they", "that", "this"], "th": ["the", "they", "that", "this"],
             "thi": ["this", "thing"]}
    assert word_keystrokes("this", fake_suggester(table, [])) == 2
    assert word_keystrokes("this", fake_suggester(table, []), repeat=True) == 4
    # The next word starts afresh: what was passed over for "this" may be offered for it.
    typing = [("this", fake_suggester(table, [])), ("the", fake_suggester(table, []))]
    assert count_keystrokes(typing).per_word == (2, 1)


def test_each_word_is_placed_by_how_far_back_it_was_last_written_in_its_document(predictor):
    documents = [["the dog saw the cat . The dog ran"], ["the end"]]
    placed = placed_keystrokes(NeuralTypist(predictor), documents)
    assert placed.words == ("the", "dog", "saw", "the", "cat", "The", "dog", "ran", "the", "end")
    assert placed.distances == (None, None, None, 3, None, 2, 5, None, None, None)  # each document afresh
    assert placed.count == count_keystrokes(typing_steps(NeuralTypist(predictor), documents))
    groups = placed.by_distance(edges=(0, 2, 4))
    assert [(g["distance"], g["words"]) for g in groups] == [("new", 7), ("1-2", 1), ("3-4", 1), (">4", 1)]
    assert sum(g["keystrokes"] for g in groups) == placed.count.keystrokes
    assert sum(g["letters_and_spaces"] for g in groups) == placed.count.letters_and_spaces
    dog = groups[3]  # the second "dog": its own keystrokes, over its 3 letters and a space
    assert dog["keystrokes"] == placed.count.per_word[6] and dog["savings"] == round(1 - dog["keystrokes"] / 4, 4)
    assert placed.by_distance(edges=(0, 100))[2] == {"distance": ">100", "words": 0, "keystrokes": 0,
                                                      "letters_and_spaces": 0, "savings": None}


def test_word_keystrokes_when_nothing_is_suggested():
    assert word_keystrokes("Zebrafish", lambda prefix, passed_over=(): []) == 10


def test_keystroke_savings_counts_words_not_punctuation(predictor):
    # The, clouds, are, in, the, sky: 3+6+3+2+3+3 = 20 letters + 6 spaces; the full stop is neither typed nor counted.
    count = keystroke_savings(predictor, "The clouds are in the sky.")
    assert count.words == 6 and count.letters_and_spaces == 26
    assert count.keystrokes < 26


def test_keystroke_savings_on_the_tiny_corpus(predictor, tiny_corpus):
    text = (tiny_corpus / "test.txt").read_text()
    count = keystroke_savings(predictor, text)
    assert 0 < count.savings < 1
    assert count.words == sum(1 for _ in text.split())  # the tiny corpus has no word glued to punctuation inside
    limited = keystroke_savings(predictor, text, max_words=5)
    assert limited.words == 5 and limited.per_word == count.per_word[:5]


def test_keystroke_savings_never_looks_at_later_words(predictor):
    base = keystroke_savings(predictor, "I grew up in France. I speak fluent French.")
    assert base.words == 9
    for changed, at in (("I grew up in France. I speak fluent Spanish.", 8), ("I grew up in Spain. I speak fluent French.", 4),
                        ("I grew up in France. The dog is barking at the postman.", 5)):
        other = keystroke_savings(predictor, changed)
        assert other.per_word[:at] == base.per_word[:at], changed


def test_keystroke_savings_suggests_from_the_words_before_only(predictor):
    """Each word's cost, recomputed from a fresh state after exactly the text before it, is the same:
    a state that already held the word (or a later one) would suggest the word after it instead."""
    text = "I grew up in France. I speak fluent French. We eat breakfast in the kitchen."
    count = keystroke_savings(predictor, text)
    starts = [m.start() for m in re.finditer(r"\w+", text)]
    assert len(starts) == count.words == 15
    expected = []
    for start, end in zip(starts, [*starts[1:], len(text)]):
        before = predictor.encode(text[:start])
        state = predictor.advance(before) if before else predictor.model.initial_state(1)
        word = re.match(r"\w+", text[start:end]).group()
        suggest = lambda prefix, passed_over, s=state: [p.word for p in predictor.top_words(s, 3, prefix or None,
                                                                                     exclude=passed_over)]
        expected.append(word_keystrokes(word, suggest))
    assert count.per_word == tuple(expected)
    assert sum(expected) < count.letters_and_spaces  # the model does predict these sentences


def test_keystroke_savings_uses_more_suggestions_for_fewer_keystrokes(predictor, tiny_corpus):
    text = (tiny_corpus / "test.txt").read_text()
    one, three = keystroke_savings(predictor, text, n_suggestions=1), keystroke_savings(predictor, text, n_suggestions=3)
    assert all(a >= b for a, b in zip(one.per_word, three.per_word))


# ---------------------------------------------------------------- perplexity


def test_split_articles_at_wikitext_headings():
    lines = [" = Alpha = ", " Alpha is a letter . ", " = = History = = ", " Old . ", " = Beta = ", " Beta too . "]
    assert split_articles(lines) == [lines[:4], lines[4:]]
    assert split_articles(["no heading", "at all"]) == [["no heading", "at all"]]


def test_text_perplexity(predictor, tmp_path):
    path = tmp_path / "wiki.txt"
    path.write_text(" = A = \nThe clouds are in the sky.\nI grew up in France. I speak fluent French.\n"
                    " = B = \nWe eat breakfast in the kitchen every morning.\n")
    whole = text_perplexity(predictor, path)
    articles = text_perplexity(predictor.loaded, path, per_article=True)
    assert whole["passages"] == 1 and articles["passages"] == 2
    assert whole["tokens"] == articles["tokens"] == len(predictor.tokenizer.encode(path.read_text())) + 5  # + <eos> per line
    assert whole["unk_share"] > 0  # "A", "B" (the tiny vocabulary has no "=")
    # Far better than a uniform guess over the vocabulary on its own training sentences.
    assert whole["perplexity"] < predictor.tokenizer.vocab_size / 2 and whole["perplexity"] > 1


# ---------------------------------------------------------------- CLI


def test_cli_writes_json(tiny_models_dir, tmp_path, capsys):
    lambada = tmp_path / "lambada.jsonl"
    lambada.write_text("\n".join(json.dumps({"text": t}) for t in
                                 ["I grew up in France. I speak fluent French", "The clouds are in the sky.", "Zebras"]) + "\n")
    typed = tmp_path / "typed.txt"
    typed.write_text("The clouds are in the sky.\nShe poured milk into her tea.\n")
    out = tmp_path / "out" / "result.json"
    main(["--models-dir", str(tiny_models_dir), "--lambada", str(lambada), "--lambada-limit", "2",
          "--keystrokes", str(typed), "--keystroke-words", "8", "--perplexity", str(typed), "--json", str(out),
          "--ngram-corpus", str(typed), "--last-word", "--plot", str(tmp_path / "keys.png")])
    result = json.loads(out.read_text())
    assert (tmp_path / "keys.png").read_bytes()[:4] == b"\x89PNG"
    assert result["version"] == load_latest(tiny_models_dir).version
    assert result["systems"] == ["model", "5-gram + recency"]  # the tiny version has no cache settings
    assert [(lam["system"], lam["ranking"] == "next word") for lam in result["lambada"]] == [
        ("model", True), ("model", False), ("5-gram + recency", True), ("5-gram + recency", False)]
    for lam in result["lambada"]:
        assert lam["n"] == 2 and lam["k"] == 5 and set(lam) >= {"top1", "topk", "oov_share", "path", "system"}
    assert [ks["system"] for ks in result["keystrokes"]] == result["systems"]
    groups = [g["distance"] for g in result["keystrokes"][0]["by_distance"]]
    assert groups == ["new", "1-10", "11-100", "101-1000", "1001-2000", ">2000"]
    for ks in result["keystrokes"]:
        assert ks["words"] == 8 and ks["letters_and_spaces"] == 3 + 6 + 3 + 2 + 3 + 3 + 3 + 6 + 8
        assert 0 <= ks["savings"] < 1 and ks["suggestions"] == 3 and ks["kind"] == "plain"
    assert result["perplexity"][0]["tokens"] > 0
    printed = capsys.readouterr().out
    assert "| model | LAMBADA top-1 |" in printed and "| 5-gram + recency | keystroke savings, 3 suggestions |" in printed
    assert "| model, ranked as the last word | LAMBADA top-1 |" in printed
    assert "| model | plain | " in printed and "new to the document" in printed  # savings by distance


# ---------------------------------------------------------------- documents, the cache and the baseline


def test_documents_of_each_kind(tmp_path):
    wiki = tmp_path / "wiki.txt"
    wiki.write_text(" = Alpha = \n The early @-@ 1990s , Alpha 's <unk> . \n = Beta = \n Beta . \n")
    assert list(read_documents("wikitext", wiki)) == [["= Alpha =", "The early-1990s, Alpha's <unk>."], ["= Beta =", "Beta."]]
    dialogue = tmp_path / "dialogue.txt"
    dialogue.write_text("Hi.\nHello.\n\nBook a table.\nFor when?\n")
    assert list(read_documents("dialogue", dialogue)) == [["Hi.", "Hello."], ["Book a table.", "For when?"]]
    books = tmp_path / "test.txt"
    books.write_text("Book one.\nMore of it.\nBook two.\n")
    (tmp_path / "books.tsv").write_text("split\tfirst_line\tlines\ntest\t1\t2\ntest\t3\t1\ntrain\t1\t9\n")
    assert list(read_documents("fiction", books)) == [["Book one.", "More of it."], ["Book two."]]
    assert list(read_documents("plain", books)) == [["Book one.", "More of it.", "Book two."]]


def test_each_document_is_typed_from_a_fresh_start(predictor):
    one = count_keystrokes(typing_steps(NeuralTypist(predictor), [["I grew up in France."]]))
    two = count_keystrokes(typing_steps(NeuralTypist(predictor), [["The clouds are in the sky."], ["I grew up in France."]]))
    assert two.per_word[-5:] == one.per_word
    capped = count_keystrokes(typing_steps(NeuralTypist(predictor), [["The clouds are in the sky."], ["I grew up."]],
                                           words_per_document=2))
    assert capped.words == 4


def test_the_cache_saves_keystrokes_on_a_name_it_never_learned(predictor):
    """'Zorblax' is outside the tiny vocabulary: without the cache it is typed in full every time; with it,
    after its first use it comes back within a letter or two."""
    text = ["I grew up in Zorblax.", "The clouds are in the sky.", "I met Zorblax.", "She poured milk into her tea.",
            "Zorblax is far."]
    plain = count_keystrokes(typing_steps(NeuralTypist(predictor, OFF), [text]))
    cached = count_keystrokes(typing_steps(NeuralTypist(predictor, CacheSettings(weight=0.3, flatness=0.5, window=500)),
                                           [text]))
    zorblax = [i for i, w in enumerate(" ".join(text).replace(".", "").split()) if w == "Zorblax"]
    assert [plain.per_word[i] for i in zorblax] == [8, 8, 8]
    assert cached.per_word[zorblax[0]] == 8 and all(cached.per_word[i] <= 3 for i in zorblax[1:])
    assert cached.savings > plain.savings


def test_ngram_baseline_suggests_and_remembers_recent_words(predictor, tiny_corpus):
    ngram = fit_ngram(predictor.loaded, tiny_corpus / "train.txt")
    typist = NgramTypist(predictor, ngram, RecencySettings(weight=0.3, decay=0.99, window=100))
    assert keystroke_savings(typist, "The clouds are in the sky.").savings > 0.3  # it knows its training sentences
    typist.start()
    ids, spellings = predictor.encode_with_spellings("I met Zorblax and")
    typist.feed(ids, spellings)
    assert "Zorblax" in typist.suggester(3)("zo")
    mixture = typist.mixture()
    assert mixture.probs.sum() + sum(p for _, p in mixture.unknown.values()) == pytest.approx(1.0)


def test_recency_tuning_scores_what_the_baseline_typist_would_give(predictor, tiny_corpus):
    """tune_recency's vectorised mixture is, position by position, NgramTypist's own (p of the next
    token after feeding the passage so far); and the settings it picks are the grid's best."""
    from model.training.data import encode_passages, read_passages

    ngram = fit_ngram(predictor.loaded, tiny_corpus / "train.txt")
    passages = [p for p in encode_passages(predictor.tokenizer, read_passages(tiny_corpus / "valid.txt"))[:6] if len(p) > 1]
    settings, tuning = tune_recency(ngram, predictor, passages)
    assert tuning["grid"][f"{settings.weight}/{settings.decay}"] == min(tuning["grid"].values()) == tuning["perplexity"]
    assert tuning["perplexity"] <= tuning["perplexity_without_recency"]  # weight 0 is in the grid
    counted = predictor.offerable.numpy().copy()
    counted[predictor.tokenizer.unk_id] = True
    typist = NgramTypist(predictor, ngram, RecencySettings(weight=0.2, decay=0.98, window=7))  # tokens leave it
    for passage in passages[:2]:
        recent, seen = recency_target_probs(passage, counted, 0.98, window=7)
        typist.start()
        typist.feed(passage[:1], [None])
        for t in range(1, len(passage)):
            target = passage[t]
            ngram_p = ngram.distribution(passage[max(0, t - 4):t])[target]
            expected = 0.8 * ngram_p + 0.2 * recent[t - 1] if seen[t - 1] else ngram_p
            if target != predictor.tokenizer.unk_id:
                assert typist.mixture().probs[target] == pytest.approx(expected, rel=1e-9)
            typist.feed(passage[t:t + 1], [None])


def test_last_word_passages_mimic_lambada_from_held_out_text():

    story = ["Anna met the old sailor at the harbour, where the boats came in every morning at dawn.",
             "He told her stories of storms and whales and far islands, and she listened all day long.",
             "When the sun went down she asked him his name, and he smiled and said it was not important to Anna."]
    other = ["The rain fell on the roofs of the town while the children slept in their warm beds at night.",
             "Nobody in the house heard the knock at the door, though it came three times before midnight struck."]
    # Paragraphs of 17, 17, 21 and 19, 18 words. A share of 0.5 keeps as many passages whose last word is
    # new as passages whose last word came before, never more: "long" (new, none before it) is passed
    # over and the window grows to end at "Anna" (seen before); then "struck" (new) may be kept. A kept
    # passage starts the next afresh.
    passages = last_word_passages([story, other], min_words=30, max_words=60, in_context_share=0.5)
    assert [lambada_target(p)[1] for p in passages] == ["Anna", "struck"]
    assert passages == ["\n".join(story), "\n".join(other)]
    # Share 1: only last words seen before; "long" is passed over and the window grows to end at "Anna".
    strict = last_word_passages([story, other], min_words=30, max_words=60, in_context_share=1.0)
    assert strict == ["\n".join(story)] and lambada_target(strict[0])[1] == "Anna"
    # keep() must hold too: without "Anna", nothing in context is left, so no other may be kept either.
    assert last_word_passages([story, other], min_words=30, max_words=60, in_context_share=0.5,
                              keep=lambda prompt, target: target != "Anna") == []


def test_unpredictable_locally_keeps_what_the_model_alone_misses(predictor):
    keep = unpredictable_locally(predictor, k=3)
    assert not keep("I grew up in France. I speak fluent", "French")  # the tiny model's own sentence
    assert keep("I grew up in France. I speak fluent", "Zorblax")


def test_cli_evaluates_with_cache_settings_given(tiny_models_dir, tmp_path):
    """--cache overrides the version's settings for the evaluation (recorded in the JSON); a wrong key is refused."""
    lambada = tmp_path / "lambada.jsonl"
    lambada.write_text(json.dumps({"text": "I grew up in France. I speak fluent French"}) + "\n")
    out = tmp_path / "result.json"
    main(["--models-dir", str(tiny_models_dir), "--lambada", str(lambada), "--lambada-limit", "1", "--keystroke-words", "0",
          "--cache", "weight=0.3", "entropy_scale=0", "--json", str(out)])
    result = json.loads(out.read_text())
    assert result["systems"] == ["model + cache"] and result["cache"]["weight"] == 0.3
    for wrong in ("lambda=0.3", "weight=much"):
        with pytest.raises(SystemExit):
            main(["--models-dir", str(tiny_models_dir), "--cache", wrong])


def test_the_served_row_names_the_ngram_it_blends_in(cache_models_dir, tmp_path):
    """cache_models_dir's version blends a trigram in: its row says so, and with μ 0 it is the cache alone."""
    lambada = tmp_path / "lambada.jsonl"
    lambada.write_text(json.dumps({"text": "I grew up in France. I speak fluent French"}) + "\n")
    for override, name in (([], "model + cache + 3-gram"), (["--cache", "ngram_weight=0"], "model + cache")):
        out = tmp_path / "result.json"
        main(["--models-dir", str(cache_models_dir), "--lambada", str(lambada), "--lambada-limit", "1",
              "--keystroke-words", "0", *override, "--json", str(out)])
        assert json.loads(out.read_text())["systems"] == [name]
