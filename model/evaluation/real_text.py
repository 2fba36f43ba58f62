"""Real-text evaluation through the service's own Predictor: LAMBADA, keystroke savings, perplexity.

    make evaluate-text     # the newest model on LAMBADA and Gutenberg fiction (data paths in the Makefile)
    python -m model.evaluation.real_text --models-dir models --lambada PATH --lambada-limit 500 \\
        --keystrokes BOOKS.txt.xz --keystroke-words 5000 --json out.json

- **LAMBADA** (`score_lambada`): the passage without its last word is the prompt; the last word,
  trailing punctuation removed, is the target. Top-1 and top-k hits are counted case-insensitively
  against word predictions only (never <unk>, <eos> or punctuation), and the share of targets that
  are not one known word of the model's vocabulary is reported beside them (a model cannot hit those).
- **Keystroke savings** (`count_keystrokes`, `keystroke_savings`): held-out text is typed word by
  word. Before each letter the model's suggestions for the word being typed are shown (computed from
  the state after the previous words, with the letters typed so far as a prefix); taking one costs a
  keystroke and types the word and its space, a word never suggested costs its letters and a space.
  Savings = 1 - keystrokes / (letters + spaces). Punctuation is neither typed nor counted, but it is
  fed to the model as context, as the tokenizer splits it.
- **Perplexity of a plain text file** (`text_perplexity`), with the state carried across the whole
  file or reset at each WikiText article heading, scored by `model.evaluation.scoring`.

Text is fed as training text is: every line ends with <eos>. The data comes only from the paths
given; without one, that part is skipped.
"""
from __future__ import annotations

import argparse
import json
import lzma
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from model.checkpoint import LoadedModel, load_latest, load_version
from model.evaluation.scoring import evaluate_split
from model.predict import Predictor
from model.rnn_lm import State
from model.tokenizer import is_word
from model.training.data import encode_passages

Suggest = Callable[[str], list[str]]  # the letters typed so far ("" before the first) → suggested words


# ---------------------------------------------------------------- reading text


def open_text(path: Path):
    """A text file for reading, .xz files decompressed on the fly."""
    path = Path(path)
    return lzma.open(path, "rt", encoding="utf-8") if path.suffix == ".xz" else path.open(encoding="utf-8")


def read_lines(path: Path, max_words: int | None = None) -> list[str]:
    """The file's non-blank lines, stopping once they hold `max_words` whitespace-separated words."""
    lines, words = [], 0
    with open_text(path) as f:
        for raw in f:
            if max_words is not None and words >= max_words:
                break
            line = raw.strip()
            if line:
                lines.append(line)
                words += len(line.split())
    return lines


def read_lambada(path: Path, limit: int | None = None) -> list[str]:
    """The first `limit` passages ("text" of each JSON line) of a LAMBADA jsonl file."""
    passages = []
    with open_text(path) as f:
        for raw in f:
            if limit is not None and len(passages) >= limit:
                break
            if raw.strip():
                passages.append(json.loads(raw)["text"])
    return passages


def prompt_ids(predictor: Predictor, text: str) -> list[int]:
    """Token ids of `text` as training text is fed (model.training.data.encode_passages: each non-blank
    line followed by <eos>), but for the last line, which the prompt stops in the middle of."""
    (ids,) = encode_passages(predictor.tokenizer, [[line for line in text.splitlines() if line.strip()]])
    return ids[:-1]


# ---------------------------------------------------------------- LAMBADA


def lambada_target(text: str) -> tuple[str, str]:
    """(prompt, target): the target is the last whitespace-separated word with its trailing
    punctuation removed; the prompt is the passage before that word, trailing whitespace removed.
    Punctuation before the word (an opening quote) is left in the prompt: it is context, not target.
    ValueError if the last word has no letter or digit."""
    body = text.rstrip()
    last = body.split()[-1] if body else ""
    start = len(body) - len(last)
    end = len(last)
    while end > 0 and not last[end - 1].isalnum():
        end -= 1
    lead = 0
    while lead < end and not last[lead].isalnum():
        lead += 1
    target = last[lead:end]
    if not target:
        raise ValueError(f"the passage's last word {last!r} has no letter or digit")
    return body[: start + lead].rstrip(), target


def is_known_word(predictor: Predictor, word: str) -> bool:
    """Whether the lower-cased word is a single offerable token of the model's vocabulary
    (not <unk>, not split into several tokens)."""
    ids = predictor.tokenizer.encode(word.lower())
    return len(ids) == 1 and ids[0] != predictor.tokenizer.unk_id and bool(predictor.offerable[ids[0]])


@dataclass(frozen=True)
class LambadaScore:
    top1: float  # share of passages whose target is the first word prediction
    topk: float  # share whose target is among the first k word predictions
    k: int
    n: int  # passages scored
    oov_share: float  # share of targets that are not one known word (no model can hit those)


