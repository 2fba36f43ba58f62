#!/bin/sh
# Container entry point for nextword.
#
#   serve [GUNICORN_ARGS...]  (default) run the API with gunicorn; extra
#                             arguments go to gunicorn before the app.
#   ensure-model              train a first model into $NEXTWORD_MODELS_DIR if
#                             it holds no complete model version; the corpus
#                             is built into $NEXTWORD_CORPUS_DIR first unless a
#                             complete one is already there. Exits 0 at once
#                             when a model exists.
#   retrain                   build the corpus again and train a new model
#                             version unconditionally.
#   anything else             exec'd as given (e.g. `sh`, `python -m ...`).
set -eu

NEXTWORD_MODELS_DIR="${NEXTWORD_MODELS_DIR:-/models}"
NEXTWORD_CORPUS_DIR="${NEXTWORD_CORPUS_DIR:-/data/corpus}"
export NEXTWORD_MODELS_DIR NEXTWORD_CORPUS_DIR

log() {
    echo "entrypoint: $*"
}

corpus_complete() {
    [ -f "$NEXTWORD_CORPUS_DIR/train.txt" ] \
        && [ -f "$NEXTWORD_CORPUS_DIR/valid.txt" ] \
        && [ -f "$NEXTWORD_CORPUS_DIR/test.txt" ]
}

# Build into a fresh sibling directory and swap it in only on success, so a
# failed build leaves the previous corpus in place.
build_corpus() {
    parent=$(dirname "$NEXTWORD_CORPUS_DIR")
    mkdir -p "$parent"
    tmp=$(mktemp -d "$NEXTWORD_CORPUS_DIR.new.XXXXXX")
    log "building corpus into $NEXTWORD_CORPUS_DIR"
    if ! python -m corpus.build --out-dir "$tmp"; then
        rm -rf "$tmp"
        log "corpus build failed" >&2
        return 1
    fi
    old="$NEXTWORD_CORPUS_DIR.old"
    rm -rf "$old"
    if [ -e "$NEXTWORD_CORPUS_DIR" ]; then
        mv "$NEXTWORD_CORPUS_DIR" "$old"
    fi
    mv "$tmp" "$NEXTWORD_CORPUS_DIR"
    rm -rf "$old"
}

cmd="${1:-serve}"
if [ "$#" -gt 0 ]; then
    shift
fi

case "$cmd" in
    serve)
        log "serving models from $NEXTWORD_MODELS_DIR on port ${PORT:-8000}"
        # /dev/shm keeps gunicorn's worker heartbeat files off the overlay fs.
        exec gunicorn -c service/gunicorn.conf.py --worker-tmp-dir /dev/shm \
            "$@" 'service:create_app()'
        ;;
    ensure-model)
        if ls "$NEXTWORD_MODELS_DIR"/*/manifest.json >/dev/null 2>&1; then
            log "a model exists in $NEXTWORD_MODELS_DIR; nothing to do"
            exit 0
        fi
        if corpus_complete; then
            log "corpus present in $NEXTWORD_CORPUS_DIR"
        else
            build_corpus
        fi
        log "training into $NEXTWORD_MODELS_DIR unless it holds a model"
        exec python -m model.train --corpus-dir "$NEXTWORD_CORPUS_DIR" \
            --models-dir "$NEXTWORD_MODELS_DIR" --if-missing "$@"
        ;;
    retrain)
        build_corpus
        log "training a new model version into $NEXTWORD_MODELS_DIR"
        exec python -m model.train --corpus-dir "$NEXTWORD_CORPUS_DIR" \
            --models-dir "$NEXTWORD_MODELS_DIR" "$@"
        ;;
    *)
        exec "$cmd" "$@"
        ;;
esac
