"""The vault file: round trips under a passphrase and under shares, and every way it must refuse to open."""

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.pwhash import argon2id

from walletsync.vault import (
    DamagedVault,
    NotAVault,
    ShareError,
    SharesDoNotOpen,
    ShareSpec,
    TooFewShares,
    VaultError,
    WeakKdf,
    WrongPassphrase,
    check_share,
    open_with_passphrase,
    open_with_shares,
    read_header,
    seal,
)
from walletsync.vault.format import MAGIC

# The floor's costs (64 MiB, 2 passes: ~0.1 s), so the tests stay quick; new backups pay MODERATE.
FAST = {"opslimit": argon2id.OPSLIMIT_INTERACTIVE, "memlimit": argon2id.MEMLIMIT_INTERACTIVE}
CONTENT = json.dumps({"sessions": [{"name": "Alice's phone", "account": "0x" + "ab" * 20}]}).encode()


def _both():
    return seal(CONTENT, random=os.urandom, passphrase="correct horse", spec=ShareSpec.simple(2, 3), **FAST)


def test_passphrase_and_shares_each_open_it():
    sealed = _both()
    assert open_with_passphrase(sealed.data, "correct horse") == CONTENT
    [group] = sealed.shares
    assert len(group) == 3 and all(len(share.split()) == 33 for share in group)
    for pair in ([group[0], group[1]], [group[2], group[0]], [group[1], group[2]]):
        assert open_with_shares(sealed.data, pair) == CONTENT


def test_the_file_holds_no_plaintext():
    sealed = _both()
    for needle in (b"Alice", b"abab", b"session", b"account", b"0x"):
        assert needle not in sealed.data
    assert "Alice" not in repr(sealed) and "correct" not in repr(sealed)


def test_a_wrong_passphrase_is_refused():
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        open_with_passphrase(_both().data, "correct horse!")


def test_a_passphrase_only_vault_asks_for_the_passphrase_and_a_shares_only_one_for_shares():
    by_passphrase = seal(CONTENT, random=os.urandom, passphrase="p", **FAST)
    by_shares = seal(CONTENT, random=os.urandom, spec=ShareSpec.simple(1, 1))
    assert by_passphrase.shares is None
    with pytest.raises(ShareError, match="passphrase only"):
        open_with_shares(by_passphrase.data, ["x"])
    with pytest.raises(WrongPassphrase, match="shares only"):
        open_with_passphrase(by_shares.data, "p")
    assert open_with_shares(by_shares.data, by_shares.shares[0]) == CONTENT


def test_one_share_fewer_than_the_threshold_is_refused_saying_how_many_more():
    sealed = seal(CONTENT, random=os.urandom, spec=ShareSpec.simple(3, 5))
    with pytest.raises(TooFewShares, match="2 of 3 shares given: 1 more needed"):
        open_with_shares(sealed.data, sealed.shares[0][:2])
    assert open_with_shares(sealed.data, sealed.shares[0][2:]) == CONTENT


def test_a_mistyped_word_is_named_by_its_number_not_quoted():
    sealed = seal(CONTENT, random=os.urandom, spec=ShareSpec.simple(2, 3))
    share = sealed.shares[0][0].split()
    typo = share[:]
    typo[6] = "zzzz"
    with pytest.raises(ShareError, match="share 1: word 7 is not in the SLIP-39 word list"):
        open_with_shares(sealed.data, [" ".join(typo), sealed.shares[0][1]])
    swapped = share[:]
    swapped[10], swapped[11] = swapped[11], swapped[10]
    if swapped != share:
        with pytest.raises(ShareError, match="share 2: the checksum fails") as caught:
            open_with_shares(sealed.data, [sealed.shares[0][1], " ".join(swapped)])
        assert not set(share) & set(str(caught.value).split())


def test_shares_of_another_backup_are_refused():
    one = seal(CONTENT, random=os.urandom, spec=ShareSpec.simple(2, 3))
    other = seal(CONTENT, random=os.urandom, spec=ShareSpec.simple(2, 3))
    while read_header(one.data)[0].shares.identifier == read_header(other.data)[0].shares.identifier:
        other = seal(CONTENT, random=os.urandom, spec=ShareSpec.simple(2, 3))  # one in 32,768: a set of its own
    with pytest.raises(ShareError, match="another backup's share set"):
        open_with_shares(one.data, [one.shares[0][0], other.shares[0][1]])
    with pytest.raises(ShareError, match="another backup's share set"):
        open_with_shares(one.data, other.shares[0][:2])


def test_a_share_passphrase_is_needed_with_the_shares():
    sealed = seal(CONTENT, random=os.urandom, spec=ShareSpec.simple(2, 2, passphrase="TREZOR"))
    with pytest.raises(SharesDoNotOpen, match="wrong share passphrase"):
        open_with_shares(sealed.data, sealed.shares[0])
    assert open_with_shares(sealed.data, sealed.shares[0], "TREZOR") == CONTENT


def test_groups_need_their_group_threshold():
    spec = ShareSpec(groups=((2, 3), (1, 1), (3, 5)), group_threshold=2)
    sealed = seal(CONTENT, random=os.urandom, spec=spec)
    first, single, third = sealed.shares
    with pytest.raises(TooFewShares, match="1 of 2 groups complete"):
        open_with_shares(sealed.data, [*first[:2], third[0]])
    assert open_with_shares(sealed.data, [*first[:2], *single]) == CONTENT
    assert open_with_shares(sealed.data, [*third[1:4], first[2], first[0]]) == CONTENT