def lambada_predictions(predictor: Predictor, prompt: str, k: int) -> list[str]:
    """The k most likely next words after the prompt (state from the zero state, lines ended by <eos>),
    words only: anything that is not a word is dropped before comparing (top_words offers none)."""
    state = predictor.advance(prompt_ids(predictor, prompt))
    return [p.word for p in predictor.top_words(state, k) if is_word(p.word)]


def score_lambada(predictor: Predictor, passages: Iterable[str], k: int = 5) -> LambadaScore:
    """Top-1 and top-k accuracy on the passages' last words, compared case-insensitively, and the OOV share."""
    hits1 = hitsk = oov = n = 0
    for text in passages:
        prompt, target = lambada_target(text)
        words = [w.lower() for w in lambada_predictions(predictor, prompt, k)]
        n += 1
        hits1 += bool(words) and words[0] == target.lower()
        hitsk += target.lower() in words
        oov += not is_known_word(predictor, target)
    share = (lambda count: round(count / n, 4)) if n else (lambda count: 0.0)
    return LambadaScore(top1=share(hits1), topk=share(hitsk), k=k, n=n, oov_share=share(oov))


# ---------------------------------------------------------------- keystroke savings


def word_keystrokes(word: str, suggest: Suggest) -> int:
    """Keystrokes to type `word` and its space: before each letter the suggestions for the prefix typed
    so far are shown; taking one (a case-insensitive match) costs one keystroke and ends the word.
    Never suggested: its letters plus a space."""
    target = word.lower()
    for typed in range(len(word)):
        if any(s.lower() == target for s in suggest(word[:typed])):
            return typed + 1
    return len(word) + 1


@dataclass(frozen=True)
class KeystrokeCount:
    keystrokes: int
    letters_and_spaces: int  # what typing every word in full costs: its letters and a space each
    per_word: tuple[int, ...]  # each word's keystrokes, in order

    @property
    def words(self) -> int:
        return len(self.per_word)

    @property
    def savings(self) -> float:
        return 1 - self.keystrokes / self.letters_and_spaces if self.letters_and_spaces else 0.0


def count_keystrokes(typing: Iterable[tuple[str, Suggest]]) -> KeystrokeCount:
    """Keystrokes over (word, its suggester) pairs, taken in order. Pure: everything the model knows
    is in the suggesters; each one is called only before the next pair is drawn."""
    per_word, full = [], 0
    for word, suggest in typing:
        per_word.append(word_keystrokes(word, suggest))
        full += len(word) + 1
    return KeystrokeCount(sum(per_word), full, tuple(per_word))


def _suggester(predictor: Predictor, state: State, n: int) -> Suggest:
    """Suggestions after `state`: with no prefix the Predictor's own top_words (the service's fast path);
    with one, the next-word distribution, computed once at the first such call, then top_k by prefix."""
    probs: list[torch.Tensor] = []

    def suggest(prefix: str) -> list[str]:
        if not prefix:
            return [p.word for p in predictor.top_words(state, n)]
        if not probs:
            probs.append(predictor.next_word_probabilities(state))
        return [p.word for p in predictor.top_k(probs[0], n, prefix)]
    return suggest


def typing_steps(predictor: Predictor, lines: Iterable[str], n_suggestions: int = 3,
                 max_words: int | None = None) -> Iterator[tuple[str, Suggest]]:
    """(word, suggester) for each word of the text as a person types it: the state is carried token by
    token from the zero state; punctuation is fed to the model but yields no word; lines end with <eos>.
    The suggester of word i is built from the state after the tokens before it, nothing later."""
    tok = predictor.tokenizer
    state = predictor.model.initial_state(1)
    words = 0
    for line in lines:
        if not line.strip():
            continue
        encoding = tok.tokenizer.encode(line, add_special_tokens=False)
        for token_id, (start, end) in zip(encoding.ids, encoding.offsets):
            surface = line[start:end]
            if is_word(surface):
                if max_words is not None and words >= max_words:
                    return
                yield surface, _suggester(predictor, state, n_suggestions)
                words += 1
            state = predictor.advance([token_id], state)
        state = predictor.advance([tok.eos_id], state)


def keystroke_savings(predictor: Predictor, text: str | Sequence[str], n_suggestions: int = 3,
                      max_words: int | None = None) -> KeystrokeCount:
    """Keystroke count of typing `text` (a string, or its lines) with `n_suggestions` shown, at most `max_words` words."""
    lines = text.splitlines() if isinstance(text, str) else text
    return count_keystrokes(typing_steps(predictor, lines, n_suggestions, max_words))


# ---------------------------------------------------------------- perplexity

# A WikiText article heading: " = Title = " (section headings are " = = Section = = ").
ARTICLE_HEADING = re.compile(r"^= [^=].* =$")


def split_articles(lines: Sequence[str]) -> list[list[str]]:
    """Lines → articles, a new one at each WikiText top-level heading (all one article if there is none)."""
    articles: list[list[str]] = []
    for line in lines:
        if not articles or ARTICLE_HEADING.match(line.strip()):
            articles.append([])
        articles[-1].append(line)
    return articles


