"""State tokens: their issue time under the signature, and expiry (service/state_token.py)."""
from __future__ import annotations

import base64
import hmac
import struct

import numpy as np
import pytest

from service.state_token import (
    CLOCK_SKEW_S,
    InvalidStateToken,
    Recipe,
    StateExpired,
    StateSigner,
)

SECRET = b"k" * 32
ISSUED = 1_800_000_000  # a fixed clock: 2027-01-15
STATE = np.arange(8, dtype=np.float32).reshape(1, 1, 1, 8)


def signer_at(clock: list[float], max_age_s: int) -> StateSigner:
    return StateSigner(SECRET, max_age_s, clock=lambda: clock[0])


def untimed_token(version: str) -> str:
    """A token as the service issued it before tokens carried their time (format NWS1), signed with SECRET."""
    name = version.encode()
    payload = struct.pack("<4sH", b"NWS1", len(name)) + name + struct.pack("<BHI", 1, 1, 8) + STATE.tobytes()
    return base64.urlsafe_b64encode(payload + hmac.digest(SECRET, payload, "sha256")).rstrip(b"=").decode()


@pytest.mark.parametrize("recipe", [None, Recipe(STATE * 2, [4, 5, 6], [None, "Zorblax", None])])
def test_a_token_is_accepted_until_its_max_age_and_expired_after(recipe):
    clock = [float(ISSUED)]
    signer = signer_at(clock, max_age_s=600)
    token = signer.encode("v1", STATE, recipe)
    for elapsed in (0, 599.5, 600):
        clock[0] = ISSUED + elapsed
        decoded = signer.open(token, "v1")
        np.testing.assert_array_equal(decoded.state, STATE)
        assert (decoded.recipe is None) == (recipe is None)
        if recipe is not None:
            assert decoded.recipe.ids == recipe.ids and decoded.recipe.spellings == recipe.spellings
    clock[0] = ISSUED + 601
    for check in (lambda: signer.open(token, "v1"), lambda: signer.verify(token)):  # the letters' path verifies only
        with pytest.raises(StateExpired, match=r"issued 601 s ago .* accepts tokens for 600 s"):
            check()
    # Expiry is the service's policy, not the token's: the same token, where tokens never expire.
    assert signer_at(clock, max_age_s=0).open(token, "v1").state.shape == STATE.shape


def test_a_token_from_a_clock_far_ahead_is_refused_but_small_skews_pass():
    clock = [float(ISSUED)]
    token = signer_at(clock, max_age_s=600).encode("v1", STATE)
    reader = [ISSUED - CLOCK_SKEW_S]  # another replica whose clock is 5 minutes behind
    assert signer_at(reader, 600).open(token, "v1").state.shape == STATE.shape
    reader[0] -= 1
    with pytest.raises(StateExpired, match="ahead of this server's clock"):
        signer_at(reader, 600).open(token, "v1")


def test_the_issue_time_is_signed():
    clock = [float(ISSUED)]
    signer = signer_at(clock, max_age_s=600)
    raw = bytearray(base64.urlsafe_b64decode(signer.encode("v1", STATE) + "=="))
    raw[4:8] = struct.pack("<I", ISSUED + 10_000)  # a client making its old token young again
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(InvalidStateToken, match="altered"):
        signer.open(forged, "v1")


def test_tokens_from_before_issue_times_are_read_only_where_tokens_never_expire():
    old = untimed_token("v1")
    clock = [float(ISSUED)]
    np.testing.assert_array_equal(signer_at(clock, max_age_s=0).open(old, "v1").state, STATE)
    with pytest.raises(StateExpired, match="before tokens carried their time"):
        signer_at(clock, max_age_s=600).open(old, "v1")


def test_a_negative_max_age_is_refused():
    with pytest.raises(ValueError, match="max age"):
        StateSigner(SECRET, -1)
