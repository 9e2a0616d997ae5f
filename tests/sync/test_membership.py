"""Membership: signed hash-linked entries, who is in (revocation wins), epochs, and convergence in any order."""

from __future__ import annotations

import base64
import hashlib
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.signing import VerifyKey

from walletsync.sync import membership as ms
from walletsync.sync.keys import DeviceKeys, EpochKey, KeysError
from walletsync.sync.membership import (
    DOMAIN,
    Entry,
    Epoch,
    Membership,
    MembershipError,
    found,
    genesis,
    sign_entry,
    wrap_body,
)

FUZZ = settings(
    max_examples=200, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
CONVERGE = settings(
    max_examples=60, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

DEVICES = [DeviceKeys(hashlib.sha256(b"device %d" % i).digest()) for i in range(8)]
A, B, C, X, Y, Z = DEVICES[:6]
NAMES = {d.id: f"device {i}" for i, d in enumerate(DEVICES)}


def seeded(seed: int):
    """Reproducible randomness (tests only)."""
    return random.Random(seed).randbytes


def card(device: DeviceKeys):
    return device.card(NAMES[device.id])


def group(*others: DeviceKeys) -> Membership:
    """A's group, with each of ``others`` added by A."""
    membership, _ = found(A, NAMES[A.id], at=1_000, random=seeded(0))
    for i, other in enumerate(others):
        membership.add(A, card(other), at=2_000 + i)
    return membership


def copy(membership: Membership) -> Membership:
    entries = membership.entries()
    other = Membership(entries[0])
    for entry in entries[1:]:
        other.add_entry(entry)
    return other


def sync(dst: Membership, src: Membership) -> None:
    for entry in src.entries():
        dst.add_entry(entry)


def refused(code: str, membership: Membership, entry: Entry) -> None:
    with pytest.raises(MembershipError) as err:
        membership.add_entry(entry)
    assert err.value.code == code, err.value
    assert err.value.entry == entry.hash


# --- entries: canonical bytes, signature, hash -----------------------------------------


def test_an_entry_signs_and_hashes_its_canonical_bytes():
    entry = genesis(A, "laptop", at=1_700_000_000_000)
    fields = {
        "kind": "genesis",
        "group": "",
        "parents": [],
        "author": A.id,
        "at": 1_700_000_000_000,
        "body": {"device": A.card("laptop").to_json()},
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert entry.signed_bytes == DOMAIN + canonical
    assert entry.hash == hashlib.sha256(DOMAIN + canonical).hexdigest()
    VerifyKey(A.signing_public).verify(entry.signed_bytes, entry.signature)
    assert entry.verify(A.signing_public) and not entry.verify(B.signing_public)
    assert Membership(entry).group_id == entry.hash


def test_an_entry_round_trips_and_any_spelling_of_it_names_the_same_entry():
    membership = group(B)
    entry, _ = membership.revoke(A, B.id, at=3_000, random=seeded(1))
    assert Entry.from_bytes(entry.to_bytes()) == entry
    spaced = json.dumps(dict(reversed(list(entry.to_json().items()))), indent=2).encode()
    assert Entry.from_bytes(spaced).hash == entry.hash
    assert copy(membership).add_entry(Entry.from_bytes(spaced)) is False  # already there


def test_the_signature_binds_every_field():
    membership = group(B)
    entry = membership.add(A, card(C), at=3_000)
    other = group(B)
    for changed in (
        {"at": entry.at + 1},
        {"body": {"device": C.card("renamed").to_json()}},
        {"author": B.id},
        {"parents": list(group(B, X).heads())},
    ):
        forged = Entry.from_json({**entry.to_json(), **changed})
        assert forged.hash != entry.hash
        if changed.get("parents"):
            assert other.add_entry(forged) is False  # held: its parents are unknown here
        else:
            refused("bad_signature", other, forged)


def test_a_forged_genesis_is_refused():
    entry = genesis(A, "a", at=1)
    forged = Entry.from_json({**entry.to_json(), "sig": B.sign(entry.signed_bytes).hex()})
    with pytest.raises(MembershipError) as err:
        Membership(forged)
    assert err.value.code == "bad_signature"


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "rename"},
        {"kind": "genesis"},
        {"group": "G" * 64},
        {"group": ""},
        {"parents": []},
        {"parents": ["ab" * 32, "ab" * 32]},
        {"parents": ["ff" * 32, "00" * 32]},  # unsorted
        {"parents": ["ab" * 32] * 17},
        {"author": "me"},
        {"at": -1},
        {"at": 1.5},
        {"at": True},
        {"at": 2**53},
        {"body": []},
        {"body": {}},
        {"body": {"device": "x"}},
        {"sig": "00"},
        {"sig": "ZZ" * 64},
        {"extra": 1},
    ],
)
def test_a_malformed_entry_is_refused_when_read(change):
    entry = group(B).add(A, card(C), at=3_000).to_json()
    with pytest.raises(MembershipError) as err:
        Entry.from_json({**entry, **change})
    assert err.value.code == "malformed"


