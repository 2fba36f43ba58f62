"""The document cache (model/cache.py) across requests, with nothing kept that any worker must have.

The cache's keys are the model's hidden states over the last W words, which depend on the whole text
before them: the word ids alone do not give them back. So the state token (service/state_token.py)
carries a rebuild recipe: the recurrent state at an earlier point s (the snapshot; "the start" for a
short text), the ids read since s (between W and W + SLACK of them once the text is long), and the
spelling of each id outside the vocabulary. Reading those ids from the snapshot gives the cache again,
keys included, to float rounding, on any worker or replica.

Rebuilding reads up to W + SLACK words, so each worker also keeps the caches it built in a bounded LRU
(CacheStore) keyed by the signature of the token it issued with them: the same worker answering the
next request (the common case with one client typing) only reads the new words. A miss (another worker,
an eviction, a restart) rebuilds: the same answer, slower. Figures: docs/design.md (bench/cache_state.py).

         s (snapshot)                       t - W                       t (now: the carried state)
    ─────┼──────────────────────────────────┼───────────────────────────┤
         └──────── ids since s: W .. W + SLACK, carried in the token ─────┘
                                            └─ the cache's W (key, word) pairs

When more than W + SLACK ids pile up, the snapshot moves forward to t - W: once per SLACK words typed.
"""
from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from model import DocumentCache, EmptyPromptError, LocalRows, Predictor, State, rows_capacity, seed_digest, write_rows
from service.rows_store import RedisRowsStore
from service.shared_rows import SharedRowsFolder
from service.state_token import (
    COUNT,
    HEADER,
    IDS,
    MAC_BYTES,
    POSITION,
    ROWS,
    SHAPE,
    Decoded,
    InvalidStateToken,
    Recipe,
    RowsAt,
)

# How far the snapshot may fall behind the window: the token carries up to W + SLACK ids and the
# snapshot moves (SLACK words re-read by the recurrence) once every SLACK words.
SLACK = 256
# Distinct spellings outside the vocabulary a token carries, in UTF-8 bytes: beyond it, the oldest ones
# are not copied (a text must be mostly invented words of its own to reach it; the token stays bounded).
SPELLING_BUDGET = 8192
# Bytes an LRU entry costs beyond its arrays (objects, list, dict entry), counted against the budget.
ENTRY_OVERHEAD = 512
# Mixtures a worker keeps for the letters typed at one state (RecentMixtures): one is the model's
# probabilities and the window's view, ~200 KB for the english model's 40,000 words, so ~13 MB. A
# typist needs one from the request that reads a word to the letters of the next.
MIXTURES_KEPT = 64


def max_recipe_ids(predictor: Predictor) -> int:
    return predictor.cache_settings.window + SLACK


def max_token_chars(predictor: Predictor) -> int:
    """The longest token with a recipe this model can issue: longer ones are refused before any work."""
    state_bytes = 4 * int(np.prod(predictor.state_shape()))
    n = max_recipe_ids(predictor)
    recipe = IDS.size + 4 * n + COUNT.size + n * POSITION.size + SPELLING_BUDGET + ROWS.size
    deflated = recipe + recipe // 1000 + 64  # zlib's worst case on data that does not compress
    payload = HEADER.size + 4 * len(predictor.version) + SHAPE.size + 2 * state_bytes + 1 + deflated + MAC_BYTES
    return 4 * (payload + 2) // 3


@dataclass
class Reading:
    """One request's outcome: where the text now is, its cache, and the recipe to put in the token."""
    state: State
    cache: DocumentCache
    recipe: Recipe
    rebuilt: int  # tokens re-read to rebuild the cache (0 on a hit)
    # Unless this worker's LRU had it: the cache as the incoming token describes it, before the new words.
    # Kept under that token too, so the same token sent again to this worker (the next letters of a word
    # being typed, a retry) is a hit.
    restored: DocumentCache | None = None
    source: str = "new"  # where the cache came from: "new" (no token), "hit" (this worker's LRU),
    #                      "shared" (rows another worker of this host wrote), "redis" (rows in Redis),
    #                      "rebuilt" (from the recipe)


def check_recipe(predictor: Predictor, recipe: Recipe) -> None:
    """A genuine token is also one this model can use: refuse what it could not have issued."""
    vocab = predictor.tokenizer.vocab_size
    if len(recipe.ids) > max_recipe_ids(predictor):
        raise InvalidStateToken("the state token's recipe is longer than this model's cache window allows")
    if recipe.ids and not 0 <= min(recipe.ids) <= max(recipe.ids) < vocab:
        raise InvalidStateToken("the state token's recipe holds ids outside the vocabulary")
    if recipe.snapshot is None and not recipe.ids:
        raise InvalidStateToken("the state token's recipe is empty")


