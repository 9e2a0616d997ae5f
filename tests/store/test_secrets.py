"""DeviceSecrets: the value that never shows its secrets, its byte form and its relay identity."""

from __future__ import annotations

import pytest

from tests.store.leaks import FIXED, assert_no_secret_in
from walletsync.protocol.relay_auth import RelayIdentity
from walletsync.store.secrets import DeviceSecrets, InvalidSecrets


def test_repr_and_str_show_the_client_id_not_the_secrets():
    """Printing or logging the device secrets (e.g. in a traceback) never shows key material."""
    secrets = DeviceSecrets.generate()
    for text in (repr(secrets), str(secrets), f"{secrets}", repr([secrets]), repr({"s": secrets})):
        assert_no_secret_in(text, secrets)
        assert secrets.client_id in text
    assert_no_secret_in(repr(FIXED), FIXED)


def test_bytes_round_trip_and_identity():
    """The keys read back from storage give the same relay client id the phone paired with."""
    secrets = DeviceSecrets.generate()
    again = DeviceSecrets.from_bytes(secrets.to_bytes())
    assert again == secrets and len(secrets.to_bytes()) == 64
    assert isinstance(secrets.identity, RelayIdentity)
    assert again.client_id == secrets.client_id == RelayIdentity(secrets.identity_seed).client_id
    assert secrets.client_id.startswith("did:key:z")


def test_generate_uses_the_given_randomness():
    """Tests and fixtures can build a fixed device identity (stable client ids in snapshots)."""
    chunks = iter([b"\x01" * 32, b"\x02" * 32])
    secrets = DeviceSecrets.generate(lambda n: next(chunks))
    assert secrets.identity_seed == b"\x01" * 32 and secrets.storage_key == b"\x02" * 32
    assert DeviceSecrets.generate() != DeviceSecrets.generate()


@pytest.mark.parametrize("data", [b"", b"\x00" * 63, b"\x00" * 65, "0" * 64])
def test_from_bytes_rejects_wrong_length(data):
    """Damaged stored keys give a clear walletsync error, not a crash further down."""
    with pytest.raises(InvalidSecrets, match="64 bytes") as caught:
        DeviceSecrets.from_bytes(data)
    assert caught.value.code == "invalid_secrets"


def test_fields_are_validated():
    """A wrong-sized key is refused when built, so nothing is ever sealed with a short key."""
    with pytest.raises(InvalidSecrets):
        DeviceSecrets(b"\x00" * 31, b"\x00" * 32)
    with pytest.raises(InvalidSecrets):
        DeviceSecrets(b"\x00" * 32, b"\x00" * 33)
