"""Opaque, signed tokens that carry a model's recurrent state between requests.

A client typing word by word sends the new words plus the token from its last response and
gets what it would get by sending the whole text, while the server keeps nothing: any worker
or replica holding the same secret can continue the text.

Layout (then base64url without padding):

    b"NWS3" | u32 issued (Unix seconds) | u16 len(version) | version (UTF-8) | u8 parts | u16 layers | u32 hidden
            | float32 little-endian state values (parts × layers × hidden) | HMAC-SHA256 (32 bytes)

The MAC covers everything before it, so a token cannot be altered, truncated or spliced;
the model version inside it binds it to the weights that produced it (a state means nothing
to another model), and its issue time lets the service refuse it once it is older than
NEXTWORD_STATE_MAX_AGE_S (StateExpired: the client sends the whole text once, as after a model
swap). float32 keeps the continuation exact to float rounding.

With the document cache on (service/document_cache.py) the token also carries a rebuild recipe:

    b"NWS4" | u32 issued | u16 len(version) | version | u8 parts | u16 layers | u32 hidden | state values
            | u8 has_snapshot | snapshot values (the same shape; absent for the start of the text)
            | zlib(u32 n | u8 id bytes (2 or 4) | n ids | u32 m | m × (u32 position, u16 length, UTF-8 spelling)
                   [| 16-byte rows file name | u32 start | u32 end])
            | HMAC-SHA256

the recurrent state at an earlier point of the text (or "the start"), the token ids read since then,
and the spelling of each of them outside the vocabulary: enough for any worker to rebuild the cache.
Optionally, where the cache's rows are already written on this host (service/shared_rows.py): the
file and the rows.

Tokens issued before tokens carried their time (b"NWS1" and b"NWS2": the same layouts without the
u32 issued) are read only where tokens never expire (max_age_s 0); elsewhere they are expired.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from service.config import check_secret

MAGIC = b"NWS3"
MAGIC_RECIPE = b"NWS4"
UNTIMED = {b"NWS1": MAGIC, b"NWS2": MAGIC_RECIPE}  # older formats: the same, without the issue time
HEADER = struct.Struct("<4sIH")  # magic, issued (Unix seconds), version length
UNTIMED_HEADER = struct.Struct("<4sH")  # magic, version length
CLOCK_SKEW_S = 300  # a token may carry a time this far ahead of this server's clock (replicas' clocks differ)
SHAPE = struct.Struct("<BHI")  # parts, layers, hidden
MAC_BYTES = 32
MAX_TOKEN_CHARS = 200_000  # far above any model we train (an LSTM 2×2048 state is ~44k chars)
MAX_RECIPE_BYTES = 1 << 20  # a recipe inflates to at most this (service/document_cache.py bounds it far lower)
IDS = struct.Struct("<IB")  # count, bytes per id
POSITION = struct.Struct("<IH")  # position, spelling length
COUNT = struct.Struct("<I")
ROWS = struct.Struct("<16sIIQ")  # rows' name, start, end, digest
ROWS_BEFORE_DIGESTS = struct.Struct("<16sII")  # tokens issued before digests: their rows are rebuilt instead


@dataclass(frozen=True)
class RowsAt:
    """Where a document cache's rows are written: on the host that issued the token (service/shared_rows.py),
    and in Redis where it is configured (service/rows_store.py)."""
    name: bytes  # the rows' name (their file's), 16 bytes
    start: int
    end: int  # the cache is rows [start, end)
    digest: int  # the chain digest of rows [0, end) (model/cache.py chain_digests): tells a copy that diverged


@dataclass(frozen=True)
class Recipe:
    """How to rebuild a document cache: read `ids` (with their `spellings`) from `snapshot`."""
    snapshot: np.ndarray | None  # (parts, layers, 1, hidden) float32; None: the start of the text
    ids: list[int]
    spellings: list[str | None]  # beside each id: the word as written where it is outside the vocabulary
    rows: RowsAt | None = None  # the cache already written, where a worker of that host can read it


@dataclass(frozen=True)
class Decoded:
    state: np.ndarray  # (parts, layers, 1, hidden) float32
    recipe: Recipe | None  # None for a token without one (NWS3, NWS1)
    mac: bytes  # the token's signature: names this exact token (service/document_cache.py keys its LRU by it)


class InvalidStateToken(ValueError):
    """Not a token this service issued, or altered since."""


class StateExpired(ValueError):
    """A genuine token, but older than the service accepts (or issued by a clock far ahead of this one)."""


class StateFromOtherModel(ValueError):
    """A genuine token, but for a model version that is not the one serving."""

    def __init__(self, token_version: str, served_version: str) -> None:
        super().__init__(f"the state token was made by model {token_version}; this service now serves "
                         f"{served_version}: send the whole text once without a state")
        self.token_version = token_version


class StateSigner:
    """Issues and checks state tokens. max_age_s: how long a token is accepted after it was issued
    (0: forever); clock: seconds since the epoch (tests move it)."""

    def __init__(self, secret: bytes, max_age_s: int = 0, clock: Callable[[], float] = time.time) -> None:
        check_secret("the state secret", secret)
        if max_age_s < 0:
            raise ValueError(f"a state token's max age must be 0 (never expires) or more (got {max_age_s})")
        self._secret = secret
        self.max_age_s = max_age_s
        self.clock = clock

    def _mac(self, payload: bytes) -> bytes:
        return hmac.digest(self._secret, payload, "sha256")  # one-shot: a third of hmac.new(...).digest()'s time

    def encode(self, version: str, state: np.ndarray, recipe: Recipe | None = None) -> str:
        """state: (parts, layers, 1, hidden) float array → token string (NWS4 with a recipe, else NWS3)."""
        return self.issue(version, state, recipe)[0]

    def issue(self, version: str, state: np.ndarray, recipe: Recipe | None = None) -> tuple[str, bytes]:
        """The token, and its signature (what Decoded.mac will be when it comes back)."""
        parts, layers, _, hidden = state.shape
        name = version.encode("utf-8")
        values = state.astype("<f4", copy=False).tobytes()  # C order
        magic = MAGIC if recipe is None else MAGIC_RECIPE
        payload = HEADER.pack(magic, int(self.clock()), len(name)) + name + SHAPE.pack(parts, layers, hidden) + values
        if recipe is not None:
            payload += _pack_recipe(recipe, state.shape)
        mac = self._mac(payload)
        return base64.urlsafe_b64encode(payload + mac).rstrip(b"=").decode("ascii"), mac

    def decode(self, token: str, served_version: str) -> np.ndarray:
        """token → (parts, layers, 1, hidden) float32 array; raises InvalidStateToken, StateExpired or StateFromOtherModel.
        A token with a recipe gives its current state (the recipe is for open())."""
        return self.open(token, served_version).state

    def verify(self, token: str, max_chars: int = MAX_TOKEN_CHARS) -> tuple[bytes, bytes]:
        """(payload, signature) of a token this service signed, unparsed; raises InvalidStateToken, or
        StateExpired for one too old to accept."""
        if len(token) > min(max_chars, MAX_TOKEN_CHARS):
            raise InvalidStateToken("the state token is too long")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise InvalidStateToken("the state token is not valid base64url") from None
        payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if len(raw) <= MAC_BYTES or not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidStateToken("the state token was not issued by this service or has been altered")
        self._check_age(payload)
        return payload, mac

    def _check_age(self, payload: bytes) -> None:
        """Raises StateExpired for a token too old (or from a clock too far ahead) to accept."""
        if not self.max_age_s:
            return
        if payload[:4] in UNTIMED:
            raise StateExpired("the state token was issued before tokens carried their time: "
                               "send the whole text once without a state")
        if len(payload) < HEADER.size:
            raise InvalidStateToken("the state token is cut short")
        _, issued, _ = HEADER.unpack_from(payload)
        age = self.clock() - issued
        if age > self.max_age_s:
            raise StateExpired(f"the state token expired: it was issued {int(age):,} s ago and this service "
                               f"accepts tokens for {self.max_age_s:,} s; send the whole text once without a state")
        if age < -CLOCK_SKEW_S:
            raise StateExpired(f"the state token was issued {int(-age):,} s ahead of this server's clock "
                               f"(the servers' clocks disagree); send the whole text once without a state")

    def open(self, token: str, served_version: str, max_chars: int = MAX_TOKEN_CHARS) -> Decoded:
        """token → its state, recipe and signature; raises InvalidStateToken, StateExpired or StateFromOtherModel."""
        payload, mac = self.verify(token, max_chars)
        # From here on the payload is ours, so a parse failure is a bug worth a clear message.
        if payload[:4] in UNTIMED:  # read where tokens never expire (verify refused it otherwise)
            (magic, name_len), offset = UNTIMED_HEADER.unpack_from(payload), UNTIMED_HEADER.size
            magic = UNTIMED[magic]
        else:
            magic, _, name_len = HEADER.unpack_from(payload)
            offset = HEADER.size
        if magic not in (MAGIC, MAGIC_RECIPE):
            raise InvalidStateToken("unknown state token format")
        version = payload[offset : offset + name_len].decode("utf-8")
        offset += name_len
        parts, layers, hidden = SHAPE.unpack_from(payload, offset)
        offset += SHAPE.size
        if version != served_version:
            raise StateFromOtherModel(version, served_version)
        size = 4 * parts * layers * hidden
        shape = (parts, layers, 1, hidden)
        rest = len(payload) - offset - size
        if rest < 0 or (magic == MAGIC and rest):
            raise InvalidStateToken("the state token's size does not match its shape")
        state = np.frombuffer(payload, dtype="<f4", count=size // 4, offset=offset).astype(np.float32)  # a writable copy
        recipe = _unpack_recipe(payload[offset + size :], shape) if magic == MAGIC_RECIPE else None
        return Decoded(state.reshape(shape), recipe, mac)


def _pack_recipe(recipe: Recipe, shape: tuple[int, ...]) -> bytes:
    snapshot = b"\x00"
    if recipe.snapshot is not None:
        if recipe.snapshot.shape != shape:
            raise ValueError(f"snapshot of shape {recipe.snapshot.shape} for a state of shape {shape}")
        snapshot = b"\x01" + recipe.snapshot.astype("<f4", copy=False).tobytes()
    ids = np.asarray(recipe.ids, dtype=np.int64)
    width = 2 if not len(ids) or int(ids.max()) < 1 << 16 else 4
    spelled = [(i, s.encode("utf-8")) for i, s in enumerate(recipe.spellings) if s is not None]
    body = [IDS.pack(len(ids), width), ids.astype("<u2" if width == 2 else "<u4").tobytes(), COUNT.pack(len(spelled))]
    body += [POSITION.pack(i, len(b)) + b for i, b in spelled]
    if recipe.rows is not None:
        body.append(ROWS.pack(recipe.rows.name, recipe.rows.start, recipe.rows.end, recipe.rows.digest))
    return snapshot + zlib.compress(b"".join(body), 6)


def _unpack_recipe(data: bytes, shape: tuple[int, ...]) -> Recipe:
    try:
        snapshot = None
        if data[:1] == b"\x01":
            size = 4 * int(np.prod(shape))
            snapshot = np.frombuffer(data, dtype="<f4", count=size // 4, offset=1).astype(np.float32).reshape(shape)
            data = data[1 + size :]
        elif data[:1] == b"\x00":
            data = data[1:]
        else:
            raise ValueError("no snapshot flag")
        inflate = zlib.decompressobj()
        raw = inflate.decompress(data, MAX_RECIPE_BYTES)
        if inflate.unconsumed_tail or not inflate.eof:
            raise ValueError("the recipe is too large or cut short")
        n, width = IDS.unpack_from(raw)
        offset = IDS.size
        ids = np.frombuffer(raw, dtype="<u2" if width == 2 else "<u4", count=n, offset=offset).tolist()
        offset += n * width
        (m,) = COUNT.unpack_from(raw, offset)
        offset += COUNT.size
        spellings: list[str | None] = [None] * n
        for _ in range(m):
            position, length = POSITION.unpack_from(raw, offset)
            offset += POSITION.size
            spellings[position] = raw[offset : offset + length].decode("utf-8")
            offset += length
        rows = None
        if len(raw) - offset == ROWS.size:
            rows = RowsAt(*ROWS.unpack_from(raw, offset))
        elif offset != len(raw) and len(raw) - offset != ROWS_BEFORE_DIGESTS.size:
            raise ValueError("trailing bytes")
    except (ValueError, IndexError, struct.error, zlib.error) as e:
        raise InvalidStateToken(f"the state token's recipe is malformed ({e})") from None
    return Recipe(snapshot, ids, spellings, rows)
