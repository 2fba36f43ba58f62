"""Presage, the predictive-text engine AAC tools use (https://presage.sourceforge.net/, Debian package
`presage`), as a typist in the real-text evaluation: the peer to beat on keystroke savings, typed
through the same counter (model/evaluation/keystrokes.py) and the same words as our own suggestions.

Presage is used as shipped: its Debian configuration (/etc/presage.xml: the smoothed 3-gram over its
English database, a user 3-gram learnt online from what is typed, a recency predictor, abbreviations),
with the number of suggestions set and its own "do not repeat" switched off (the counter leaves out
the words passed over, for every system alike). The user 3-gram learns into a file of a temporary
folder, never the user's ~/.presage; it learns across the documents of one run, as on a device.

Reached through its C API (libpresage.so.1) with ctypes: Presage asks for the text so far through a
callback, and answers the completions of the word being typed (the text after the last space).
"""
from __future__ import annotations

import ctypes
import tempfile
from collections.abc import Collection, Sequence
from pathlib import Path

from model.evaluation.typists import Suggest
from model.predict import Predictor

LIBRARY = "libpresage.so.1"
CONFIG = Path("/etc/presage.xml")
USER_MODEL = "${HOME}/.presage/lm.db"  # where the shipped configuration keeps what it learns
CONTEXT_CHARS = 600  # the text Presage is shown: its predictors look back a few words, and its
#                      context tracker compares the last 80 characters (SLIDING_WINDOW_SIZE)
_STREAM = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)  # const char* (*)(void*): returns an address
_STRINGS = ctypes.POINTER(ctypes.c_char_p)


class PresageUnavailable(RuntimeError):
    """libpresage or its English database is not installed (Debian: apt-get install presage)."""


def _library() -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(LIBRARY)
    except OSError as e:
        raise PresageUnavailable(f"Presage is not installed ({e}); on Debian: apt-get install presage") from None
    lib.presage_new_with_config.argtypes = [_STREAM, ctypes.c_void_p, _STREAM, ctypes.c_void_p, ctypes.c_char_p,
                                            ctypes.POINTER(ctypes.c_void_p)]
    lib.presage_predict.argtypes = [ctypes.c_void_p, ctypes.POINTER(_STRINGS)]
    lib.presage_free_string_array.argtypes = [_STRINGS]
    lib.presage_config_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.presage_free.argtypes = [ctypes.c_void_p]
    return lib


class Presage:
    """One Presage engine: `predict(text, n)` → the n words it suggests after `text` (completing the word
    being typed when the text does not end in a space), lowercase as its database holds them."""

    def __init__(self, config: Path = CONFIG) -> None:
        if not Path(config).is_file():
            raise PresageUnavailable(f"no Presage configuration at {config}; on Debian: apt-get install presage")
        self._lib = _library()
        self._folder = tempfile.TemporaryDirectory(prefix="nextword-presage-")
        text = Path(config).read_text(encoding="utf-8")
        if USER_MODEL not in text:
            raise PresageUnavailable(f"{config} is not the configuration Presage ships (no {USER_MODEL})")
        text = text.replace(USER_MODEL, f"{self._folder.name}/lm.db")
        mine = Path(self._folder.name) / "presage.xml"
        mine.write_text(text, encoding="utf-8")
        self._past, future = [ctypes.create_string_buffer(1)], ctypes.create_string_buffer(1)
        # Kept on self, as Presage calls them for as long as it lives; they hold the buffers, not self
        # (a cycle would leave the engine and its folder to the garbage collector).
        past = self._past
        self._past_stream = _STREAM(lambda _: ctypes.addressof(past[0]))
        self._future_stream = _STREAM(lambda _: ctypes.addressof(future))
        self._handle = ctypes.c_void_p()
        code = self._lib.presage_new_with_config(self._past_stream, None, self._future_stream, None,
                                                 str(mine).encode(), ctypes.byref(self._handle))
        if code != 0 or not self._handle:
            raise PresageUnavailable(f"Presage did not start with {mine} (error {code}): is libpresage-data installed?")
        self._set("Presage.Selector.REPEAT_SUGGESTIONS", "yes")  # the counter leaves passed-over words out itself
        self._suggestions = 0

    def _set(self, variable: str, value: str) -> None:
        code = self._lib.presage_config_set(self._handle, variable.encode(), value.encode())
        if code != 0:
            raise RuntimeError(f"Presage refused {variable}={value} (error {code})")

    def predict(self, text: str, n: int) -> list[str]:
        if n != self._suggestions:
            self._set("Presage.Selector.SUGGESTIONS", str(n))
            self._suggestions = n
        self._past[0] = ctypes.create_string_buffer(text.encode("utf-8"))
        found = _STRINGS()
        code = self._lib.presage_predict(self._handle, ctypes.byref(found))
        if code != 0:
            raise RuntimeError(f"Presage could not predict (error {code})")
        words, i = [], 0
        while found[i] is not None:
            words.append(found[i].decode("utf-8", "replace"))
            i += 1
        self._lib.presage_free_string_array(found)
        return words

    def close(self) -> None:
        """Frees the engine and removes what it learnt; safe to call twice."""
        handle = getattr(self, "_handle", None)
        if handle:
            self._lib.presage_free(handle)
            self._handle = ctypes.c_void_p()
        if hasattr(self, "_folder"):
            self._folder.cleanup()

    def __enter__(self) -> Presage:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


class PresageTypist:
    """Presage typing a document, for typing_steps: it is shown the document's text so far (the tokens
    fed, spaced; <eos> as a line end) and the letters typed of the word. `predictor` only tokenises the
    text, so that Presage types exactly the words our own suggestions are scored on."""

    def __init__(self, predictor: Predictor, engine: Presage | None = None, context_chars: int = CONTEXT_CHARS) -> None:
        self.predictor = predictor
        self.engine = engine if engine is not None else Presage()
        self.context_chars = context_chars
        tokenizer = predictor.tokenizer
        self._eos = tokenizer.eos_id
        self._spelled = [tokenizer.tokenizer.id_to_token(i) or "" for i in range(tokenizer.vocab_size)]
        self.start()

    def start(self) -> None:
        """A new document: nothing typed yet (what the user 3-gram learnt stays, as on a device)."""
        self.text = ""

    def feed(self, ids: Sequence[int], spellings: Sequence[str | None]) -> None:
        for token_id, spelling in zip(ids, spellings):
            self.text += "\n" if token_id == self._eos else (spelling or self._spelled[token_id]) + " "
        self.text = self.text[-self.context_chars:]

    def suggester(self, n: int) -> Suggest:
        text = self.text

        def suggest(prefix: str, passed_over: Collection[str] = ()) -> list[str]:
            skip = {w.lower() for w in passed_over}
            shown = self.engine.predict(text + prefix, n + len(skip))
            return [w for w in shown if w.lower() not in skip][:n]
        return suggest
