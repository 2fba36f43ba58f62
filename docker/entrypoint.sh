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
#   english                   build the real-English corpus (corpus/english.py) from
#                             $NEXTWORD_ENGLISH_DATA (default /shared: WikiText-2, Gutenberg
#                             fiction, SGD) and train the english preset into the models folder.
#   anything else             exec'd as given (e.g. `sh`, `python -m ...`).
#
# Environment (besides the service's own, see README "Configuration"):
#   NEXTWORD_PORTS        serve: a port or range ("8001-8008"); each replica listens on the first
#                         free one (docker/listen.py). Default: $PORT.
#   NEXTWORD_CORPUS_ARGS  extra arguments for `python -m corpus.build` (word-split)
#   NEXTWORD_TRAIN_ARGS   extra arguments for `python -m model.training` (word-split), before any
#                         given on the command line
#   NEXTWORD_STATE_SECRET_FILE  where ensure-model/retrain keep a generated state-token key
#                         (default $NEXTWORD_MODELS_DIR/.state-secret); serve uses it when
#                         NEXTWORD_STATE_SECRET is empty, so all replicas share one key.
set -eu

NEXTWORD_MODELS_DIR="${NEXTWORD_MODELS_DIR:-/models}"
NEXTWORD_CORPUS_DIR="${NEXTWORD_CORPUS_DIR:-/data/corpus}"
NEXTWORD_STATE_SECRET_FILE="${NEXTWORD_STATE_SECRET_FILE:-$NEXTWORD_MODELS_DIR/.state-secret}"
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
    # shellcheck disable=SC2086  # NEXTWORD_CORPUS_ARGS holds several words
    if ! python -m corpus.build --out-dir "$tmp" ${NEXTWORD_CORPUS_ARGS:-}; then
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

# One key for every replica, kept beside the models (the volume they all mount). Written once,
# readable by the service user only; an explicit NEXTWORD_STATE_SECRET always wins.
ensure_state_secret() {
    if [ -s "$NEXTWORD_STATE_SECRET_FILE" ]; then
        return 0
    fi
    mkdir -p "$(dirname "$NEXTWORD_STATE_SECRET_FILE")"
    tmp="$NEXTWORD_STATE_SECRET_FILE.tmp.$$"
    (umask 077 && python -c 'import secrets; print(secrets.token_hex(32))' >"$tmp")
    mv "$tmp" "$NEXTWORD_STATE_SECRET_FILE"
    log "wrote a state-token key to $NEXTWORD_STATE_SECRET_FILE"
}

cmd="${1:-serve}"
if [ "$#" -gt 0 ]; then
    shift
fi

case "$cmd" in
    serve)
        if [ -z "${NEXTWORD_STATE_SECRET:-}" ] && [ -s "$NEXTWORD_STATE_SECRET_FILE" ]; then
            NEXTWORD_STATE_SECRET=$(cat "$NEXTWORD_STATE_SECRET_FILE")
            export NEXTWORD_STATE_SECRET
            log "state tokens signed with the key in $NEXTWORD_STATE_SECRET_FILE"
        fi
        log "serving models from $NEXTWORD_MODELS_DIR on ${HOST:-127.0.0.1}, port ${NEXTWORD_PORTS:-${PORT:-8000}}"
        # listen.py binds the first free port of the range and execs gunicorn on that socket.
        # /dev/shm keeps gunicorn's worker heartbeat files off the overlay fs.
        exec python /app/docker/listen.py -- gunicorn -c service/gunicorn.conf.py \
            --worker-tmp-dir /dev/shm "$@" 'service:create_app()'
        ;;
    ensure-model)
        ensure_state_secret
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
        # shellcheck disable=SC2086  # NEXTWORD_TRAIN_ARGS holds several words
        exec python -m model.training --corpus-dir "$NEXTWORD_CORPUS_DIR" \
            --models-dir "$NEXTWORD_MODELS_DIR" --if-missing ${NEXTWORD_TRAIN_ARGS:-} "$@"
        ;;
    retrain)
        ensure_state_secret
        build_corpus
        log "training a new model version into $NEXTWORD_MODELS_DIR"
        # shellcheck disable=SC2086  # NEXTWORD_TRAIN_ARGS holds several words
        exec python -m model.training --corpus-dir "$NEXTWORD_CORPUS_DIR" \
            --models-dir "$NEXTWORD_MODELS_DIR" ${NEXTWORD_TRAIN_ARGS:-} "$@"
        ;;
    english)
        ensure_state_secret
        data="${NEXTWORD_ENGLISH_DATA:-/shared}"
        log "building the real-English corpus from $data"
        python -m corpus.english --wikitext "$data/wikitext-2" --fiction "$data/gutenberg-fiction" \
            --dialogue "$data/sgd-partial" --out-dir "$(dirname "$NEXTWORD_CORPUS_DIR")/english"
        log "training the english preset into $NEXTWORD_MODELS_DIR"
        # shellcheck disable=SC2086  # NEXTWORD_TRAIN_ARGS holds several words
        exec python -m model.training --preset english --corpus-dir "$(dirname "$NEXTWORD_CORPUS_DIR")/english" \
            --models-dir "$NEXTWORD_MODELS_DIR" ${NEXTWORD_TRAIN_ARGS:-} "$@"
        ;;
    *)
        exec "$cmd" "$@"
        ;;
esac
