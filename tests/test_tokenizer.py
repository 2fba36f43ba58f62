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


def test_as_is_tokens_keep_case_and_split_on_whitespace_only(tmp_path):
    lines = ["The French speak French .", "the french fries @-@ style", "The end"]
    tok = train_tokenizer(lines, vocab_size=100, min_frequency=1, as_is=True)
    ids = tok.encode("The french @-@ French")
    assert len(ids) == 4 and len(set(ids)) == 4  # "@-@" is one token; "french" and "French" differ
    assert tok.display_forms[ids[3]] == "French" and tok.display_forms[ids[1]] == "french"
    tok.save(tmp_path)
    assert WordTokenizer.load(tmp_path).encode("The french @-@ French") == ids  # the setting travels with it
    folded = train_tokenizer(lines, vocab_size=100, min_frequency=1)
    assert len(folded.encode("The french @-@ French")) == 6 and len(set(folded.encode("french French"))) == 1


def test_as_is_tokens_map_special_tokens_in_the_text_to_their_ids():
    tok = train_tokenizer(["a b <unk> c <eos>", "a <pad> b"], vocab_size=100, min_frequency=1, as_is=True)
    vocab = tok.tokenizer.get_vocab()
    assert sorted(vocab.values()) == list(range(tok.vocab_size))  # no holes, no collisions
    assert tok.encode("a <unk> zzz") == [vocab["a"], tok.unk_id, tok.unk_id]