@pytest.mark.parametrize(
    "data",
    [b"", b"{", b"[]", b"\xff", b'{"a":1,"a":2}', b"NaN", b"1e999999", b"[" * 100_000, b" " * (ms.MAX_ENTRY_BYTES + 1)],
)
def test_bytes_that_are_no_entry_are_refused(data):
    with pytest.raises(MembershipError) as err:
        Entry.from_bytes(data)
    assert err.value.code == "malformed"


def test_an_entry_has_a_size_bound(monkeypatch):
    membership = group(B, C, X, Y)
    fits, _ = copy(membership).revoke(A, B.id, at=3_000, random=seeded(1))
    monkeypatch.setattr("walletsync.sync.entries.MAX_ENTRY_BYTES", len(fits.to_bytes()) - 1)
    with pytest.raises(MembershipError) as err:
        membership.revoke(A, B.id, at=3_000, random=seeded(1))
    assert err.value.code == "malformed"
    with pytest.raises(MembershipError) as err:
        Entry.from_bytes(fits.to_bytes())
    assert err.value.code == "malformed"


# --- accepting entries ---------------------------------------------------------------


def test_members_add_devices():
    membership = group(B)
    assert membership.add(B, card(C), at=3_000).author == B.id
    assert set(membership.members()) == {A.id, B.id, C.id}
    assert membership.members()[C.id] == card(C)
    assert membership.is_member(C.id) and not membership.is_member(X.id)
    assert membership.current_epoch() == Epoch(1, membership.group_id)


def test_an_entry_by_an_unknown_author_is_refused():
    membership = group(B)
    outsider = sign_entry(
        X, "add", group=membership.group_id, parents=membership.heads(), at=3, body={"device": card(Y).to_json()}
    )
    refused("unknown_author", membership, outsider)
    assert not membership.is_member(Y.id)


def test_an_entry_by_a_revoked_author_is_refused():
    membership = group(B, X)
    stale = copy(membership)
    membership.revoke(A, X.id, at=3_000, random=seeded(1))
    late = sign_entry(
        X, "add", group=membership.group_id, parents=membership.heads(), at=4, body={"device": card(Y).to_json()}
    )
    refused("revoked_author", membership, late)
    # Its own replica, which has not seen the revoke, accepts it; everyone who merges ignores the add.
    concurrent = stale.add(X, card(Y), at=4)
    assert membership.add_entry(concurrent) is True
    assert not membership.is_member(Y.id) and not membership.is_member(X.id)


def test_an_entry_of_another_group_is_refused():
    ours, theirs = group(B), Membership(genesis(A, "other", at=5))
    entry = theirs.add(A, card(B), at=6)
    refused("wrong_group", ours, entry)
    with pytest.raises(MembershipError) as err:
        ours.add_entry(genesis(A, "other", at=5))
    assert err.value.code == "wrong_group"


def test_a_duplicate_changes_nothing():
    membership = group(B)
    entry = membership.add(B, card(C), at=3)
    before = membership.entries()
    assert membership.add_entry(entry) is False
    assert membership.add_entry(Entry.from_bytes(entry.to_bytes())) is False
    assert membership.add_entry(membership.entries()[0]) is False  # the genesis
    assert membership.entries() == before


