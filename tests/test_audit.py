"""The audit chain: `audit verify` must name the first edited, deleted or reordered row.

If these fail, someone with write access to the database can rewrite history
(hide a signing request, a revocation, a mismatching signature) and
`walletsync audit verify` still says ok, or names the wrong row.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from nacl.signing import VerifyKey

from walletsync import audit
from walletsync.audit import GENESIS, AuditEntry, InvalidAuditEntry, append, sign_head, verify, verify_head
from walletsync.errors import WalletsyncError
from walletsync.protocol.relay_auth import RelayIdentity

TOPIC = "ab" * 32
T0 = 1_800_000_000_000
FIXED = RelayIdentity(b"\x01" * 32)
DEVICE = RelayIdentity(os.urandom(32))

EVENTS = [
    ("pairing_offered", None, {"uri_topic": "cd" * 32, "expires_at": 1_800_000_300}),
    ("proposal_sent", None, {"chains": ["eip155:1"], "methods": ["personal_sign"]}),
    ("session_settled", TOPIC, {"peer": {"name": "Rainbow", "url": "https://rainbow.me"}}),
    ("request_pushed", TOPIC, {"id": 1, "method": "personal_sign"}),
    ("request_answered", TOPIC, {"id": 1}),
    ("signature_verified", TOPIC, {"id": 1, "recovered": "0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb"}),
]


def build_chain(key=DEVICE, events=EVENTS) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for offset, (kind, session, data) in enumerate(events):
        entries.append(
            append(entries[-1] if entries else None, kind=kind, session=session, data=data, ts=T0 + offset, key=key)
        )
    return entries


def at(entries: list[AuditEntry], seq: int) -> int:
    return next(i for i, e in enumerate(entries) if e.seq == seq)


def edited(entries: list[AuditEntry], row: int, **changes) -> list[AuditEntry]:
    """A copy of the list with row ``row`` changed but not re-signed (what a database editor can do)."""
    copy = list(entries)
    copy[at(copy, row)] = dataclasses.replace(copy[at(copy, row)], **changes)
    return copy


def resigned(entry: AuditEntry, signer, **changes) -> AuditEntry:
    changed = dataclasses.replace(entry, **changes)
    return dataclasses.replace(changed, signature=signer.sign(changed.canonical()).hex())


def assert_bad(verdict, seq: int, word: str) -> None:
    assert verdict.ok is False
    assert verdict.first_bad["seq"] == seq, verdict.first_bad
    assert word in verdict.first_bad["reason"], verdict.first_bad


# --- an honest chain ------------------------------------------------------------------


def test_an_honest_chain_verifies():
    entries = build_chain()
    verdict = verify(entries, DEVICE.public_key, head=(6, entries[-1].hash()))
    assert verdict.ok and verdict.entries == 6 and verdict.first_bad is None
    assert verdict.to_json() == {"ok": True, "entries": 6, "first_bad": None}


def test_rows_link_to_their_predecessor_and_count_from_one():
    entries = build_chain()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6]
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash() for a, b in zip(entries, entries[1:]))


def test_an_empty_log_verifies_without_a_head():
    assert verify([], DEVICE.public_key).to_json() == {"ok": True, "entries": 0, "first_bad": None}


def test_export_line_round_trips_through_json():
    entry = build_chain()[2]
    line = json.loads(json.dumps(entry.to_json()))
    assert line["hash"] == entry.hash() and line["signature"] == entry.signature
    assert AuditEntry.from_json(line) == entry


def test_from_json_names_the_missing_fields():
    with pytest.raises(InvalidAuditEntry, match="needs the fields"):
        AuditEntry.from_json({"seq": 1})


# --- tampering ------------------------------------------------------------------------


def test_edited_data_is_named():
    entries = build_chain()
    verdict = verify(edited(entries, 3, data={"peer": {"name": "Evil"}}), DEVICE.public_key)
    assert_bad(verdict, 3, "edited")
    assert verdict.to_json()["first_bad"] == {
        "seq": 3,
        "reason": "edited: the row's content no longer matches its signature",
    }


def test_edited_kind_is_named():
    assert_bad(verify(edited(build_chain(), 3, kind="session_revoked"), DEVICE.public_key), 3, "edited")


def test_edited_timestamp_is_named():
    assert_bad(verify(edited(build_chain(), 3, ts=T0 - 86_400_000), DEVICE.public_key), 3, "edited")


def test_edited_session_is_named():
    assert_bad(verify(edited(build_chain(), 4, session="ef" * 32), DEVICE.public_key), 4, "edited")


def test_a_deleted_row_is_named():
    entries = build_chain()
    del entries[at(entries, 3)]
    verdict = verify(entries, DEVICE.public_key)
    assert_bad(verdict, 4, "deleted")
    assert "row 3 missing" in verdict.first_bad["reason"]


def test_deleted_first_rows_are_named():
    verdict = verify(build_chain()[2:], DEVICE.public_key)
    assert_bad(verdict, 3, "deleted")
    assert "rows 1-2 missing" in verdict.first_bad["reason"]


def test_swapped_rows_are_named():
    entries = build_chain()
    entries[1], entries[3] = entries[3], entries[1]
    verdict = verify(entries, DEVICE.public_key)
    assert_bad(verdict, 4, "reordered")
    assert "row 4 comes before row 2" in verdict.first_bad["reason"]


def test_adjacent_swap_is_named():
    entries = build_chain()
    entries[2], entries[3] = entries[3], entries[2]
    assert_bad(verify(entries, DEVICE.public_key), 4, "reordered")


def test_a_duplicated_row_is_named():
    entries = build_chain()
    entries.insert(3, entries[2])
    assert_bad(verify(entries, DEVICE.public_key), 3, "reordered")


def test_a_truncated_tail_is_caught_by_the_head():
    entries = build_chain()
    head = (entries[-1].seq, entries[-1].hash())
    assert verify(entries[:-1], DEVICE.public_key).ok, "without a head, a cut tail cannot be seen"
    verdict = verify(entries[:-1], DEVICE.public_key, head=head)
    assert_bad(verdict, 6, "removed")
    assert "rows after 5 were removed" in verdict.first_bad["reason"]


def test_a_fully_emptied_log_is_caught_by_the_head():
    entries = build_chain()
    assert_bad(verify([], DEVICE.public_key, head=(6, entries[-1].hash())), 1, "removed")


def test_a_rewritten_last_row_is_caught_by_the_head():
    """Only the key holder can re-sign; the head still pins which row 6 was logged."""
    entries = build_chain()
    head = (6, entries[-1].hash())
    entries[-1] = resigned(entries[-1], DEVICE, data={"id": 2})
    assert_bad(verify(entries, DEVICE.public_key, head=head), 6, "signed head")


def test_rows_after_the_head_are_accepted():
    entries = build_chain()
    assert verify(entries, DEVICE.public_key, head=(4, entries[3].hash())).ok


def test_a_row_resigned_with_another_key_is_named():
    entries = build_chain()
    stranger = RelayIdentity(os.urandom(32))
    entries[2] = resigned(entries[2], stranger, data={"peer": {"name": "Evil"}})
    assert_bad(verify(entries, DEVICE.public_key), 3, "edited")


def test_a_chain_by_another_key_fails_at_row_one():
    assert_bad(verify(build_chain(), RelayIdentity(os.urandom(32)).public_key), 1, "edited")


def test_a_changed_prev_hash_is_named():
    entries = build_chain()
    assert_bad(verify(edited(entries, 4, prev_hash="f" * 64), DEVICE.public_key), 4, "edited")


def test_a_broken_link_is_named_even_when_signed():
    """A row signed by the device but pointing at another predecessor: a row before it was swapped out."""
    entries = build_chain()
    entries[3] = resigned(entries[3], DEVICE, prev_hash="f" * 64)
    verdict = verify(entries, DEVICE.public_key)
    assert_bad(verdict, 4, "reordered or a row before it was removed")


def test_a_replaced_row_breaks_the_next_link():
    """Row 3 replaced by a validly signed different row 3 (e.g. from another log of the same device)."""
    entries = build_chain()
    entries[2] = resigned(entries[2], DEVICE, ts=entries[2].ts + 1)
    assert_bad(verify(entries, DEVICE.public_key), 4, "a row before it was removed")


def test_the_first_problem_wins():
    entries = edited(build_chain(), 5, kind="ping_answered")
    del entries[at(entries, 2)]
    assert_bad(verify(entries, DEVICE.public_key), 3, "deleted")


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("seq", "3", "seq is not a positive integer"),
        ("seq", True, "seq is not a positive integer"),
        ("ts", 1.5, "ts is not an integer"),
        ("kind", None, "kind is not a string"),
        ("session", 7, "session is not a string"),
        ("data", [1], "data is not an object"),
        ("prev_hash", "F" * 64, "prev_hash is not 64 lowercase hex digits"),
        ("signature", None, "signature is not 128 lowercase hex digits"),
    ],
)
def test_malformed_fields_are_edits_not_crashes(field, value, words):
    entries = edited(build_chain(), 3, **{field: value})
    verdict = verify(entries, DEVICE.public_key)
    assert verdict.ok is False and "edited" in verdict.first_bad["reason"] and words in verdict.first_bad["reason"]


def test_uppercase_signature_hex_is_not_accepted():
    """Otherwise a case change of the signature would be an edit that verifies."""
    entries = build_chain()
    assert_bad(verify(edited(entries, 2, signature=entries[1].signature.upper()), DEVICE.public_key), 2, "edited")


# --- the signed head ------------------------------------------------------------------


def test_head_signature_round_trips_and_binds_seq_and_hash():
    entries = build_chain()
    signature = sign_head(entries[-1], DEVICE)
    assert verify_head(6, entries[-1].hash(), signature, DEVICE.public_key)
    assert not verify_head(5, entries[-1].hash(), signature, DEVICE.public_key)
    assert not verify_head(6, entries[-2].hash(), signature, DEVICE.public_key)
    assert not verify_head(6, entries[-1].hash(), signature, RelayIdentity(os.urandom(32)).public_key)


def test_a_row_signature_is_not_a_head_signature():
    entry = build_chain()[0]
    assert not verify_head(entry.seq, entry.hash(), entry.signature, DEVICE.public_key)


@pytest.mark.parametrize(
    ("seq", "hash_", "signature", "key"),
    [
        ("6", "a" * 64, "b" * 128, DEVICE.public_key),
        (6, "nothex", "b" * 128, DEVICE.public_key),
        (6, "a" * 64, "zz", DEVICE.public_key),
        (6, "a" * 64, None, DEVICE.public_key),
        (6, "a" * 64, "b" * 128, b"short"),
    ],
)
def test_verify_head_says_false_for_junk(seq, hash_, signature, key):
    assert verify_head(seq, hash_, signature, key) is False


# --- append: caller bugs --------------------------------------------------------------


def test_unknown_kind_is_a_caller_error():
    with pytest.raises(InvalidAuditEntry, match="unknown audit kind 'session_hacked'") as info:
        append(None, kind="session_hacked", session=None, data={}, ts=T0, key=DEVICE)
    assert isinstance(info.value, WalletsyncError) and isinstance(info.value, ValueError)
    assert info.value.code == "invalid_audit_entry"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"when": object()}, "not JSON-serializable"),
        ({"x": float("nan")}, "not JSON-serializable"),
        (["a"], "must be a dict"),
    ],
)
def test_data_must_be_a_json_object(data, words):
    with pytest.raises(InvalidAuditEntry, match=words):
        append(None, kind="event_received", session=TOPIC, data=data, ts=T0, key=DEVICE)


@pytest.mark.parametrize("ts", [1.5, -1, "1800000000000", True])
def test_ts_must_be_unix_milliseconds(ts):
    with pytest.raises(InvalidAuditEntry, match="unix milliseconds"):
        append(None, kind="event_received", session=TOPIC, data={}, ts=ts, key=DEVICE)


def test_data_is_stored_as_it_reads_back():
    entry = append(
        None, kind="event_received", session=TOPIC, data={"chains": ("eip155:1",), 7: "x"}, ts=T0, key=DEVICE
    )
    assert entry.data == {"chains": ["eip155:1"], "7": "x"}
    assert verify([AuditEntry.from_json(json.loads(json.dumps(entry.to_json())))], DEVICE.public_key).ok


def test_later_changes_to_the_callers_dict_do_not_touch_the_row():
    data = {"accounts": ["a"]}
    entry = append(None, kind="event_received", session=TOPIC, data=data, ts=T0, key=DEVICE)
    data["accounts"].append("b")
    assert verify([entry], DEVICE.public_key).ok


def test_lone_surrogates_from_a_peer_are_logged_not_crashed_on():
    entry = append(
        None, kind="session_settled", session=TOPIC, data={"peer": {"name": "bad \ud800 name"}}, ts=T0, key=DEVICE
    )
    assert verify([entry], DEVICE.public_key).ok
    assert entry.canonical().isascii()


def test_repr_of_the_signer_shows_no_seed():
    assert FIXED.seed.hex() not in repr(build_chain(FIXED)[0]) and "seed" not in repr(FIXED)


# --- canonical bytes are a stable format ----------------------------------------------

GOLDEN_CANONICAL = (
    '{"data":{"accounts":["eip155:1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb"],'
    '"peer":{"name":"Rainbow ✓","url":"https://rainbow.me"}},"kind":"session_settled",'
    '"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","seq":1,'
    '"session":"abababababababababababababababababababababababababababababababab","ts":1800000000000}'
).encode()
GOLDEN_UNSIGNED_HASH = "af7df261643bd3d34bee46c670975b2638e0dcbd16c9573badbf7499b1dcc420"
"""The link an earlier build wrote (the canonical bytes alone)."""
GOLDEN_HASH = "8160f7dd21b967ebd3cac425177dbf948ddfc4da4af8dc4f37efbcaa8a32a218"
GOLDEN_SIGNATURE = (
    "846cfd1c10c3c71448cc20ddca118b60afceabd039c675ef260ac18e6cd83160"
    "b36e3214cabe3a406ff840e68c38af9dc1ad801c154cd31c58e8febd3d139d06"
)


def golden_entry() -> AuditEntry:
    data = {
        "peer": {"url": "https://rainbow.me", "name": "Rainbow ✓"},
        "accounts": ["eip155:1:0xab16a96D359eC26a11e2C2b3d8f8B8942d5Bfcdb"],
    }
    return append(None, kind="session_settled", session=TOPIC, data=data, ts=T0, key=FIXED)


def test_canonical_bytes_are_stable():
    """Changing these breaks every existing log: old rows would no longer verify."""
    entry = golden_entry()
    assert entry.canonical() == GOLDEN_CANONICAL
    assert entry.unsigned_hash() == GOLDEN_UNSIGNED_HASH == hashlib.sha256(GOLDEN_CANONICAL).hexdigest()
    assert entry.signature == GOLDEN_SIGNATURE
    assert (
        entry.hash() == GOLDEN_HASH == hashlib.sha256(GOLDEN_CANONICAL + b"\n" + GOLDEN_SIGNATURE.encode()).hexdigest()
    )
    VerifyKey(FIXED.public_key).verify(GOLDEN_CANONICAL, bytes.fromhex(GOLDEN_SIGNATURE))


def relinked_the_earlier_way(entries: list[AuditEntry]) -> list[AuditEntry]:
    """The chain an earlier build wrote: each prev_hash the previous row's canonical bytes alone, each row re-signed."""
    out: list[AuditEntry] = []
    for entry in entries:
        unsigned = dataclasses.replace(entry, prev_hash=out[-1].unsigned_hash() if out else GENESIS, signature="")
        out.append(dataclasses.replace(unsigned, signature=FIXED.sign(unsigned.canonical()).hex()))
    return out