def within_budget(spellings: list[str | None]) -> list[str | None]:
    """The spellings, newest first, until their distinct UTF-8 bytes pass SPELLING_BUDGET; older ones None."""
    distinct = {s for s in spellings if s is not None}
    if sum(len(s) for s in distinct) * 4 <= SPELLING_BUDGET:  # the common case: far below, even in UTF-8
        return list(spellings)
    kept, seen, total = list(spellings), set(), 0
    for i in range(len(kept) - 1, -1, -1):
        spelling = kept[i]
        if spelling is None or spelling in seen:
            continue
        total += len(spelling.encode("utf-8"))
        if total > SPELLING_BUDGET:
            kept[:i + 1] = [None] * (i + 1)
            break
        seen.add(spelling)
    return kept


def stored_cache(predictor: Predictor, recipe: Recipe, shared: SharedRowsFolder | None,
                 store: RedisRowsStore | None = None) -> tuple[DocumentCache | None, str]:
    """The cache a recipe describes, from rows already written: this host's (service/shared_rows.py,
    "shared"), else, in whole or in part, Redis's (service/rows_store.py, "redis"); (None, "rebuilt")
    where they are not there, or are not the token's text (the digest of their words differs): then it
    is rebuilt."""
    at = recipe.rows
    if at is None or (shared is None and store is None):
        return None, "rebuilt"
    settings, unk, hidden = predictor.cache_settings, predictor.tokenizer.unk_id, predictor.model.config.hidden_size
    pairs = len(recipe.ids) - (1 if recipe.snapshot is None else 0)  # the first word of a text has no pair
    n = at.end - at.start
    if n <= 0 or n != min(max(pairs, 0), settings.window):
        return None, "rebuilt"
    words = np.asarray(recipe.ids[len(recipe.ids) - n:], dtype=np.int64)  # the pairs' next words
    spellings = recipe.spellings[len(recipe.spellings) - n:]
    new_rows = shared.new_rows if shared is not None else LocalRows

    def view(rows, source: str) -> tuple[DocumentCache | None, str]:
        if not np.array_equal(rows.words[at.start:at.end], words):
            return None, "rebuilt"
        return DocumentCache.over(settings, unk, rows, at.start, at.end, spellings, new_rows), source

    local = shared.open(at.name, hidden) if shared is not None else None
    if local is not None and local.frontier >= at.end and int(local.digests[at.end - 1]) == at.digest:
        return view(local, "shared")
    if store is None:
        return None, "rebuilt"
    if local is not None and local.frontier < at.end:  # the copy here lacks the rows written since elsewhere
        have = local.frontier
        previous = int(local.digests[have - 1]) if have else seed_digest(at.name)
        missing = store.fetch_chain(at.name, hidden, have, at.end, previous, at.digest)
        if missing is not None and local.claim(have, at.end - have):
            write_rows(local, have, *missing)
            return view(local, "redis")
    # No copy here, or one that diverged: all the rows up to the token's, from Redis.
    fetched = store.fetch_chain(at.name, hidden, 0, at.end, seed_digest(at.name), at.digest)
    if fetched is None:
        return None, "rebuilt"
    if local is None:  # a copy under the same name: what this host appends extends the same rows in Redis
        rows = new_rows(rows_capacity(at.end, settings.window), hidden, at.name)
        if rows.claim(0, at.end):
            write_rows(rows, 0, *fetched)
            return view(rows, "redis")
    cache = predictor.new_cache(new_rows=new_rows)  # rows of its own, under a new name
    cache.add(fetched[0][at.start:], fetched[1][at.start:], spellings)
    return (cache, "redis") if np.array_equal(cache.words, words) else (None, "rebuilt")


