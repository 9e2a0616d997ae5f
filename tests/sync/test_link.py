"""The link handshake: a member and a joiner agree on a code, then the member welcomes the joiner.

What a user relies on: the codes match only when the two devices talk to each other (not through
someone who saw the QR); a link adds one device; nothing is welcomed before both users said yes;
a bad, late, repeated or altered message changes nothing and says what it was; the secret, the
keys and the payload never print. Randomness is fixed, so every run is the same.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from nacl import bindings
from nacl.signing import SigningKey

from walletsync.errors import WalletsyncError
from walletsync.protocol.crypto import X25519KeyPair
from walletsync.sync import link as lk
from walletsync.sync.link import (
    CodeReady,
    JoinerConfirmed,
    JoinerLink,
    Joining,
    LinkCommitmentMismatch,
    LinkDevice,
    LinkDuplicate,
    Linked,
    LinkError,
    LinkExpired,
    LinkInUse,
    LinkMalformed,
    LinkOutOfOrder,
    LinkOversized,
    LinkRefused,
    LinkStep,
    LinkUndecryptable,
    LinkUnsupported,
    MemberLink,
    ReadyToWelcome,
    SomeoneElseTried,
    link_key,
)

NOW = 1_800_000_000
RELAY = "wss://relay.example/ws"
PAYLOAD = b"membership entries, data key, snapshot"
FUZZ = settings(
    max_examples=200, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def seeded(seed: int) -> Callable[[int], bytes]:
    """Reproducible randomness (tests only)."""
    return random.Random(seed).randbytes


def device(seed: int, name: str) -> LinkDevice:
    signing = SigningKey(bytes([seed]) * 32).verify_key.encode()
    return LinkDevice.of(signing, X25519KeyPair.from_private(bytes([seed + 100]) * 32).public_key, name)


DESKTOP, LAPTOP, STRANGER = device(1, "desktop"), device(2, "laptop"), device(3, "stranger")


def new_pair(seed: int = 1) -> tuple[MemberLink, JoinerLink]:
    member = MemberLink.create(DESKTOP, seeded(seed), RELAY, NOW)
    joiner = JoinerLink(member.uri, LAPTOP, seeded(seed + 1000))
    return member, joiner


def only(step: LinkStep) -> bytes:
    """The one message a step sends."""
    assert len(step.send) == 1, step
    return step.send[0]


def to_codes(member: MemberLink, joiner: JoinerLink, now: float = NOW) -> dict[str, bytes]:
    """Commit, offer and reveal: both sides hold a code. Returns the messages, by name."""
    commit = only(joiner.commit(now))
    step = member.receive(commit, now)
    assert step.event == Joining(LAPTOP)
    offer = only(step)
    step = joiner.receive(offer, now)
    reveal = only(step)
    assert step.event == CodeReady(joiner.code, DESKTOP)
    step = member.receive(reveal, now)
    assert step.send == () and step.event == CodeReady(member.code, LAPTOP)
    return {"commit": commit, "offer": offer, "reveal": reveal}


def to_welcome(member: MemberLink, joiner: JoinerLink, payload: bytes = PAYLOAD) -> dict[str, Any]:
    messages: dict[str, Any] = to_codes(member, joiner)
    messages["confirm"] = only(joiner.confirm(NOW))
    assert member.receive(messages["confirm"], NOW).event == JoinerConfirmed(LAPTOP)
    assert member.confirm(NOW).event == ReadyToWelcome(LAPTOP)
    step = member.welcome(payload, NOW)
    assert step.event == Linked(LAPTOP)
    messages["welcome"] = list(step.send)
    return messages


def snapshot(machine: MemberLink | JoinerLink) -> dict[str, Any]:
    return {k: copy.copy(v) for k, v in vars(machine).items()}


def refused_unchanged(machine: MemberLink | JoinerLink, message: Any, error: type[LinkError] = LinkError) -> LinkError:
    """Feeding ``message`` raises ``error`` and leaves ``machine`` exactly as it was."""
    before = snapshot(machine)
    with pytest.raises(error) as info:
        machine.receive(message, NOW)
    assert snapshot(machine) == before
    return info.value


def seal(key: bytes, kind: int, body: bytes, version: int = 1, nonce: bytes = b"\x01" * 24) -> bytes:
    """A message as the wire spec says: version ‖ nonce ‖ XChaCha20-Poly1305(kind ‖ body, aad=version)."""
    header = bytes([version])
    return (
        header + nonce + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(bytes([kind]) + body, header, nonce, key)
    )


def canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- the happy path ----------------------------------------------------------------------------


class TestHappyPath:
    def test_both_sides_show_the_same_code_and_the_payload_arrives(self) -> None:
        member, joiner = new_pair()
        messages = to_welcome(member, joiner)
        assert member.code == joiner.code
        assert len(member.code) == 7 and member.code[3] == " " and member.code.replace(" ", "").isdigit()
        assert member.joiner == LAPTOP and joiner.member == DESKTOP
        assert len(messages["welcome"]) == 1
        step = joiner.receive(messages["welcome"][0], NOW)
        assert step.event == Linked(DESKTOP, PAYLOAD) and step.event.payload == PAYLOAD
        assert member.state == joiner.state == "linked" and member.finished and joiner.finished

    def test_the_code_depends_on_the_randomness(self) -> None:
        codes = set()
        for seed in range(1, 6):
            member, joiner = new_pair(seed)
            to_codes(member, joiner)
            assert member.code == joiner.code
            codes.add(member.code)
        assert len(codes) == 5

    def test_a_large_payload_arrives_in_parts_in_any_order(self) -> None:
        payload = random.Random(3).randbytes(3 * lk.WELCOME_PART_BYTES + 17)
        member, joiner = new_pair()
        parts = to_welcome(member, joiner, payload)["welcome"]
        assert len(parts) == 4 and all(len(p) <= lk.MAX_MESSAGE_BYTES for p in parts)
        # the relay's limit is 256 KiB of base64 per message; a part stays well under it
        assert all(len(base64.b64encode(p)) < 128 * 1024 for p in parts)
        for part in reversed(parts[1:]):
            assert joiner.receive(part, NOW) == LinkStep()
        refused_unchanged(joiner, parts[2], LinkDuplicate)
        assert joiner.receive(parts[0], NOW).event == Linked(DESKTOP, payload)

    def test_an_empty_payload_is_one_part(self) -> None:
        member, joiner = new_pair()
        (part,) = to_welcome(member, joiner, b"")["welcome"]
        assert joiner.receive(part, NOW).event == Linked(DESKTOP, b"")

    def test_the_member_may_confirm_first(self) -> None:
        member, joiner = new_pair()
        to_codes(member, joiner)
        assert member.confirm(NOW) == LinkStep()
        assert member.receive(only(joiner.confirm(NOW)), NOW).event == ReadyToWelcome(LAPTOP)
        (part,) = member.welcome(PAYLOAD, NOW).send
        assert joiner.receive(part, NOW).event == Linked(DESKTOP, PAYLOAD)

    def test_own_messages_echoed_by_the_relay_are_ignored(self) -> None:
        member, joiner = new_pair()
        messages = to_codes(member, joiner)
        for machine, own in ((member, messages["offer"]), (joiner, messages["commit"]), (joiner, messages["reveal"])):
            before = snapshot(machine)
            assert machine.receive(own, NOW) == LinkStep()
            assert snapshot(machine) == before

    def test_the_topic_is_the_links(self) -> None:
        member, joiner = new_pair()
        assert member.topic == joiner.topic == member.uri.topic


# --- someone who saw the QR ----------------------------------------------------------------


class TestManInTheMiddle:
    """An attacker who knows the secret plays member to the joiner and joiner to the member."""

    def test_with_its_own_keys_it_gets_two_different_codes(self) -> None:
        member, joiner = new_pair()
        # towards the joiner it is a member; towards the member a joiner, claiming the real devices
        fake_member = MemberLink(member.uri, DESKTOP, seeded(666))
        fake_joiner = JoinerLink(member.uri, LAPTOP, seeded(667))
        offer = only(fake_member.receive(only(joiner.commit(NOW)), NOW))
        fake_member.receive(only(joiner.receive(offer, NOW)), NOW)
        reveal = only(fake_joiner.receive(only(member.receive(only(fake_joiner.commit(NOW)), NOW)), NOW))
        member.receive(reveal, NOW)
        assert joiner.code == fake_member.code and member.code == fake_joiner.code  # it knows both...
        assert member.code != joiner.code  # ...but cannot make them equal: the users see a mismatch
        # and if the joiner's user confirms anyway, the member cannot be fooled with the joiner's "yes"
        refused_unchanged(member, only(joiner.confirm(NOW)), LinkUndecryptable)

    def test_relaying_the_joiners_commit_gives_it_nothing(self) -> None:
        """Forward the commit, swap the offer's key: the member ends up with the joiner's key, not its own."""
        member, joiner = new_pair()
        commit = only(joiner.commit(NOW))
        member.receive(commit, NOW)
        fake_member = MemberLink(member.uri, DESKTOP, seeded(666))
        reveal = only(joiner.receive(only(fake_member.receive(commit, NOW)), NOW))
        member.receive(reveal, NOW)  # matches the commitment: the joiner's own key
        assert member.code != joiner.code

    def test_the_commitment_stops_it_choosing_its_key_after_seeing_the_members(self) -> None:
        member, _ = new_pair()
        key = link_key(member.uri.secret)
        committed = X25519KeyPair.from_private(b"\x05" * 32)
        nonce = b"\x06" * 32
        commitment = hashlib.sha256(committed.public_key + nonce).hexdigest()
        commit = seal(key, lk.COMMIT, canonical({"commitment": commitment, "device": LAPTOP.to_json()}))
        offer = only(member.receive(commit, NOW))
        _, offer_body = lk.open_message(key, offer)
        members_key = bytes.fromhex(json.loads(offer_body)["key"])
        # any key chosen now, knowing the member's, fails the commitment
        chosen = X25519KeyPair.from_private(hashlib.sha256(members_key).digest())
        for public_key in (chosen.public_key, members_key):
            for n in (nonce, b"\x07" * 32):
                forged = seal(key, lk.REVEAL, canonical({"key": public_key.hex(), "nonce": n.hex()}))
                refused_unchanged(member, forged, LinkCommitmentMismatch)
        honest = seal(key, lk.REVEAL, canonical({"key": committed.public_key.hex(), "nonce": nonce.hex()}))
        assert isinstance(member.receive(honest, NOW).event, CodeReady)


# --- one device per link -------------------------------------------------------------------


class TestSingleUse:
    def test_a_second_commit_is_refused_and_reported(self) -> None:
        member, joiner = new_pair()
        second = JoinerLink(member.uri, STRANGER, seeded(77))
        first_commit = only(joiner.commit(NOW))
        offer = only(member.receive(first_commit, NOW))
        before = snapshot(member)
        step = member.receive(only(second.commit(NOW)), NOW)
        assert step.event == SomeoneElseTried(STRANGER)
        assert snapshot(member) == before
        refusal = only(step)
        with pytest.raises(LinkInUse) as info:
            second.receive(refusal, NOW)
        assert info.value.code == "link_in_use" and second.finished and second.state == "in_use"
        with pytest.raises(LinkInUse):
            second.confirm(NOW)
        assert joiner.receive(refusal, NOW) == LinkStep()  # meant for the other one
        # the second joiner also sees the first one's offer: not for its commit
        with pytest.raises(LinkError):
            second.receive(offer, NOW)
        # and the first link goes on
        member.receive(only(joiner.receive(offer, NOW)), NOW)
        assert member.code == joiner.code

    def test_the_same_commit_twice_is_a_duplicate_not_someone_else(self) -> None:
        member, joiner = new_pair()
        commit = only(joiner.commit(NOW))
        member.receive(commit, NOW)
        refused_unchanged(member, commit, LinkDuplicate)

    def test_a_commit_after_the_link_is_done_is_someone_else(self) -> None:
        member, joiner = new_pair()
        to_welcome(member, joiner)
        late = JoinerLink(member.uri, STRANGER, seeded(78))
        assert member.receive(only(late.commit(NOW)), NOW).event == SomeoneElseTried(STRANGER)

    def test_a_device_cannot_link_to_itself(self) -> None:
        member, _ = new_pair()
        itself = JoinerLink(member.uri, DESKTOP, seeded(5))
        refused_unchanged(member, only(itself.commit(NOW)), LinkMalformed)


# --- bad messages change nothing ------------------------------------------------------------


def damaged(message: bytes) -> list[bytes]:
    """Truncations and single flipped bits across the message (header, nonce, ciphertext, tag)."""
    cuts = [message[:n] for n in (0, 1, 24, 41, 42, len(message) - 16, len(message) - 1)]
    flips = [bytes(message[:i]) + bytes([message[i] ^ (1 << (i % 8))]) + message[i + 1 :] for i in range(len(message))]
    return cuts + flips + [message + b"\x00"]


class TestBadMessages:
    def test_truncated_flipped_or_extended_messages_at_each_step(self) -> None:
        member, joiner = new_pair()
        commit = only(joiner.commit(NOW))
        for bad in damaged(commit):
            refused_unchanged(member, bad)
        offer = only(member.receive(commit, NOW))
        for bad in damaged(offer):
            refused_unchanged(joiner, bad)
        reveal = only(joiner.receive(offer, NOW))
        for bad in damaged(reveal):
            refused_unchanged(member, bad)
        member.receive(reveal, NOW)
        confirm = only(joiner.confirm(NOW))
        for bad in damaged(confirm):
            refused_unchanged(member, bad)
        member.receive(confirm, NOW)
        member.confirm(NOW)
        (welcome,) = member.welcome(PAYLOAD, NOW).send
        for bad in damaged(welcome):
            refused_unchanged(joiner, bad)
        assert joiner.receive(welcome, NOW).event == Linked(DESKTOP, PAYLOAD)

    def test_replayed_messages(self) -> None:
        member, joiner = new_pair()
        messages = to_welcome(member, joiner, b"x" * (lk.WELCOME_PART_BYTES + 1))
        refused_unchanged(member, messages["commit"], LinkDuplicate)
        refused_unchanged(joiner, messages["offer"], LinkDuplicate)
        joiner.receive(messages["welcome"][0], NOW)
        refused_unchanged(joiner, messages["welcome"][0], LinkDuplicate)
        joiner.receive(messages["welcome"][1], NOW)
        assert joiner.state == "linked"
        # the member is linked too: a late reveal or confirm is over
        refused_unchanged(member, messages["reveal"], LinkOutOfOrder)
        refused_unchanged(member, messages["confirm"], LinkOutOfOrder)

    def test_duplicates_before_the_end(self) -> None:
        member, joiner = new_pair()
        messages = to_codes(member, joiner)
        refused_unchanged(member, messages["reveal"], LinkDuplicate)
        refused_unchanged(joiner, messages["offer"], LinkDuplicate)
        confirm = only(joiner.confirm(NOW))
        member.receive(confirm, NOW)
        refused_unchanged(member, confirm, LinkDuplicate)

    def test_out_of_order(self) -> None:
        member, joiner = new_pair()
        messages = to_codes(member, joiner)
        fresh_member = MemberLink(member.uri, DESKTOP, seeded(9))
        refused_unchanged(fresh_member, messages["reveal"], LinkOutOfOrder)
        fresh_joiner = JoinerLink(member.uri, LAPTOP, seeded(10))
        refused_unchanged(fresh_joiner, messages["offer"], LinkOutOfOrder)
        with pytest.raises(LinkOutOfOrder):
            fresh_member.confirm(NOW)
        fresh_joiner.commit(NOW)
        with pytest.raises(LinkOutOfOrder):
            fresh_joiner.confirm(NOW)
        with pytest.raises(LinkInUse):  # an offer to another commit: the link was used by someone else
            fresh_joiner.receive(messages["offer"], NOW)
        assert fresh_joiner.state == "in_use" and fresh_joiner.finished
        with pytest.raises(LinkOutOfOrder):
            joiner.commit(NOW)

    def test_a_message_of_another_link_does_not_open(self) -> None:
        member, _ = new_pair(1)
        _, other = new_pair(2)
        error = refused_unchanged(member, only(other.commit(NOW)), LinkUndecryptable)
        assert error.code == "link_undecryptable"

    def test_oversized_and_unknown_version_and_not_bytes(self) -> None:
        member, _ = new_pair()
        key = link_key(member.uri.secret)
        refused_unchanged(member, b"\x01" * (lk.MAX_MESSAGE_BYTES + 1), LinkOversized)
        refused_unchanged(member, seal(key, lk.COMMIT, b" " * (lk.MAX_BODY_BYTES + 1)), LinkOversized)
        refused_unchanged(member, seal(key, lk.COMMIT, b"{}", version=2), LinkUnsupported)
        refused_unchanged(member, seal(key, 9, b"{}"), LinkMalformed)
        refused_unchanged(member, "a string", LinkMalformed)

    @pytest.mark.parametrize(
        "body",
        [
            b"not json",
            b"[]",
            b'{"commitment":"00"}',
            b'{"commitment":"%s","device":{}}' % (b"0" * 64),
            b'{ "commitment":"%s","device":%s}' % (b"0" * 64, canonical(LAPTOP.to_json())),  # not canonical
            b'{"commitment":"%s","commitment":"%s","device":%s}' % (b"0" * 64, b"0" * 64, canonical(LAPTOP.to_json())),
            b'{"commitment":NaN,"device":{}}',
            b"[" * 5000,
        ],
    )
    def test_malformed_commits(self, body: bytes) -> None:
        member, _ = new_pair()
        refused_unchanged(member, seal(link_key(member.uri.secret), lk.COMMIT, body), LinkMalformed)

    @pytest.mark.parametrize(
        "change",
        [
            {"id": "0" * 32},  # not derived from the signing key
            {"name": ""},
            {"name": "a" * 129},
            {"name": "evil\x1b[2J"},
            {"name": "right\u202eto left"},
            {"signing": "00" * 31},
            {"exchange": "ZZ" * 32},
        ],
    )
    def test_a_device_card_that_does_not_hold(self, change: dict[str, str]) -> None:
        member, _ = new_pair()
        card = {**LAPTOP.to_json(), **change}
        body = canonical({"commitment": "00" * 32, "device": card})
        refused_unchanged(member, seal(link_key(member.uri.secret), lk.COMMIT, body), LinkMalformed)

    def test_a_degenerate_key_in_the_offer(self) -> None:
        member, joiner = new_pair()
        commit = only(joiner.commit(NOW))
        _, commit_body = lk.open_message(link_key(member.uri.secret), commit)
        commitment = json.loads(commit_body)["commitment"]
        body = canonical({"commitment": commitment, "device": DESKTOP.to_json(), "key": "00" * 32})
        refused_unchanged(joiner, seal(link_key(member.uri.secret), lk.OFFER, body), LinkMalformed)

    def test_a_confirmation_that_does_not_say_yes(self) -> None:
        member, joiner = new_pair()
        to_codes(member, joiner)
        key = link_key(member.uri.secret)
        refused_unchanged(member, seal(key, lk.CONFIRM, b"\x00" * 60), LinkUndecryptable)
        refused_unchanged(member, seal(key, lk.CONFIRM, b"\x00" * 5), LinkMalformed)


# --- confirmations, refusals, expiry ---------------------------------------------------------


class TestConfirmations:
    def test_no_welcome_before_both_confirmations(self) -> None:
        member, joiner = new_pair()
        with pytest.raises(LinkOutOfOrder):
            member.welcome(PAYLOAD, NOW)
        to_codes(member, joiner)
        with pytest.raises(LinkOutOfOrder, match="both"):
            member.welcome(PAYLOAD, NOW)
        member.confirm(NOW)
        with pytest.raises(LinkOutOfOrder, match="both"):
            member.welcome(PAYLOAD, NOW)
        with pytest.raises(LinkOutOfOrder):
            member.confirm(NOW)

    def test_no_welcome_on_the_joiners_confirmation_alone(self) -> None:
        member, joiner = new_pair()
        to_codes(member, joiner)
        member.receive(only(joiner.confirm(NOW)), NOW)
        with pytest.raises(LinkOutOfOrder, match="both"):
            member.welcome(PAYLOAD, NOW)

    def test_the_joiner_takes_no_welcome_before_its_own_yes(self) -> None:
        member, joiner = new_pair()
        to_codes(member, joiner)
        unconfirmed = copy.deepcopy(joiner)
        member.receive(only(joiner.confirm(NOW)), NOW)
        member.confirm(NOW)
        (welcome,) = member.welcome(PAYLOAD, NOW).send
        refused_unchanged(unconfirmed, welcome, LinkOutOfOrder)

    def test_a_welcome_payload_over_the_bound(self) -> None:
        member, joiner = new_pair()
        to_codes(member, joiner)
        member.receive(only(joiner.confirm(NOW)), NOW)
        member.confirm(NOW)
        with pytest.raises(LinkOversized):
            member.welcome(b"\x00" * (lk.MAX_WELCOME_BYTES + 1), NOW)
        assert member.state == "comparing"


class TestRefusal:
    def test_the_joiner_refuses(self) -> None:
        member, joiner = new_pair()
        to_codes(member, joiner)
        refusal = only(joiner.refuse(NOW))
        assert joiner.state == "refused" and joiner.finished
        with pytest.raises(LinkRefused) as info:
            member.receive(refusal, NOW)
        assert info.value.code == "link_refused" and member.state == "refused" and member.finished
        for call in (member.confirm, lambda now: member.welcome(PAYLOAD, now), member.refuse):
            with pytest.raises(LinkRefused):
                call(NOW)

    def test_the_member_refuses(self) -> None:
        member, joiner = new_pair()
        to_codes(member, joiner)
        joiner.confirm(NOW)
        refusal = only(member.refuse(NOW))
        assert member.receive(refusal, NOW) == LinkStep()  # its own, echoed
        with pytest.raises(LinkRefused):
            joiner.receive(refusal, NOW)
        assert joiner.state == "refused"

    def test_the_member_cancels_before_anyone_came(self) -> None:
        member, joiner = new_pair()
        refusal = only(member.refuse(NOW))
        joiner.commit(NOW)
        with pytest.raises(LinkRefused):
            joiner.receive(refusal, NOW)
        with pytest.raises(LinkRefused):
            member.receive(only(JoinerLink(member.uri, STRANGER, seeded(4)).commit(NOW)), NOW)

    def test_a_refusal_from_another_joiner_is_not_this_links(self) -> None:
        member, joiner = new_pair()
        to_codes(member, joiner)
        stranger = JoinerLink(member.uri, STRANGER, seeded(5))
        stranger.commit(NOW)
        assert member.receive(only(stranger.refuse(NOW)), NOW) == LinkStep()
        assert member.state == "comparing"

    def test_nothing_to_refuse_before_committing(self) -> None:
        _, joiner = new_pair()
        with pytest.raises(LinkOutOfOrder):
            joiner.refuse(NOW)


class TestExpiry:
    def test_everything_after_expiry_is_expired(self) -> None:
        member, joiner = new_pair()
        late = member.uri.expires
        messages = to_codes(member, joiner)
        with pytest.raises(LinkExpired) as info:
            member.receive(messages["reveal"], late)
        assert info.value.code == "link_expired" and member.state == "expired" and member.finished
        for call in (member.confirm, member.refuse, lambda now: member.welcome(b"", now)):
            with pytest.raises(LinkExpired):
                call(NOW)  # even with an earlier clock: it is over
        with pytest.raises(LinkExpired):
            joiner.confirm(late + 100)
        assert joiner.state == "expired"

    def test_a_joiner_cannot_start_late(self) -> None:
        member, joiner = new_pair()
        with pytest.raises(LinkExpired):
            joiner.commit(member.uri.expires)
        with pytest.raises(LinkExpired):
            member.receive(b"\x00", member.uri.expires + 1)

    def test_before_expiry_all_is_well(self) -> None:
        member, joiner = new_pair()
        commit = only(joiner.commit(member.uri.expires - 1))
        assert member.receive(commit, member.uri.expires - 1).event == Joining(LAPTOP)


# --- nothing secret prints -------------------------------------------------------------------


def test_the_secret_keys_and_payload_never_print() -> None:
    member, joiner = new_pair()
    secret = member.uri.secret
    shown: list[object] = [member, joiner, member.uri, joiner.uri, DESKTOP]
    messages = to_codes(member, joiner)
    commit_private = joiner._committed.ephemeral.private_key  # type: ignore[union-attr]
    shown += [member._taken, joiner._committed, member._agreed]  # the private records too
    shown.append(member.receive(only(joiner.confirm(NOW)), NOW))
    shown.append(member.confirm(NOW))
    step = member.welcome(PAYLOAD, NOW)
    shown += [step.event, joiner.receive(step.send[0], NOW)]
    errors: list[WalletsyncError] = []
    for bad in (messages["commit"][:10], messages["commit"], b"\x02" + messages["commit"][1:]):
        try:
            member.receive(bad, NOW)
        except LinkError as exc:
            errors.append(exc)
    for text in (member.uri.format()[:-3], member.uri.format() + "&v=2", member.uri.format()):
        try:
            lk.parse_link_uri(text, member.uri.expires + 1)
        except LinkError as exc:
            errors.append(exc)
    assert len(errors) == 6
    forbidden = [
        secret.hex(),
        repr(secret),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        base64.b64encode(secret).decode(),
        link_key(secret).hex(),
        repr(link_key(secret)),
        commit_private.hex(),
        repr(commit_private),
        repr(PAYLOAD),
    ]
    for thing in shown + errors:
        for text in (repr(thing), str(thing)):
            for secretish in forbidden:
                assert secretish not in text, (thing, secretish)


# --- robustness: arbitrary input only ever raises a LinkError -----------------------------------


def machines_in_every_state() -> list[MemberLink | JoinerLink]:
    """Copies of both sides at each step of one link (one secret, so one key seals for all of them)."""
    member, joiner = new_pair()
    states: list[MemberLink | JoinerLink] = [copy.deepcopy(member), copy.deepcopy(joiner)]
    offer = only(member.receive(only(joiner.commit(NOW)), NOW))
    states += [copy.deepcopy(member), copy.deepcopy(joiner)]
    member.receive(only(joiner.receive(offer, NOW)), NOW)
    states += [copy.deepcopy(member), copy.deepcopy(joiner)]
    member.receive(only(joiner.confirm(NOW)), NOW)
    states += [copy.deepcopy(member), copy.deepcopy(joiner)]
    return states


STATES = machines_in_every_state()
KEY = link_key(STATES[0].uri.secret)
json_bodies = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=70),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
).map(lambda value: json.dumps(value).encode())
shaped_bodies = st.fixed_dictionaries(
    {},
    optional={
        "commitment": st.sampled_from(["0" * 64, "ab" * 32, None, 5]),
        "device": st.sampled_from([LAPTOP.to_json(), DESKTOP.to_json(), {}, []]),
        "key": st.sampled_from(["00" * 32, "01" + "00" * 31, "ff" * 32, "e0" * 32]),
        "nonce": st.sampled_from(["00" * 32, "x"]),
        "by": st.sampled_from(["member", "joiner", "x"]),
        "reason": st.sampled_from(["refused", "in_use", "?"]),
    },
).map(canonical)


def receive_or_link_error(machine: MemberLink | JoinerLink, message: bytes) -> None:
    machine = copy.deepcopy(machine)
    try:
        machine.receive(message, NOW)
    except LinkError:
        pass


@FUZZ
@given(st.sampled_from(range(len(STATES))), st.binary(max_size=200))
def test_arbitrary_bytes_only_raise_link_errors(which: int, data: bytes) -> None:
    receive_or_link_error(STATES[which], data)


@FUZZ
@given(
    st.sampled_from(range(len(STATES))),
    st.integers(0, 8),
    st.binary(max_size=100) | json_bodies | shaped_bodies,
)
def test_arbitrary_sealed_bodies_only_raise_link_errors(which: int, kind: int, body: bytes) -> None:
    receive_or_link_error(STATES[which], seal(KEY, kind, body))


# --- stateful: any delivery order, duplicates, either side's user at any time -------------------


SIDES_OF_A_LINK = st.sampled_from(["member", "joiner"])


class LinkOverARelay(RuleBasedStateMachine):
    """A member and a joiner whose messages the relay delivers late, out of order and twice.

    Each side has a queue of what the relay still owes it (its own messages too: the relay echoes);
    besides taking from it in order, either side may be handed any message ever published. At the
    end the relay delivers everything and both users say yes: unless someone refused, the link
    must then complete with the member's payload.
    """

    @initialize(seed=st.integers(0, 2**16), payload=st.binary(max_size=64) | st.just(b"p" * 70_000))
    def start(self, seed: int, payload: bytes) -> None:
        self.member, self.joiner = new_pair(seed)
        self.payload = payload
        self.published: list[bytes] = []
        self.owed: dict[str, list[bytes]] = {"member": [], "joiner": []}
        self.ready = False
        self.linked: dict[str, bytes] = {}
        self.refused = False
        self._run(lambda: self.joiner.commit(NOW), "joiner")

    def _machine(self, side: str) -> MemberLink | JoinerLink:
        return self.member if side == "member" else self.joiner

    def _run(self, call: Callable[[], LinkStep], side: str) -> None:
        try:
            step = call()
        except (LinkOutOfOrder, LinkRefused) as exc:  # LinkDuplicate is a LinkOutOfOrder
            self.refused |= isinstance(exc, LinkRefused)
            return
        self.published += step.send
        for queue in self.owed.values():
            queue += step.send
        if isinstance(step.event, ReadyToWelcome):
            self.ready = True
        if isinstance(step.event, Linked):
            self.linked[side] = step.event.payload

    @rule(to=SIDES_OF_A_LINK)
    def deliver_next(self, to: str) -> None:
        if self.owed[to]:
            message = self.owed[to].pop(0)
            self._run(lambda: self._machine(to).receive(message, NOW), to)

    @rule(data=st.data(), to=SIDES_OF_A_LINK)
    def deliver_any_again(self, data: st.DataObject, to: str) -> None:
        if self.published:
            message = data.draw(st.sampled_from(self.published))
            self._run(lambda: self._machine(to).receive(message, NOW), to)

    @rule(side=SIDES_OF_A_LINK)
    def user_says_yes(self, side: str) -> None:
        self._run(lambda: self._machine(side).confirm(NOW), side)

    @precondition(lambda self: self.ready)
    @rule()
    def welcome(self) -> None:
        self._run(lambda: self.member.welcome(self.payload, NOW), "member")

    @rule(side=SIDES_OF_A_LINK, roll=st.integers(0, 9))
    def user_says_no_now_and_then(self, side: str, roll: int) -> None:
        if roll == 0:  # rarely, so most runs get far
            self._run(lambda: self._machine(side).refuse(NOW), side)

    @invariant()
    def codes_agree(self) -> None:
        if self.member.code and self.joiner.code:
            assert self.member.code == self.joiner.code

    @invariant()
    def welcomed_only_after_both_said_yes(self) -> None:
        if self.member.state == "linked":
            assert self.member._member_confirmed and self.member._joiner_confirmed
            assert self.joiner.state in ("confirmed", "linked", "refused")

    @invariant()
    def linked_only_with_the_members_payload(self) -> None:
        if "joiner" in self.linked:
            assert self.linked["joiner"] == self.payload and self.member.state == "linked"

    def teardown(self) -> None:
        for _ in range(6):
            for side in ("member", "joiner"):
                while self.owed[side]:
                    self.deliver_next(side)
                self.user_says_yes(side)
            if self.ready:
                self.welcome()
        if self.refused or "refused" in (self.member.state, self.joiner.state):
            assert not self.linked.get("joiner")
        else:
            assert self.member.state == self.joiner.state == "linked"
            assert self.linked == {"member": b"", "joiner": self.payload}


LinkOverARelay.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None, database=None, derandomize=True
)
TestLinkOverARelay = LinkOverARelay.TestCase