def test_a_log_linked_the_earlier_way_still_verifies_and_is_still_checked_row_by_row():
    earlier = relinked_the_earlier_way(build_chain(key=FIXED))
    assert verify(earlier, FIXED.public_key, head=(earlier[-1].seq, earlier[-1].unsigned_hash())).ok
    edited = list(earlier)
    edited[1] = dataclasses.replace(earlier[1], data={"edited": True})
    verdict = verify(edited, FIXED.public_key)
    assert not verdict.ok and verdict.first_bad["seq"] == earlier[1].seq


def test_a_row_whose_signature_was_swapped_for_another_valid_one_is_named():
    """The chain covers signatures: a signature replaced by another row's (well formed, signed by the key) breaks it."""
    entries = build_chain(key=FIXED)
    swapped = list(entries)
    swapped[1] = dataclasses.replace(entries[1], signature=entries[2].signature)
    verdict = verify(swapped, FIXED.public_key, head=(entries[-1].seq, entries[-1].hash()))
    assert not verdict.ok and verdict.first_bad["seq"] == entries[1].seq


def test_kinds_are_the_documented_set():
    assert (
        len(audit.KINDS) == 45
        and "session_deleted_by_peer" in audit.KINDS
        and {"device_linked", "device_joined", "link_second_device_refused", "sync_message_refused"} <= audit.KINDS
        and "request_refused_by_scope" in audit.KINDS
        and {"request_refused_by_policy", "policy_attested"} <= audit.KINDS
        and {"backup_made", "restored_from_backup"} <= audit.KINDS
        and {"watch_added", "watch_changed", "watch_removed"} <= audit.KINDS
    )
    assert "session_scope_widened" in audit.KINDS
    assert {"bridge_refused", "bridge_reads", "transaction_altered"} <= audit.KINDS  # the signer bridge's own rows