def read_document(predictor: Predictor, before: Decoded | None, cached, ids: list[int],
                  spellings: list[str | None], shared: SharedRowsFolder | None = None,
                  store: RedisRowsStore | None = None) -> Reading:
    """Read the new `ids` into the document the token `before` describes (None: a new text).

    `cached` is the cache the LRU holds for `before` (it is not changed), or None: then it is read from
    the host's shared rows or from Redis where the token names rows they hold, else rebuilt from the
    recipe. Whole text or word by word, hit or miss, the cache ends up with the same pairs."""
    if before is None and not ids:
        raise EmptyPromptError("the prompt has no words")
    if before is None:
        recipe, state = Recipe(None, [], []), None
    elif before.recipe is None:  # a token issued without the cache: the document starts at its state
        recipe, state = Recipe(before.state, [], []), predictor.array_to_state(before.state)
    else:
        recipe, state = before.recipe, predictor.array_to_state(before.state)
    old = len(recipe.ids)
    all_ids, all_spellings = recipe.ids + list(ids), recipe.spellings + list(spellings)
    total = len(all_ids)
    cut = total - predictor.cache_settings.window if total > max_recipe_ids(predictor) else 0
    snapshot = None if recipe.snapshot is None else predictor.array_to_state(recipe.snapshot)
    new_snapshot = recipe.snapshot
    rebuilt = 0

    def read(lo: int, hi: int, at: State | None) -> State | None:
        if lo >= hi:
            return at
        return predictor.read(all_ids[lo:hi], at, cache, all_spellings[lo:hi])

    source = "new" if before is None else "hit" if cached is not None else "rebuilt"
    restored = None
    if cached is None and before is not None and before.recipe is not None:
        cached, found = stored_cache(predictor, recipe, shared, store)
        if cached is not None:
            source, restored = found, cached
    if cached is None:  # rebuild: the keys come back by reading the recipe from its snapshot
        cache, rebuilt = predictor.new_cache(new_rows=shared.new_rows if shared else None), old
        if 0 < cut < old:
            at = read(0, cut, snapshot)
            new_snapshot = predictor.state_to_array(at).copy()
            read(cut, old, at)
        else:
            read(0, old, snapshot)
        restored = copy.copy(cache)  # reading the new words below writes only past these rows
    else:
        cache = copy.copy(cached)  # DocumentCache.add writes only past the rows `cached` sees
        if 0 < cut < old:  # the snapshot moves into the words already read: re-run the recurrence there
            new_snapshot = predictor.state_to_array(predictor.advance(all_ids[:cut], snapshot)).copy()
            rebuilt = cut
    # The new words continue from the carried state, as without a cache (hit or miss alike).
    if cut >= old and cut > 0:
        state = read(old, cut, state)
        new_snapshot = predictor.state_to_array(state).copy()
        state = read(cut, total, state)
    else:
        state = read(old, total, state)
    kept = all_spellings[cut:]
    budgeted = within_budget(kept)
    if budgeted != kept and len(cache):
        cache.spellings = budgeted[len(budgeted) - len(cache):]  # a rebuild from the token gives exactly these
    rows, start, end = cache.location()
    # The token names the rows where another worker or host could read them (shared folder, Redis).
    named = (shared is not None or store is not None) and len(cache)
    at = RowsAt(rows.name, start, end, cache.digest) if named else None
    return Reading(state, cache, Recipe(new_snapshot, all_ids[cut:], budgeted, at), rebuilt, restored, source)


def footprint(cache) -> tuple[object, int, int]:
    """(the rows it shares with the caches of its document, their bytes, its own bytes beyond them)."""
    rows, shared = cache.storage()
    return rows, shared, sum(len(s) for s in cache.spellings if s) + ENTRY_OVERHEAD


class CacheStore:
    """The document caches this worker built lately, by the signature of the token issued with each:
    bounded in bytes and in count, least recently used out first. Entries are never changed in place.

    The caches of one document's successive tokens share their rows (model/cache.py): those are counted
    once, while any entry holds them, so the budget is what the entries really keep alive."""

    def __init__(self, max_bytes: int, max_entries: int = 4096) -> None:
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self._entries: OrderedDict[bytes, tuple[object, int, object]] = OrderedDict()  # cache, own bytes, rows
        self._rows: dict[object, list[int]] = {}  # rows → [entries holding them, their bytes]
        self.bytes = 0
        self.hits = self.misses = 0
        self._lock = threading.Lock()  # gthread workers answer requests on several threads

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: bytes):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: bytes, cache) -> None:
        rows, shared, own = footprint(cache)
        with self._lock:
            if key in self._entries:
                self._drop(key)
            if shared + own > self.max_bytes:
                return
            self._entries[key] = (cache, own, rows)
            held = self._rows.setdefault(rows, [0, shared])
            self.bytes += own + (shared if held[0] == 0 else 0)
            held[0] += 1
            while self.bytes > self.max_bytes or len(self._entries) > self.max_entries:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: bytes) -> None:
        _, own, rows = self._entries.pop(key)
        held = self._rows[rows]
        held[0] -= 1
        self.bytes -= own
        if held[0] == 0:
            self.bytes -= held[1]
            del self._rows[rows]


class RecentMixtures:
    """The next-word mixtures (model/predict.py MixtureParts) of the states this worker answered lately,
    by (model version, signature of the token issued at each), least recently used out first; at most
    `max_entries`.

    A client typing a word sends each letter as a prefix with the token of the word before and no new
    text: the same state, the same mixture, another filter. Ranking a kept mixture for the new prefix
    is all such a request costs (figures: docs/results.md)."""

    def __init__(self, max_entries: int = MIXTURES_KEPT) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, bytes], object] = OrderedDict()
        self._lock = threading.Lock()  # gthread workers answer requests on several threads

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[str, bytes]):
        with self._lock:
            parts = self._entries.get(key)
            if parts is not None:
                self._entries.move_to_end(key)
            return parts

    def put(self, key: tuple[str, bytes], parts) -> None:
        with self._lock:
            self._entries[key] = parts
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
