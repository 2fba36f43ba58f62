from model.tokenizer import EOS, PAD, UNK, WordTokenizer, is_word, train_tokenizer

LINES = [
    "I grew up in France. I speak fluent French.",
    "The clouds are in the sky, and the sun is bright.",
    "Don't forget: it's 7 o'clock!",
    "the sky is blue",
]


def test_round_trip_restores_words_in_their_usual_form(tmp_path):
    tok = train_tokenizer(LINES, vocab_size=100, min_frequency=1)
    tok.save(tmp_path)
    loaded = WordTokenizer.load(tmp_path)
    ids = loaded.encode("I speak fluent French.")
    assert ids == tok.encode("I speak fluent French.")
    assert loaded.decode(ids) == "I speak fluent French ."
    # Lower-cased lookup, usual spelling on the way out.
    assert loaded.encode("i SPEAK fluent french") == loaded.encode("I speak fluent French")
    assert loaded.decode(loaded.encode("don't")) == "Don't"


def test_unknown_words_and_special_tokens():
    tok = train_tokenizer(LINES, vocab_size=100, min_frequency=1)
    assert tok.encode("zebra") == [tok.unk_id]
    assert tok.encode("<unk> sky") == [tok.unk_id, tok.encode("sky")[0]]
    assert len({tok.unk_id, tok.eos_id, tok.pad_id}) == 3
    mask = tok.word_mask()
    for special in (UNK, EOS, PAD, ".", ",", "!"):
        index = tok.tokenizer.token_to_id(special)
        assert index is not None and not mask[index], special
    assert mask[tok.encode("sky")[0]]


def test_vocabulary_keeps_the_most_frequent_words():
    tok = train_tokenizer(["a a a b b c"] * 3, vocab_size=5, min_frequency=1)
    assert tok.vocab_size == 5  # three specials + the two most frequent words
    assert tok.encode("a b c") == [tok.encode("a")[0], tok.encode("b")[0], tok.unk_id]


def test_is_word():
    assert is_word("sky") and is_word("7") and is_word("don't")
    assert not is_word(".") and not is_word(UNK) and not is_word("—")
