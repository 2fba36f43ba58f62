"""Real-text evaluation through the service's own Predictor: LAMBADA, keystroke savings, perplexity,
for the neural model with and without its document cache and the 5-gram + recency baseline, in one run.

    make evaluate-text     # the newest model on LAMBADA and four texts (data paths in the Makefile)
    python -m model.evaluation.real_text --models-dir models --lambada PATH --lambada-limit 500 \\
        --keystrokes fiction=BOOKS.txt.xz --keystroke-words 5000 --json out.json

The parts, each in its own file of model/evaluation/:
- texts.py: the texts read, as documents typed from their start;
- typists.py: who types (NeuralTypist: what the service suggests; NgramTypist: the baseline);
- presage.py: Presage, the predictive-text engine AAC tools use, as it ships (`--presage`; keystrokes only);
- keystrokes.py: keystroke savings with 3 suggestions, words passed over not shown again;
- lambada.py: LAMBADA's last word, ranked as the next word or as the passage's last;
- last_word.py: the last-word ranker fitted on held-out fiction (`--last-word-ranker`);
- here: perplexity of a plain text file (`text_perplexity`, the state carried across the file or reset
  at each WikiText article heading, scored by model.evaluation.scoring), and the command line.

The data comes only from the paths given; without one, that part is skipped.
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import torch

from model.cache import OFF, CacheSettings
from model.checkpoint import LoadedModel, load_latest, load_version
from model.evaluation.cache_scoring import fit_ngram
from model.evaluation.keystrokes import placed_keystrokes
from model.evaluation.lambada import LastWord, last_word_passages, score_lambada, unpredictable_locally
from model.evaluation.scoring import evaluate_split
from model.evaluation.texts import DOCUMENT_KINDS, document_source, read_documents, read_lambada, read_lines, split_articles
from model.evaluation.typists import NeuralTypist, NgramTypist, RecencySettings, Typist, tune_recency
from model.predict import Predictor
from model.training.data import encode_passages


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


def evaluate(systems: dict[str, Typist], lambada: Path | None, lambada_limit: int,
             keystrokes: Sequence[tuple[str, Path]], keystroke_words: int, n_suggestions: int = 3,
             words_per_document: int | None = None, perplexity: Sequence[Path] = (), per_article: bool = False,
             repeat: bool = False, last_word: LastWord | None = None, ranker=None) -> dict:
    """LAMBADA and keystroke savings for each system (name → typist), perplexity for the neural model. With
    `last_word`, LAMBADA is also scored with each system's words ranked as the passage's last (LastWord);
    with `ranker` (last_word.LastWordRanker), also so ranked for the systems with a document cache."""
    if not systems:
        raise ValueError("no system to evaluate")
    first = next(iter(systems.values()))
    result: dict = {"version": first.predictor.version, "systems": list(systems), "lambada": [], "keystrokes": []}
    for name, typist in systems.items():
        if lambada is not None and lambada_limit > 0 and hasattr(typist, "top"):  # Presage only types
            rankings: list = [None] + ([last_word] if last_word is not None else [])
            if ranker is not None and getattr(typist, "cache", None) is not None:
                rankings.append(ranker)
            for ranking in rankings:
                score = score_lambada(typist, read_lambada(lambada, lambada_limit), last_word=ranking)
                result["lambada"].append({"system": name, "path": str(lambada), **asdict(score),
                                          "ranking": "next word" if ranking is None else ranking.as_json()})
        if keystroke_words > 0:
            for kind, path in keystrokes:
                placed = placed_keystrokes(typist, read_documents(kind, path), n_suggestions, keystroke_words,
                                           words_per_document, repeat)
                count = placed.count
                result["keystrokes"].append({
                    "system": name, "kind": kind, "path": str(path), "savings": round(count.savings, 4),
                    "keystrokes": count.keystrokes, "letters_and_spaces": count.letters_and_spaces,
                    "words": count.words, "suggestions": n_suggestions, "words_per_document": words_per_document,
                    "passed_over_shown_again": repeat, "by_distance": placed.by_distance()})
    if perplexity:
        result["perplexity"] = [text_perplexity(first.predictor, path, per_article) for path in perplexity]
    return result


def markdown_table(result: dict) -> str:
    rows = ["| system | measure | data | value |", "|---|---|---|---|"]
    for lam in result.get("lambada", []):
        name, where = lam["system"], f"{Path(lam['path']).name}, {lam['n']} passages"
        ranking = lam.get("ranking", "next word")
        if ranking != "next word":
            name += ", last word by the fitted ranker" if "fitted_ranker" in ranking else ", ranked as the last word"
        rows += [f"| {name} | LAMBADA top-1 | {where} | {lam['top1']:.4f} |",
                 f"| {name} | LAMBADA top-{lam['k']} | {where} | {lam['topk']:.4f} |",
                 f"| {name} | LAMBADA targets outside the vocabulary | {where} | {lam['oov_share']:.4f} |"]
    for ks in result.get("keystrokes", []):
        rows.append(f"| {ks['system']} | keystroke savings, {ks['suggestions']} suggestions | {ks['kind']}: "
                    f"{Path(ks['path']).name}, {ks['words']} words | {ks['savings']:.4f} "
                    f"({ks['keystrokes']} of {ks['letters_and_spaces']} keystrokes) |")
    for pp in result.get("perplexity", []):
        scope = "per article" if pp["per_article"] else "whole file"
        rows.append(f"| model | perplexity ({scope}) | {Path(pp['path']).name}, {pp['tokens']} tokens, "
                    f"<unk> {pp['unk_share']:.2%} | {pp['perplexity']:.2f} |")
    return "\n".join(rows)


def distance_table(result: dict) -> str:
    """Keystrokes saved by how far back each word was last written in its document (words), per system and text."""
    rows = result.get("keystrokes", [])
    if not rows or "by_distance" not in rows[0]:
        return ""
    labels = [group["distance"] for group in rows[0]["by_distance"]]
    lines = ["| system | text | " + " | ".join(f"{label} words back" if label != "new" else "new to the document"
                                              for label in labels) + " |", "|---|---|" + "---|" * len(labels)]
    for ks in rows:
        cells = [f"{g['savings']:.3f} ({g['words']})" if g["savings"] is not None else "-" for g in ks["by_distance"]]
        lines.append(f"| {ks['system']} | {ks['kind']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cache_override(spec: str) -> tuple[str, float | int | bool]:
    """KEY=VALUE for --cache: one CacheSettings field and its value."""
    key, _, value = spec.partition("=")
    def yes(v: str) -> bool:
        return v.lower() in ("1", "true", "yes")

    types = {"weight": float, "flatness": float, "entropy_scale": float, "window": int, "ramp_pairs": int, "ngram_weight": float,
             "copy_unknown": yes, "skip_latest": yes}
    if key not in types or not value:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE with KEY one of {', '.join(types)}, got {spec!r}")
    try:
        return key, types[key](value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{spec!r}: not a number") from None


def system_name(predictor: Predictor) -> str:
    """The served model's row: with its cache, and its n-gram blended in where it has one (model/cache.py)."""
    if not predictor.cache_settings.enabled:
        return "model"
    blended = predictor.ngram is not None and predictor.cache_settings.ngram_weight > 0
    return f"model + cache + {predictor.ngram.order}-gram" if blended else "model + cache"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m model.evaluation.real_text",
                                description="LAMBADA, keystroke savings and perplexity on real text, through the Predictor.")
    p.add_argument("--models-dir", type=Path, default=Path("models"), help="use the newest version here")
    p.add_argument("--version-dir", type=Path, help="evaluate this version directory instead")
    p.add_argument("--lambada", type=Path, help="LAMBADA jsonl ({\"text\": ...} per line); none: skipped")
    p.add_argument("--lambada-limit", type=int, default=500, help="first N passages (0: skip LAMBADA)")
    p.add_argument("--last-word-proxy", type=document_source, metavar="[KIND=]PATH",
                   help="instead of LAMBADA: LAMBADA-like passages cut from this held-out text (last_word_passages)")
    p.add_argument("--hard-proxy", action="store_true",
                   help="keep only proxy passages whose last word the model alone does not rank in its top 10 "
                        "(unpredictable_locally, as LAMBADA's selection)")
    p.add_argument("--last-word", action="store_true",
                   help="also score LAMBADA with the words ranked as the passage's last (LastWord)")
    p.add_argument("--last-word-ranker", type=Path, metavar="JSON",
                   help="also score LAMBADA with the ranker fitted for this version (python -m model.evaluation.last_word)")
    p.add_argument("--last-word-candidates", type=int, default=LastWord.candidates, help="next words re-ranked")
    p.add_argument("--last-word-weight", type=float, default=LastWord.weight,
                   help="exponent of p(no word follows) in the last-word ranking")
    p.add_argument("--keystrokes", type=document_source, nargs="*", default=[], metavar="[KIND=]PATH",
                   help=f"texts to type (.xz read as xz), KIND one of {', '.join(DOCUMENT_KINDS)} (read_documents)")
    p.add_argument("--keystroke-words", type=int, default=2000, help="words typed from each text (0: skip)")
    p.add_argument("--words-per-document", type=int, default=0, help="words typed from each document at most (0: all)")
    p.add_argument("--suggestions", type=int, default=3, help="suggestions shown while typing")
    p.add_argument("--repeat-suggestions", action="store_true",
                   help="show the plain top k at every letter, words passed over included (the measure up to session 9)")
    p.add_argument("--cache", type=cache_override, nargs="+", default=[], metavar="KEY=VALUE",
                   help="evaluate with these document cache settings instead of the version's (weight=0.5 "
                        "entropy_scale=0 ...): chosen on held-out text for a task of its own, such as last words")
    p.add_argument("--no-cache-baseline", action="store_true", help="also the same model with its cache off")
    p.add_argument("--baselines-only", action="store_true",
                   help="leave out the model with its cache (to run the baselines in a process of their own)")
    p.add_argument("--ngram-corpus", type=Path, help="also the 5-gram + recency baseline, fitted on this train.txt")
    p.add_argument("--ngram-tokens", type=int, default=0, help="fit the 5-gram on at most this many tokens (0: all)")
    p.add_argument("--tune-recency", type=Path, metavar="VALID_TXT",
                   help="tune the baseline's recency weight and decay on these passages (a corpus's valid.txt)")
    p.add_argument("--presage", action="store_true",
                   help="also Presage as Debian ships it (apt-get install presage), on keystrokes; skipped if missing")
    p.add_argument("--perplexity", type=Path, nargs="*", default=[], help="plain text files to score (whole file read)")
    p.add_argument("--per-article", action="store_true", help="reset the state at each WikiText article heading")
    p.add_argument("--json", type=Path, help="write the result here")
    p.add_argument("--plot", type=Path, metavar="PNG", help="draw the keystrokes saved, by system and text, here")
    p.add_argument("--threads", type=int, default=1, help="torch threads (one state at a time: more rarely help)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    loaded = load_version(a.version_dir) if a.version_dir else load_latest(a.models_dir)
    predictor = Predictor(loaded)
    if a.cache:
        predictor.cache_settings = CacheSettings.from_json({**predictor.cache_settings.as_json(), **dict(a.cache)})
    systems: dict[str, Typist] = {system_name(predictor): NeuralTypist(predictor)}
    if a.no_cache_baseline and predictor.cache_settings.enabled:
        systems["model, no cache"] = NeuralTypist(predictor, OFF)
    if a.baselines_only:
        systems.pop(next(iter(systems)))
    recency_tuning = None
    if a.ngram_corpus:
        ngram = fit_ngram(loaded, a.ngram_corpus, max_tokens=a.ngram_tokens)
        recency = RecencySettings()
        if a.tune_recency:
            from model.training.data import read_passages

            passages = encode_passages(predictor.tokenizer, read_passages(a.tune_recency))
            recency, recency_tuning = tune_recency(ngram, predictor, passages)
            print(f"5-gram + recency tuned on {recency_tuning['tokens']:,} tokens of {a.tune_recency}: {recency}; "
                  f"perplexity {recency_tuning['perplexity_without_recency']} → {recency_tuning['perplexity']}")
        systems["5-gram + recency"] = NgramTypist(predictor, ngram, recency)
    if a.presage:
        from model.evaluation.presage import PresageTypist, PresageUnavailable

        try:
            systems["Presage"] = PresageTypist(predictor)
        except PresageUnavailable as e:
            print(f"Presage is not compared: {e}")
    ranker = None
    if a.last_word_ranker and not predictor.cache_settings.enabled:
        print(f"model {loaded.version} has no document cache: LAMBADA is not ranked by a last-word ranker")
    elif a.last_word_ranker:
        from model.evaluation.last_word import LastWordRanker

        ranker = LastWordRanker.load(a.last_word_ranker, loaded.version)
    lambada = a.lambada
    if a.last_word_proxy:
        kind, path = a.last_word_proxy
        proxy = Path(f"data/eval/last-word-proxy-{path.name.split('.')[0]}{'-hard' if a.hard_proxy else ''}.jsonl")
        proxy.parent.mkdir(parents=True, exist_ok=True)
        passages = last_word_passages(read_documents(kind, path), limit=a.lambada_limit,
                                      keep=unpredictable_locally(predictor) if a.hard_proxy else None)
        proxy.write_text("".join(json.dumps({"text": t}) + "\n" for t in passages))
        lambada = proxy
    result = evaluate(systems, lambada, a.lambada_limit, a.keystrokes, a.keystroke_words, a.suggestions,
                      a.words_per_document or None, a.perplexity, a.per_article, a.repeat_suggestions,
                      LastWord(a.last_word_candidates, a.last_word_weight) if a.last_word else None, ranker)
    result["cache"] = predictor.cache_settings.as_json()
    if recency_tuning is not None:
        result["recency"] = {**asdict(systems["5-gram + recency"].recency), "tuning": recency_tuning}
    print(f"model {loaded.version}, cache {predictor.cache_settings}")
    print(markdown_table(result))
    by_distance = distance_table(result)
    if by_distance:
        print(f"\nKeystrokes saved by how far back the word was last written (savings, words):\n{by_distance}")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {a.json}")
    if a.plot and result["keystrokes"]:
        from model.evaluation.plots import plot_keystroke_savings  # matplotlib is needed for the figure only

        plot_keystroke_savings(result["keystrokes"], a.plot)
        print(f"wrote {a.plot}")


if __name__ == "__main__":
    main()