def test_adds_and_revokes_follow_the_rules():
    membership = group(B, X)
    refused(
        "already_member",
        membership,
        sign_entry(
            B, "add", group=membership.group_id, parents=membership.heads(), at=1, body={"device": card(X).to_json()}
        ),
    )
    refused(
        "unknown_device",
        membership,
        sign_entry(
            B,
            "revoke",
            group=membership.group_id,
            parents=membership.heads(),
            at=1,
            body=wrap_body(bytes(32), [card(A), card(B), card(X)], Y.id),
        ),
    )
    with pytest.raises(MembershipError) as err:
        membership.revoke(A, A.id, at=1, random=seeded(1))
    assert err.value.code == "malformed"  # a device does not revoke itself: its key would stay with it
    short = wrap_body(bytes(32), [card(A)], X.id)  # B left without the new key
    refused(
        "wrong_recipients",
        membership,
        sign_entry(A, "revoke", group=membership.group_id, parents=membership.heads(), at=1, body=short),
    )
    extra = wrap_body(bytes(32), [card(A), card(B), card(Y)], X.id)  # a key to an outsider
    refused(
        "wrong_recipients",
        membership,
        sign_entry(A, "revoke", group=membership.group_id, parents=membership.heads(), at=1, body=extra),
    )
    membership.revoke(A, X.id, at=2, random=seeded(1))
    refused(
        "revoked_device",
        membership,
        sign_entry(
            B, "add", group=membership.group_id, parents=membership.heads(), at=3, body={"device": card(X).to_json()}
        ),
    )
    again = wrap_body(bytes(32), [card(A)], X.id)
    refused(
        "revoked_device",
        membership,
        sign_entry(B, "revoke", group=membership.group_id, parents=membership.heads(), at=3, body=again),
    )
    refused(
        "wrong_recipients",
        membership,
        sign_entry(
            B,
            "rekey",
            group=membership.group_id,
            parents=membership.heads(),
            at=3,
            body=wrap_body(bytes(32), [card(A)]),
        ),
    )


def test_an_entry_waits_for_its_parents():
    source = group(B)
    first = source.add(B, card(C), at=3)
    second = source.add(C, card(X), at=4)
    membership = group(B)
    assert membership.add_entry(second) is False and membership.held() == 1
    assert not membership.is_member(X.id)
    assert membership.add_entry(first) is True
    assert membership.held() == 0 and membership.is_member(X.id)


def test_held_entries_are_bounded(monkeypatch):
    monkeypatch.setattr(ms, "MAX_HELD", 2)
    source = group(B)
    chain = [source.add(B, card(d), at=i) for i, d in enumerate([C, X, Y, Z])]
    membership = group(B)
    assert membership.add_entry(chain[1]) is False and membership.add_entry(chain[2]) is False
    refused("too_many_held", membership, chain[3])
    assert membership.add_entry(chain[0]) is True and membership.held() == 0


def test_a_held_entry_refused_on_release_is_reported_and_its_children_too():
    membership = group(B, X)
    short = wrap_body(bytes(32), [card(B)], X.id)  # B leaves A without the new key
    bad = sign_entry(B, "revoke", group=membership.group_id, parents=membership.heads(), at=3, body=short)
    child = sign_entry(
        B, "add", group=membership.group_id, parents=[bad.hash], at=4, body={"device": card(Y).to_json()}
    )
    grandchild = sign_entry(
        B, "add", group=membership.group_id, parents=[child.hash], at=5, body={"device": card(Z).to_json()}
    )
    assert membership.add_entry(child) is False
    refused("wrong_recipients", membership, bad)
    assert [(e.code, e.entry) for e in membership.take_refusals()] == [("refused_parent", child.hash)]
    assert membership.held() == 0 and membership.take_refusals() == []
    refused("refused_parent", membership, child)
    refused("refused_parent", membership, grandchild)
    refused("wrong_recipients", membership, bad)  # sent again: the same answer
    assert set(membership.members()) == {A.id, B.id, X.id}


