# nextword: the two commands a user needs are `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
MODELS_DIR ?= models
CORPUS_DIR ?= data/corpus
TRAIN_ARGS ?=

export PORT
export NEXTWORD_MODELS_DIR := $(MODELS_DIR)

.PHONY: help setup serve test retrain corpus evaluate evaluate-text experiment wikitext english clean

help:
	@echo "make serve    set up, train the default model if none exists, serve on \$$PORT ($(PORT))"
	@echo "make test     set up (with test packages) and run the test suite"
	@echo "make retrain  rebuild the corpus (with corpus/user/*.txt) and train a new model version"
	@echo "make corpus   rebuild the corpus only"
	@echo "make evaluate long-range accuracy by gap of the newest model (held-out probes)"
	@echo "make evaluate-text  LAMBADA and keystroke savings on real text (../shared/data) of the newest model, beside Presage where installed (~45 min of it)"
	@echo "make experiment  RNN/GRU/LSTM/n-gram, truncation study, gradient norms -> docs/experiment (~40 min)"
	@echo "make wikitext   WikiText-2 (from ../shared/data): n-gram baseline, then a 30-minute GRU run"
	@echo "make english    the real-English model (WikiText-2, Gutenberg fiction, SGD dialogues, cue passages; ~62 min) in models-english"
	@echo "make clean    remove the venv, the corpus and all trained models"

# The venv is rebuilt only when a requirements file changes: a second `make serve` reinstalls nothing.
$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

setup: $(VENV)/.installed

corpus: $(VENV)/.installed
	$(PY) -m corpus.build --out-dir $(CORPUS_DIR)

retrain: corpus
	$(PY) -m model.training --corpus-dir $(CORPUS_DIR) --models-dir $(MODELS_DIR) $(TRAIN_ARGS)

# Train only when no complete model version exists (a version is complete once it has a manifest).
serve: $(VENV)/.installed
	@if ls $(MODELS_DIR)/*/manifest.json >/dev/null 2>&1; then \
		echo "serving the newest model in $(MODELS_DIR)"; \
	else \
		echo "no model in $(MODELS_DIR): building the corpus and training the default model (about 7 minutes)"; \
		$(MAKE) --no-print-directory retrain; \
	fi
	exec $(VENV)/bin/gunicorn -c service/gunicorn.conf.py 'service:create_app()'

evaluate: $(VENV)/.installed
	$(PY) -m model.evaluation --models-dir $(MODELS_DIR)

# Real text (../shared/data by default), through the service's own Predictor: LAMBADA's last words
# (also by a last-word ranker, fitted first on 2,000 passages of Gutenberg valid: model/evaluation/last_word.py);
# keystrokes saved with 3 suggestions typing Gutenberg fiction, WikiText-2 articles, SGD dialogues
# and LAMBADA passages (20,000 words of each, at most 5,000 per document), for the model with its
# document cache, without it, and the 5-gram + recency baseline fitted on $(CORPUS_DIR)/train.txt;
# then WikiText-2 test perplexity with and without the cache. JSON in data/eval/.
SHARED_DATA ?= ../shared/data
evaluate-text: $(VENV)/.installed
	$(PY) -m model.evaluation.last_word --models-dir $(MODELS_DIR) \
		--passages fiction=$(SHARED_DATA)/gutenberg-fiction/valid.txt.xz --limit 2000 --out data/eval/last-word-ranker.json
	$(PY) -m model.evaluation.real_text --models-dir $(MODELS_DIR) \
		--lambada $(SHARED_DATA)/lambada/lambada_test.jsonl --lambada-limit 5153 --last-word-ranker data/eval/last-word-ranker.json \
		--keystrokes fiction=$(SHARED_DATA)/gutenberg-fiction/test.txt.xz wikitext=$(SHARED_DATA)/wikitext-2/test.txt \
			dialogue=$(SHARED_DATA)/sgd-partial/test.txt.xz lambada=$(SHARED_DATA)/lambada/lambada_test.jsonl \
		--keystroke-words 20000 --words-per-document 5000 --no-cache-baseline --last-word --presage \
		--ngram-corpus $(CORPUS_DIR)/train.txt --tune-recency $(CORPUS_DIR)/valid.txt --json data/eval/real-text.json \
		--plot data/eval/keystrokes-saved.png
	$(PY) -m model.evaluation.cache_scoring --models-dir $(MODELS_DIR) \
		--score $(SHARED_DATA)/wikitext-2/test.txt --per-article --json data/eval/cache-perplexity.json

experiment: $(VENV)/.installed
	$(PY) -m model.evaluation.experiment --out-dir docs/experiment --work-dir data/experiment

# Real text: the same corpus and training commands on WikiText-2 (docs/results.md), with the
# settings of model/training/presets/wikitext.toml; TRAIN_ARGS add to or override them.
WIKITEXT_DIR ?= ../shared/data/wikitext-2
wikitext: $(VENV)/.installed
	$(PY) -m corpus.build --text-dir $(WIKITEXT_DIR) --no-synthetic --out-dir data/wikitext-2
	$(PY) -m model.evaluation.ngram --corpus-dir data/wikitext-2 --vocab-size 40000 --min-frequency 1
	$(PY) -m model.training --preset wikitext --corpus-dir data/wikitext-2 --models-dir data/wikitext-2/models $(TRAIN_ARGS)

# The real-English model: corpus/english.py builds the corpus from ../shared/data (each path
# overridable: FICTION_DIR=my-books), then the `english` preset trains for at most 54 minutes into
# models-english/. A second run with a version there trains nothing. Serve it with
# `make serve MODELS_DIR=models-english`.
ENGLISH_MODELS_DIR ?= models-english
FICTION_DIR ?= $(SHARED_DATA)/gutenberg-fiction
DIALOGUE_DIR ?= $(SHARED_DATA)/sgd-partial
english: $(VENV)/.installed
	@if ls $(ENGLISH_MODELS_DIR)/*/manifest.json >/dev/null 2>&1; then \
		echo "a model already exists in $(ENGLISH_MODELS_DIR): not training (make serve MODELS_DIR=$(ENGLISH_MODELS_DIR))"; \
	else \
		$(PY) -m corpus.english --wikitext $(WIKITEXT_DIR) --fiction $(FICTION_DIR) --dialogue $(DIALOGUE_DIR) \
			--out-dir data/english && \
		$(PY) -m model.training --preset english --corpus-dir data/english --models-dir $(ENGLISH_MODELS_DIR) $(TRAIN_ARGS); \
	fi

# Lint first (ruff, configured in pyproject.toml): a lint error fails the run, and CI.
test: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

# wrk drives scripts/load_test.sh, bench/api_speed.py and the load test in the suite (Debian package;
# apt-get needs root, as in CI). Without it, that test is skipped locally and fails under CI.
.PHONY: load-tools
load-tools:
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	@echo "wrk: $$(command -v wrk)"

clean:
	rm -rf $(VENV) data $(MODELS_DIR)

# Build the images and run the compose stack for real on this machine (root; 1.5-3 minutes): its own
# dockerd, a debootstrapped base image, host networking, a tiny model, 3 replicas behind nginx.
# Not part of `make test` (.ci/run runs it after); run it before changing Dockerfile, docker/ or
# docker-compose.yml.
.PHONY: docker-smoke
docker-smoke:
	bash scripts/docker_smoke.sh