# --- properties -----------------------------------------------------------------------

json_leaf = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.text(max_size=12)
json_value = st.recursive(
    json_leaf,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
events = st.tuples(
    st.sampled_from(sorted(audit.KINDS)),
    st.none() | st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    st.dictionaries(st.text(max_size=8), json_value, max_size=4),
    st.integers(0, 2**53),
)


def chain_of(drawn) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for kind, session, data, ts in drawn:
        entries.append(
            append(entries[-1] if entries else None, kind=kind, session=session, data=data, ts=ts, key=FIXED)
        )
    return entries


@settings(max_examples=60, deadline=None)
@given(st.lists(events, min_size=1, max_size=8))
def test_any_appended_chain_verifies(drawn):
    entries = chain_of(drawn)
    assert verify(entries, FIXED.public_key, head=(entries[-1].seq, entries[-1].hash())).ok
    reloaded = [AuditEntry.from_json(json.loads(json.dumps(e.to_json()))) for e in entries]
    assert verify(reloaded, FIXED.public_key).ok


FIELDS = ("seq", "ts", "kind", "session", "data", "prev_hash", "signature")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.lists(events, min_size=1, max_size=5), st.data())
def test_any_single_byte_change_is_caught_at_or_before_its_row(drawn, data):
    entries = chain_of(drawn)
    row = data.draw(st.integers(0, len(entries) - 1), label="row")
    field = data.draw(st.sampled_from(FIELDS), label="field")
    original = getattr(entries[row], field)
    encoded = json.dumps(original, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    position = data.draw(st.integers(0, len(encoded) - 1), label="position")
    likely = st.sampled_from(b'0123456789abcdefABCDEF"')  # bytes that often keep the JSON parseable
    byte = data.draw((likely | st.integers(0, 255)).filter(lambda b: b != encoded[position]), label="byte")
    mutated = encoded[:position] + bytes([byte]) + encoded[position + 1 :]
    try:
        value = json.loads(mutated.decode("utf-8"))
    except ValueError:
        assume(False)  # not JSON any more: the loader rejects it before verify sees it
    assume(json.dumps(value, sort_keys=True) != json.dumps(original, sort_keys=True))  # e.g. 1e+16 -> 1e016
    tampered = list(entries)
    tampered[row] = dataclasses.replace(entries[row], **{field: value})
    verdict = verify(tampered, FIXED.public_key)
    assert verdict.ok is False
    seq = tampered[row].seq  # every row before it is intact, so the changed row itself is named
    assert verdict.first_bad["seq"] == (seq if type(seq) is int else None)