def test_a_copy_with_a_forged_signature_does_not_block_the_real_entry():
    """The hash leaves the signature out, so a forged copy has the real entry's hash: it must not take its place."""
    source = group(B)
    parent = copy(source).add(B, card(C), at=3)
    forged = Entry.from_json({**parent.to_json(), "sig": X.sign(parent.signed_bytes).hex()})
    assert forged.hash == parent.hash and forged != parent

    membership = copy(source)
    refused("bad_signature", membership, forged)
    assert membership.add_entry(parent) is True and membership.is_member(C.id)


def test_a_forged_copy_held_first_gives_way_to_the_real_one():
    source = group(B)
    writer = copy(source)
    first = writer.add(B, card(C), at=3)
    second = writer.add(C, card(X), at=4)
    forged = Entry.from_json({**second.to_json(), "sig": B.sign(second.signed_bytes).hex()})
    membership = copy(source)
    assert membership.add_entry(forged) is False and membership.add_entry(second) is False
    assert membership.held() == 2
    assert membership.add_entry(first) is True
    assert membership.is_member(X.id) and membership.held() == 0
    assert [e.code for e in membership.take_refusals()] in ([], ["bad_signature"])


# --- revocation wins ---------------------------------------------------------------


def test_an_add_by_a_device_revoked_concurrently_does_not_count():
    """X adds Y (and Y adds Z) while A revokes X: neither Y nor Z is a member, on every replica."""
    base = group(B, X)
    at_a, at_x = copy(base), copy(base)
    revoke, _ = at_a.revoke(A, X.id, at=3, random=seeded(1))
    at_x.add(X, card(Y), at=3)
    at_x.add(Y, card(Z), at=4)
    assert {Y.id, Z.id} <= set(at_x.members())  # before X hears of the revoke
    sync(at_a, at_x)
    sync(at_x, at_a)
    for replica in (at_a, at_x):
        assert set(replica.members()) == {A.id, B.id}
        assert replica.revoked() == {X.id}
        assert replica.current_epoch() == Epoch(2, revoke.hash)
        assert not replica.needs_rekey()


def test_an_add_the_revoker_saw_stands():
    membership = group(B, X)
    membership.add(X, card(Y), at=3)
    membership.revoke(A, X.id, at=4, random=seeded(1))
    assert set(membership.members()) == {A.id, B.id, Y.id}


def test_a_revoke_by_a_device_revoked_concurrently_still_counts():
    """X revokes B while A revokes X: both are out, and no epoch key is clean until a rekey."""
    base = group(B, C, X)
    at_a, at_x = copy(base), copy(base)
    at_a.revoke(A, X.id, at=3, random=seeded(1))
    by_x, x_key = at_x.revoke(X, B.id, at=3, random=seeded(2))
    sync(at_a, at_x)
    assert set(at_a.members()) == {A.id, C.id} and at_a.revoked() == {B.id, X.id}
    assert at_a.current_epoch() is None and at_a.needs_rekey()  # X knows its own epoch's key, B knows A's
    entry, key = at_a.rekey(A, at=5, random=seeded(3))
    assert at_a.current_epoch() == Epoch(4, entry.hash) and not at_a.needs_rekey()  # two revokes before it
    assert set(entry.wraps) == {A.id, C.id}
    assert at_a.epoch_key_for(C, entry) == key != x_key


def test_concurrent_revokes_of_one_device_agree_on_the_lower_hash():
    base = group(B, X)
    at_a, at_b = copy(base), copy(base)
    first, _ = at_a.revoke(A, X.id, at=3, random=seeded(1))
    second, _ = at_b.revoke(B, X.id, at=3, random=seeded(2))
    sync(at_a, at_b)
    sync(at_b, at_a)
    expected = Epoch(2, min(first.hash, second.hash))
    assert at_a.current_epoch() == at_b.current_epoch() == expected
    assert not at_a.needs_rekey()
    assert sorted(e.number for e in at_a.epochs()) == [1, 2, 2]