def text_perplexity(predictor_or_loaded: Predictor | LoadedModel, path: Path, per_article: bool = False,
                    bptt: int = 400) -> dict:
    """Perplexity of a plain text file (every line followed by <eos>, as in training), with the state
    carried across the whole file, or reset at each article heading (`per_article`). As
    model.evaluation.scoring counts it: every token but each passage's first is predicted,
    <unk> and <eos> included; `unk_share` says how much of the text the model cannot name."""
    loaded = predictor_or_loaded.loaded if isinstance(predictor_or_loaded, Predictor) else predictor_or_loaded
    tok = loaded.tokenizer
    lines = read_lines(path)
    passages = encode_passages(tok, split_articles(lines) if per_article else [lines])
    tokens = sum(map(len, passages))
    unk = sum(ids.count(tok.unk_id) for ids in passages)
    result = evaluate_split(loaded.model, passages, tok.pad_id, batch_size=64, bptt=bptt)
    return {"path": str(path), "perplexity": round(result["perplexity"], 3), "tokens": tokens,
            "passages": len(passages), "unk_share": round(unk / max(tokens, 1), 4), "per_article": per_article}


# ---------------------------------------------------------------- command line


def evaluate(predictor: Predictor, lambada: Path | None, lambada_limit: int, keystrokes: Sequence[Path],
             keystroke_words: int, n_suggestions: int = 3, perplexity: Sequence[Path] = (),
             per_article: bool = False) -> dict:
    result: dict = {"version": predictor.version}
    if lambada is not None and lambada_limit > 0:
        score = score_lambada(predictor, read_lambada(lambada, lambada_limit))
        result["lambada"] = {"path": str(lambada), **asdict(score)}
    if keystroke_words > 0:
        result["keystrokes"] = []
        for path in keystrokes:
            count = keystroke_savings(predictor, read_lines(path, keystroke_words), n_suggestions, keystroke_words)
            result["keystrokes"].append({
                "path": str(path), "savings": round(count.savings, 4), "keystrokes": count.keystrokes,
                "letters_and_spaces": count.letters_and_spaces, "words": count.words, "suggestions": n_suggestions})
    if perplexity:
        result["perplexity"] = [text_perplexity(predictor, path, per_article) for path in perplexity]
    return result


def markdown_table(result: dict) -> str:
    rows = ["| measure | data | value |", "|---|---|---|"]
    if "lambada" in result:
        lam = result["lambada"]
        name = Path(lam["path"]).name
        rows += [f"| LAMBADA top-1 | {name}, {lam['n']} passages | {lam['top1']:.4f} |",
                 f"| LAMBADA top-{lam['k']} | {name}, {lam['n']} passages | {lam['topk']:.4f} |",
                 f"| LAMBADA targets outside the vocabulary | {name}, {lam['n']} passages | {lam['oov_share']:.4f} |"]
    for ks in result.get("keystrokes", []):
        rows.append(f"| keystroke savings, {ks['suggestions']} suggestions | {Path(ks['path']).name}, {ks['words']} words "
                    f"| {ks['savings']:.4f} ({ks['keystrokes']} of {ks['letters_and_spaces']} keystrokes) |")
    for pp in result.get("perplexity", []):
        scope = "per article" if pp["per_article"] else "whole file"
        rows.append(f"| perplexity ({scope}) | {Path(pp['path']).name}, {pp['tokens']} tokens, <unk> {pp['unk_share']:.2%} "
                    f"| {pp['perplexity']:.2f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m model.evaluation.real_text",
                                description="LAMBADA, keystroke savings and perplexity on real text, through the Predictor.")
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="use the newest version here")
    p.add_argument("--version-dir", type=Path, help="evaluate this version directory instead")
    p.add_argument("--lambada", type=Path, help="LAMBADA jsonl ({\"text\": ...} per line); none: skipped")
    p.add_argument("--lambada-limit", type=int, default=500, help="first N passages (0: skip LAMBADA)")
    p.add_argument("--keystrokes", type=Path, nargs="*", default=[],
                   help="text files (.xz read as xz) to type; none: skip")
    p.add_argument("--keystroke-words", type=int, default=2000, help="words typed from the start of each file (0: skip)")
    p.add_argument("--suggestions", type=int, default=3, help="suggestions shown while typing")
    p.add_argument("--perplexity", type=Path, nargs="*", default=[], help="plain text files to score (whole file read)")
    p.add_argument("--per-article", action="store_true", help="reset the state at each WikiText article heading")
    p.add_argument("--json", type=Path, help="write the result here")
    p.add_argument("--threads", type=int, default=1, help="torch threads (one state at a time: more rarely help)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    loaded = load_version(a.version_dir) if a.version_dir else load_latest(a.models_dir)
    result = evaluate(Predictor(loaded), a.lambada, a.lambada_limit, a.keystrokes, a.keystroke_words, a.suggestions,
                      a.perplexity, a.per_article)
    print(f"model {loaded.version}")
    print(markdown_table(result))
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