@pytest.mark.parametrize(
    "spec",
    [
        ShareSpec.simple(4, 3),
        ShareSpec.simple(1, 3),
        ShareSpec.simple(0, 1),
        ShareSpec.simple(2, 17),
        ShareSpec(((2, 3),), group_threshold=2),
        ShareSpec.simple(2, 3, passphrase="é"),
    ],
)
def test_a_split_slip39_cannot_make_is_refused_before_anything_is_drawn(spec):
    with pytest.raises(ValueError):
        seal(CONTENT, random=os.urandom, spec=spec)


def test_sealing_needs_a_holder_and_a_passphrase_that_is_not_empty_and_costs_above_the_floor():
    with pytest.raises(ValueError):
        seal(CONTENT, random=os.urandom)
    with pytest.raises(ValueError):
        seal(CONTENT, random=os.urandom, passphrase="", **FAST)
    with pytest.raises(ValueError, match="opslimit"):
        seal(CONTENT, random=os.urandom, passphrase="p", opslimit=1, memlimit=FAST["memlimit"])


def _with_header(data, change):
    """The vault with its header rewritten by ``change`` (the length fixed up), the body unchanged."""
    header, body = read_header(data)
    length = int.from_bytes(data[9:13], "big")
    document = json.loads(data[13 : 13 + length])
    change(document)
    raw = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return data[:9] + len(raw).to_bytes(4, "big") + raw + body


@pytest.mark.parametrize(
    "field, value", [("opslimit", 1), ("memlimit", 8192), ("memlimit", 2**45), ("opslimit", 2**31)]
)
def test_a_header_asking_for_costs_outside_the_bounds_is_refused_before_deriving(field, value):
    def weaken(document):
        document["holders"][0][field] = value

    with pytest.raises(WeakKdf, match=field):
        open_with_passphrase(_with_header(_both().data, weaken), "correct horse")


def test_a_header_change_that_keeps_costs_in_bounds_still_fails_to_open():
    def cheaper(document):
        document["holders"][0]["opslimit"] = FAST["opslimit"] + 1

    with pytest.raises(WrongPassphrase):
        open_with_passphrase(_with_header(_both().data, cheaper), "correct horse")


def test_the_header_is_the_body_associated_data():
    sealed = _both()

    def reorder(document):
        document["holders"].reverse()

    tampered = _with_header(sealed.data, reorder)
    with pytest.raises(DamagedVault, match="damaged or was modified"):
        open_with_passphrase(tampered, "correct horse")


@pytest.mark.parametrize(
    "data, error",
    [
        (b"", NotAVault),
        (b"PK\x03\x04zip", NotAVault),
        (MAGIC + b"\x02" + bytes(20), NotAVault),
        (MAGIC + b"\x01\x00\x00", DamagedVault),
        (MAGIC + b"\x01\xff\xff\xff\xff" + bytes(40), DamagedVault),
        (MAGIC + b"\x01\x00\x00\x00\x02{}" + bytes(16), DamagedVault),
    ],
)
def test_what_is_not_a_vault_is_refused_with_a_typed_error(data, error):
    with pytest.raises(error):
        open_with_passphrase(data, "p")


SHARES_ONLY = seal(CONTENT, random=os.urandom, spec=ShareSpec.simple(2, 2))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_one_flipped_byte_anywhere_is_refused(data):
    position = data.draw(st.integers(0, len(SHARES_ONLY.data) - 1))
    bit = data.draw(st.integers(0, 7))
    flipped = bytearray(SHARES_ONLY.data)
    flipped[position] ^= 1 << bit
    with pytest.raises(VaultError):
        open_with_shares(bytes(flipped), SHARES_ONLY.shares[0])


def test_one_flipped_byte_in_the_body_or_a_wrapped_key_is_refused_under_the_passphrase():
    sealed = _both()
    header, body = read_header(sealed.data)
    wrapped_at = sealed.data.index(header.passphrase.wrapped.hex().encode())
    for position in (len(sealed.data) - 1, len(header.raw), wrapped_at):
        flipped = bytearray(sealed.data)
        flipped[position] ^= 0x01
        with pytest.raises(VaultError):
            open_with_passphrase(bytes(flipped), "correct horse")


@st.composite
def specs(draw):
    groups = draw(
        st.lists(
            st.integers(1, 5).flatmap(lambda n: st.tuples(st.integers(2 if n > 1 else 1, n), st.just(n))),
            min_size=1,
            max_size=3,
        )
    )
    return ShareSpec(tuple(groups), draw(st.integers(1, len(groups))), draw(st.sampled_from(["", "TREZOR"])))


@settings(max_examples=25, deadline=None)
@given(content=st.binary(max_size=2048), spec=specs(), data=st.data())
def test_shares_round_trip(content, spec, data):
    sealed = seal(content, random=os.urandom, spec=spec)
    chosen_groups = data.draw(st.permutations(range(len(spec.groups))))[: spec.group_threshold]
    chosen = []
    for index in chosen_groups:
        threshold, _count = spec.groups[index]
        chosen += data.draw(st.permutations(sealed.shares[index]))[:threshold]
    assert open_with_shares(sealed.data, data.draw(st.permutations(chosen)), spec.passphrase) == content
    info = check_share(chosen[0])
    assert info.identifier == read_header(sealed.data)[0].shares.identifier
    assert info.group_threshold == spec.group_threshold and info.group_count == len(spec.groups)


@settings(max_examples=4, deadline=None)
@given(content=st.binary(max_size=512), passphrase=st.text(min_size=1, max_size=40))
def test_passphrase_round_trip(content, passphrase):
    sealed = seal(content, random=os.urandom, passphrase=passphrase, **FAST)
    assert open_with_passphrase(sealed.data, passphrase) == content