def test_a_member_added_concurrently_with_a_revoke_needs_a_rekey():
    base = group(B, X)
    at_a, at_b = copy(base), copy(base)
    at_a.revoke(A, X.id, at=3, random=seeded(1))
    at_b.add(B, card(Y), at=3)
    sync(at_a, at_b)
    assert set(at_a.members()) == {A.id, B.id, Y.id}
    assert at_a.needs_rekey()  # Y was linked with epoch 1's key and is no recipient of epoch 2's
    entry, key = at_a.rekey(A, at=4, random=seeded(2))
    assert not at_a.needs_rekey() and at_a.epoch_key_for(Y, entry) == key


def test_epochs_count_the_revokes_before_them():
    membership = group(B, C, X, Y)
    first, key2 = membership.revoke(A, X.id, at=3, random=seeded(1))
    membership.add(B, card(Z), at=4)
    second, key3 = membership.revoke(B, Y.id, at=5, random=seeded(2))
    assert (key2.epoch, key3.epoch) == (2, 3)
    assert membership.current_epoch() == Epoch(3, second.hash)
    assert membership.epoch_key_for(Z, second) == key3
    assert membership.epoch_keys_for(C) == [key2, key3]
    assert membership.epoch_keys_for(Z) == [key3]  # Z came in epoch 2: its key arrived with the link
    assert not membership.needs_rekey()


def test_a_revoked_device_cannot_unwrap_the_new_key():
    membership = group(B, X)
    entry, key = membership.revoke(A, X.id, at=3, random=seeded(1))
    assert membership.epoch_key_for(B, entry) == key
    with pytest.raises(MembershipError) as err:
        membership.epoch_key_for(X, entry)
    assert err.value.code == "not_a_recipient"
    for sealed in entry.wraps.values():  # X tries every key sealed in the entry with its real keys
        with pytest.raises(KeysError):
            X.unwrap(sealed)
    assert membership.epoch_keys_for(X) == []


def test_epoch_key_for_names_its_refusals():
    membership = group(B)
    add = membership.add(A, card(C), at=3)
    for target, code in ((add, "not_an_epoch"), ("00" * 32, "unknown_entry")):
        with pytest.raises(MembershipError) as err:
            membership.epoch_key_for(A, target)
        assert err.value.code == code
    # A revoke whose author sealed garbage to B: accepted (nobody but B can tell), and B says so.
    body = wrap_body(bytes(32), [card(A), card(C)], X.id)
    body["keys"][B.id] = base64.b64encode(bytes(ms.WRAPPED_KEY_BYTES)).decode()
    membership.add(A, card(X), at=4)
    entry = sign_entry(A, "revoke", group=membership.group_id, parents=membership.heads(), at=5, body=body)
    assert membership.add_entry(entry)
    with pytest.raises(MembershipError) as err:
        membership.epoch_key_for(B, entry)
    assert err.value.code == "undecryptable"


def test_a_new_member_rebuilds_the_same_membership_from_the_entries():
    membership = group(B, C, X)
    membership.add(B, card(Y), at=3)
    membership.revoke(C, X.id, at=4, random=seeded(1))
    entries = membership.entries()
    positions = {e.hash: i for i, e in enumerate(entries)}
    assert all(positions[p] < positions[e.hash] for e in entries for p in e.parents)
    rebuilt = copy(membership)
    assert rebuilt.entries() == entries
    assert rebuilt.members() == membership.members() and rebuilt.heads() == membership.heads()
    assert rebuilt.current_epoch() == membership.current_epoch()


# --- convergence whatever the order ---------------------------------------------------


def _outcome(membership: Membership):
    return (
        membership.members(),
        membership.revoked(),
        membership.current_epoch(),
        membership.needs_rekey(),
        membership.heads(),
        [e.hash for e in membership.entries()],
        membership.epochs(),
    )


def _concurrent_scenario() -> list[Entry]:
    """Two replicas: on one A revokes X and adds Z; on the other X adds Y, B adds C, Y revokes B."""
    base = group(B, X)
    one, two = copy(base), copy(base)
    one.revoke(A, X.id, at=3, random=seeded(1))
    one.add(A, card(Z), at=4)
    two.add(X, card(Y), at=3)
    two.add(B, card(C), at=4)
    two.revoke(Y, B.id, at=5, random=seeded(2))
    sync(one, two)
    return one.entries()


