"""Word-level tokenizer (Hugging Face `tokenizers`), plus the display form of each word.

Text is NFKC-normalised and lower-cased before lookup, so "The"/"the" and "I"/"i" share
one id and a prompt typed in lower case still works. Predictions are shown in the form the
word most often takes in the training text ("French", "I", "sky"): that map is kept
beside the tokenizer in the checkpoint as `display_forms`.

`as_is=True` (the trainer's `--as-is-tokens`) takes pre-tokenized text at its word: case kept,
split on whitespace only. On WikiText-2 that gives 33,274 entries (its usual 33,278 less a few
that NFKC merges) and its usual token stream, so perplexities compare with published ones and
with bench/textbook_lstm.py.

Run `python -m model.tokenizer --help` to inspect a saved tokenizer.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import WordLevel
from tokenizers.trainers import WordLevelTrainer

UNK = "<unk>"
EOS = "<eos>"  # ends every line of text, as in the usual word-LM convention
PAD = "<pad>"  # fills batches of unequal passages; never a training target
SPECIAL_TOKENS = (UNK, EOS, PAD)

# A word is a run of letters/digits, with inner apostrophes kept ("don't", "o'clock");
# every other non-space character is a token of its own.
WORD_PATTERN = r"\w+(?:['’]\w+)*|[^\w\s]"


def _pre_tokenizer(as_is: bool = False) -> pre_tokenizers.PreTokenizer:
    if as_is:
        return pre_tokenizers.WhitespaceSplit()
    return pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex(WORD_PATTERN), behavior="isolated")]
    )


# Typographic quotes as typed ones: books and phones write "don’t", people search and type "don't".
# (NFKC leaves them alone.) Part of every new tokenizer; a saved one keeps the normaliser it was trained with.
TYPOGRAPHIC_QUOTES = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'}


def _display_normalizer() -> normalizers.Normalizer:
    """What a word's written form goes through: NFKC and plain quotes, case kept."""
    return normalizers.Sequence([normalizers.NFKC()] + [normalizers.Replace(a, b) for a, b in TYPOGRAPHIC_QUOTES.items()])


def _normalizer(as_is: bool = False) -> normalizers.Normalizer:
    if as_is:
        return normalizers.NFKC()
    return normalizers.Sequence([_display_normalizer(), normalizers.Lowercase()])


def is_word(token: str) -> bool:
    """A token users would accept as a next word: not special, not punctuation."""
    return token not in SPECIAL_TOKENS and any(ch.isalnum() for ch in token)


@dataclass
class WordTokenizer:
    """A trained tokenizer with ids for <unk>/<eos>/<pad> and a display form per id."""

    tokenizer: Tokenizer
    display_forms: list[str]

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    @property
    def unk_id(self) -> int:
        return self.tokenizer.token_to_id(UNK)

    @property
    def eos_id(self) -> int:
        return self.tokenizer.token_to_id(EOS)

    @property
    def pad_id(self) -> int:
        return self.tokenizer.token_to_id(PAD)

    def encode(self, text: str) -> list[int]:
        """Ids of the words and punctuation in `text` (no <eos> added)."""
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: Iterable[int]) -> str:
        return " ".join(self.display_forms[i] for i in ids)

    def word_mask(self) -> list[bool]:
        """True for ids that may be offered as a prediction (see `is_word`)."""
        vocab = self.tokenizer.get_vocab()
        mask = [False] * self.vocab_size
        for token, index in vocab.items():
            mask[index] = is_word(token)
        return mask

    def save(self, directory: Path) -> None:
        self.tokenizer.save(str(directory / "tokenizer.json"))
        (directory / "display_forms.json").write_text(json.dumps(self.display_forms, ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path) -> WordTokenizer:
        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        display_forms = json.loads((directory / "display_forms.json").read_text())
        if len(display_forms) != tokenizer.get_vocab_size():
            raise ValueError("display_forms.json does not match tokenizer.json")
        for token in SPECIAL_TOKENS:
            if tokenizer.token_to_id(token) is None:
                raise ValueError(f"tokenizer.json lacks the special token {token}")
        return cls(tokenizer, display_forms)


def train_tokenizer(lines: Iterable[str], vocab_size: int, min_frequency: int, as_is: bool = False) -> WordTokenizer:
    """Learn a vocabulary of at most `vocab_size` words seen `min_frequency` times or more
    (`as_is`: case kept, whitespace split only; see the module docstring).

    `lines` is read twice (vocabulary, then display forms), so pass a list or a
    re-iterable object rather than a generator.
    """
    tokenizer = Tokenizer(WordLevel(unk_token=UNK))
    tokenizer.normalizer = _normalizer(as_is)
    tokenizer.pre_tokenizer = _pre_tokenizer(as_is)
    trainer = WordLevelTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=list(SPECIAL_TOKENS), show_progress=False
    )
    if as_is:
        # Whitespace-split text may hold the special tokens as words (WikiText's "<unk>"): counted
        # as words too, they would collide with the ids the trainer reserves for them.
        specials = set(SPECIAL_TOKENS)
        tokenizer.train_from_iterator(
            (" ".join(w for w in line.split() if w not in specials) for line in lines), trainer=trainer)
    else:
        tokenizer.train_from_iterator(lines, trainer=trainer)
    # Special tokens written in the text itself (WikiText's "<unk>") map to their ids.
    tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
    return WordTokenizer(tokenizer, _display_forms(tokenizer, lines))


def _display_forms(tokenizer: Tokenizer, lines: Iterable[str]) -> list[str]:
    """The most frequent original spelling of each vocabulary entry."""
    pieces: Counter[str] = Counter()
    pre = tokenizer.pre_tokenizer
    written = _display_normalizer()
    for line in lines:
        pieces.update(piece for piece, _ in pre.pre_tokenize_str(written.normalize_str(line)))
    # Grouped under the token each spelling maps to: lower-cased, or as is (as_is tokenizers).
    surface_counts: dict[str, Counter[str]] = defaultdict(Counter)
    for piece, n in pieces.items():
        surface_counts[tokenizer.normalizer.normalize_str(piece)][piece] += n
    forms = [""] * tokenizer.get_vocab_size()
    for token, index in tokenizer.get_vocab().items():
        counts = surface_counts.get(token)
        forms[index] = counts.most_common(1)[0][0] if counts else token
    return forms


def main() -> None:
    parser = argparse.ArgumentParser(description="Tokenize text with a saved model's tokenizer.")
    parser.add_argument("model_dir", type=Path, help="a model version directory holding tokenizer.json")
    parser.add_argument("text", help="text to tokenize")
    args = parser.parse_args()
    tok = WordTokenizer.load(args.model_dir)
    ids = tok.encode(args.text)
    print(json.dumps({"ids": ids, "tokens": [tok.display_forms[i] for i in ids]}, ensure_ascii=False))


if __name__ == "__main__":
    main()
