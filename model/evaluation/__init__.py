"""Evaluation and research: what a trained model knows, and why.

    python -m model.evaluation --models-dir models        # accuracy by gap on held-out probes

probes.py (cue → query probes, accuracy by gap), scoring.py (perplexity, used by training too),
ngram.py (the 5-gram Kneser-Ney baseline), gradients.py (gradient norm by distance: the vanishing
gradient, measured), plots.py, and experiment.py (RNN / GRU / LSTM / n-gram and the truncation
study, `make experiment`); real_text.py (LAMBADA, keystroke savings and perplexity on real text,
`make evaluate-text`, over texts.py, typists.py, presage.py (Presage, the peer), keystrokes.py,
lambada.py, last_word.py and listwise.py) and cache_scoring.py (the document cache's settings, tuned on validation text). The
service imports none of it.
"""