SCENARIO = _concurrent_scenario()


@CONVERGE
@given(st.permutations(SCENARIO))
def test_concurrent_add_and_revoke_converge_whatever_the_order(entries):
    membership = Membership(SCENARIO[0])
    for entry in entries:
        membership.add_entry(entry)
    assert membership.held() == 0 and membership.take_refusals() == []
    assert _outcome(membership) == _outcome(copy_of_scenario())
    assert set(membership.members()) == {A.id, C.id, Z.id}  # B, revoked by Y: revocation stands
    assert membership.revoked() == {X.id, B.id} and not membership.is_member(Y.id)


def copy_of_scenario() -> Membership:
    membership = Membership(SCENARIO[0])
    for entry in SCENARIO[1:]:
        membership.add_entry(entry)
    return membership


_op = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 3), st.integers(0, 7)),
    st.tuples(st.just("revoke"), st.integers(0, 3), st.integers(0, 7)),
    st.tuples(st.just("rekey"), st.integers(0, 3), st.just(0)),
    st.tuples(st.just("sync"), st.integers(0, 3), st.integers(0, 3)),
)


@CONVERGE
@given(st.lists(_op, max_size=24), st.randoms(use_true_random=False))
def test_any_history_converges_and_no_revoked_device_holds_the_current_key(ops, shuffler):
    """Four replicas (devices 0-3) add, revoke, rekey and sync at random; then every order of every entry agrees."""
    base = group(*DEVICES[1:4])
    replicas = [copy(base) for _ in range(4)]
    for i, (op, r, arg) in enumerate(ops):
        me, replica = DEVICES[r], replicas[r]
        try:
            if op == "add":
                replica.add(me, card(DEVICES[arg]), at=i)
            elif op == "revoke":
                replica.revoke(me, DEVICES[arg].id, at=i, random=seeded(i))
            elif op == "rekey":
                replica.rekey(me, at=i, random=seeded(i))
            else:
                sync(replica, replicas[arg])
        except MembershipError:
            continue  # not allowed from this replica's view: nothing was added
    everything = {e.hash: e for replica in replicas for e in replica.entries()}
    reference = Membership(base.entries()[0])
    for entry in sorted(everything.values(), key=lambda e: e.hash):
        reference.add_entry(entry)
    assert reference.held() == 0 and reference.take_refusals() == []
    for _ in range(3):
        order = list(everything.values())
        shuffler.shuffle(order)
        membership = Membership(base.entries()[0])
        for entry in order:
            membership.add_entry(entry)
        assert _outcome(membership) == _outcome(reference)

    current = reference.current_epoch()
    revoked = reference.revoked()
    if current is not None and current.number > 1:
        entry = reference.entry(current.entry)
        assert entry is not None and entry.author not in revoked and not (set(entry.wraps) & revoked)
        for device in DEVICES:
            if device.id in revoked:
                with pytest.raises(MembershipError):
                    reference.epoch_key_for(device, entry)
    if current is not None and current.number == 1:
        assert not revoked
    if not reference.needs_rekey():
        assert current is not None


# --- robustness ------------------------------------------------------------------------


def _valid_entries() -> list[bytes]:
    membership = group(B, X)
    membership.add(B, card(C), at=3)
    membership.revoke(A, X.id, at=4, random=seeded(1))
    return [e.to_bytes() for e in membership.entries()]


VALID = _valid_entries()


@st.composite
def _mutated(draw):
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    return bytes(data)


@FUZZ
@given(st.one_of(st.binary(max_size=400), _mutated()))
def test_any_bytes_are_an_entry_or_a_membership_error(data):
    membership = group(B, X)
    try:
        entry = Entry.from_bytes(data)
        membership.add_entry(entry)
    except MembershipError:
        pass
    assert set(membership.members()) >= {A.id}


def test_an_epoch_key_from_found_is_epoch_1():
    membership, key = found(A, "a", at=1, random=seeded(9))
    assert key == EpochKey(1, seeded(9)(32))
    assert membership.current_epoch() == Epoch(1, membership.group_id)
    assert not membership.needs_rekey()
