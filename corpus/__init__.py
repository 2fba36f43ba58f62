"""The training corpus: a seeded generator of long-range cue passages and everyday text,
mixed with the user's own text, written as train/valid/test splits.

    python -m corpus.build --out-dir data/corpus
"""
