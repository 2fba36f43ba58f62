"""Opaque, signed tokens that carry a model's recurrent state between requests.

A client typing word by word sends the new words plus the token from its last response and
gets what it would get by sending the whole text, while the server keeps nothing: any worker
or replica holding the same secret can continue the text.

Layout (then base64url without padding):

    b"NWS1" | u16 len(version) | version (UTF-8) | u8 parts | u16 layers | u32 hidden
            | float32 little-endian state values (parts × layers × hidden) | HMAC-SHA256 (32 bytes)

The MAC covers everything before it, so a token cannot be altered, truncated or spliced;
the model version inside it binds it to the weights that produced it (a state means nothing
to another model). float32 keeps the continuation exact to float rounding.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import struct

import numpy as np

from service.config import check_secret

MAGIC = b"NWS1"
HEADER = struct.Struct("<4sH")  # magic, version length
SHAPE = struct.Struct("<BHI")  # parts, layers, hidden
MAC_BYTES = 32
MAX_TOKEN_CHARS = 200_000  # far above any model we train (an LSTM 2×2048 state is ~44k chars)


class InvalidStateToken(ValueError):
    """Not a token this service issued, or altered since."""


class StateFromOtherModel(ValueError):
    """A genuine token, but for a model version that is not the one serving."""

    def __init__(self, token_version: str, served_version: str) -> None:
        super().__init__(f"the state token was made by model {token_version}; this service now serves "
                         f"{served_version}: send the whole text once without a state")
        self.token_version = token_version


class StateSigner:
    def __init__(self, secret: bytes) -> None:
        check_secret("the state secret", secret)
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.digest(self._secret, payload, "sha256")  # one-shot: a third of hmac.new(...).digest()'s time

    def encode(self, version: str, state: np.ndarray) -> str:
        """state: (parts, layers, 1, hidden) float array → token string."""
        parts, layers, _, hidden = state.shape
        name = version.encode("utf-8")
        values = state.astype("<f4", copy=False).tobytes()  # C order
        payload = HEADER.pack(MAGIC, len(name)) + name + SHAPE.pack(parts, layers, hidden) + values
        return base64.urlsafe_b64encode(payload + self._mac(payload)).rstrip(b"=").decode("ascii")

    def decode(self, token: str, served_version: str) -> np.ndarray:
        """token → (parts, layers, 1, hidden) float32 array; raises InvalidStateToken or StateFromOtherModel."""
        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidStateToken("the state token is too long")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise InvalidStateToken("the state token is not valid base64url") from None
        payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if len(raw) <= MAC_BYTES or not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidStateToken("the state token was not issued by this service or has been altered")
        # From here on the payload is ours, so a parse failure is a bug worth a clear message.
        magic, name_len = HEADER.unpack_from(payload)
        if magic != MAGIC:
            raise InvalidStateToken("unknown state token format")
        offset = HEADER.size
        version = payload[offset : offset + name_len].decode("utf-8")
        offset += name_len
        parts, layers, hidden = SHAPE.unpack_from(payload, offset)
        offset += SHAPE.size
        if version != served_version:
            raise StateFromOtherModel(version, served_version)
        if len(payload) - offset != 4 * parts * layers * hidden:
            raise InvalidStateToken("the state token's size does not match its shape")
        values = np.frombuffer(payload, dtype="<f4", offset=offset).astype(np.float32)  # a writable copy
        return values.reshape(parts, layers, 1, hidden)
