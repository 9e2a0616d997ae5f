"""The policy file takes effect only as attested: a hand edit, an older copy or a deletion refuses every request.

A companion opened offline on a fresh data dir (the real keyring); requests are put to its gate directly, as
:meth:`Companion.request` does before anything is pushed.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.policy.conftest import ETH, FRIEND, PHONE
from walletsync.policy.model import Policies, Policy
from walletsync.protocol.state import Session
from walletsync.service import Companion, Config, PolicyFileError, PolicyRefused, PolicyUnattested
from walletsync.store.db import SessionRecord

TOPIC = "cd" * 32
RECORD = SessionRecord(
    TOPIC,
    "laptop",
    {},
    {"eip155": {"chains": ["eip155:1"], "accounts": [f"eip155:1:{PHONE}"], "methods": [], "events": []}},
    2**40,
    "active",
    0,
    None,
    None,
    "ef" * 32,
    False,
)


SESSION = Session(
    TOPIC,
    b"\x00" * 32,
    "ef" * 32,
    "aa" * 32,
    "bb" * 32,
    {},
    "bb" * 32,
    RECORD.namespaces,
    2**40,
    False,
    True,
    required_namespaces={"eip155": {"chains": ["eip155:1"], "methods": [], "events": []}},
)
"""RECORD as the engine keeps it, to save in the store (a session :meth:`Companion.preview` can find)."""


@pytest.fixture
async def companion(tmp_path):
    companion = await Companion.open(Config(data_dir=str(tmp_path / "home")), offline=True)
    yield companion
    await companion.close()


def ask(companion: Companion, wei: int = 1) -> int | None:
    tx = {"from": PHONE, "to": FRIEND, "value": hex(wei)}
    return companion.policies.reserve(RECORD, "eip155:1", "eth_sendTransaction", [tx], 300)


def refused_rule(companion: Companion, wei: int = 1) -> str:
    with pytest.raises(PolicyRefused) as refused:
        ask(companion, wei)
    return refused.value.rule


async def test_set_writes_and_attests_in_one_step(companion):
    view = companion.set_policy(None, max_native_per_day=["0.1"], recipients=[FRIEND.lower()])
    assert view.status.in_force and view.status.sha256
    path = companion.home / "policies.json"
    document = json.loads(path.read_text())
    assert document["all"]["recipients"] == [FRIEND]  # checksummed, indented JSON people can read
    attested = [e for e in companion.audit_entries() if e.kind == "policy_attested"]
    assert attested[-1].data["sha256"] == view.status.sha256 and attested[-1].data["by"] == "set"
    assert ask(companion, ETH // 10) is not None
    assert refused_rule(companion) == "native_cap"


async def test_an_edited_but_unattested_file_refuses_everything_until_attested(companion):
    companion.set_policy(None, max_native_per_day=["0.1"])
    path = companion.home / "policies.json"
    looser = json.loads(path.read_text())
    looser["all"]["max_native_per_day"][0]["per_day"] = "1000"
    path.write_text(json.dumps(looser, indent=2))
    view = companion.policy()
    assert not view.status.in_force and "changed since it was attested" in view.status.problem
    assert "walletsync policy attest" in view.status.problem
    assert refused_rule(companion, 1) == "policy_unattested"  # even what both versions allow
    refusal = [e for e in companion.audit_entries() if e.kind == "request_refused_by_policy"][-1]
    assert refusal.data["rule"] == "policy_unattested" and refusal.session == TOPIC
    with pytest.raises(PolicyUnattested):
        companion.set_policy(None, max_requests_per_hour=5)  # set never builds on an unattested file
    assert companion.attest_policy().status.in_force
    assert ask(companion, 500 * ETH) is not None


async def test_an_older_attested_copy_put_back_is_refused_too(companion):
    companion.set_policy(None, max_native_per_day=["1000"])
    path = companion.home / "policies.json"
    older = path.read_bytes()
    companion.set_policy(None, max_native_per_day=["0.1"])
    path.write_bytes(older)
    assert refused_rule(companion) == "policy_unattested"


async def test_a_deleted_attested_file_refuses_until_its_absence_is_attested(companion):
    companion.set_policy(None, max_native_per_day=["0.1"])
    (companion.home / "policies.json").unlink()
    assert "is gone" in companion.policy().status.problem
    assert refused_rule(companion) == "policy_unattested"
    view = companion.attest_policy()
    assert view.status.in_force and view.all is None and view.status.sha256 is None
    assert ask(companion, 500 * ETH) is None  # no policy: let through, nothing to count


async def test_a_file_that_says_nothing_enforceable_cannot_be_attested(companion):
    (companion.home / "policies.json").write_text('{"format": 1, "all": {"max_native_perday": []}}')
    assert (
        "never attested" in companion.policy().status.problem or "cannot be read" in companion.policy().status.problem
    )
    with pytest.raises(PolicyFileError, match="unknown field"):
        companion.attest_policy()
    assert refused_rule(companion) == "policy_unattested"
    assert companion.clear_policy().status.in_force  # clearing every policy is always possible: start over
    assert ask(companion) is None


async def test_an_attestation_row_not_signed_by_this_device_refuses(companion):
    companion.set_policy(None, max_native_per_day=["0.1"])
    looser = (companion.home / "policies.json").read_text().replace('"0.1"', '"1000"')
    (companion.home / "policies.json").write_text(looser)
    import hashlib

    digest = hashlib.sha256(looser.encode()).hexdigest()
    with sqlite3.connect(companion.home / "walletsync.db") as db:  # someone rewrites the row to name the new file
        seq, data = db.execute("SELECT seq, data FROM audit WHERE kind = 'policy_attested'").fetchall()[-1]
        db.execute("UPDATE audit SET data = ? WHERE seq = ?", (json.dumps({**json.loads(data), "sha256": digest}), seq))
    companion.policies.file._verified = None
    assert "not signed by this device" in companion.policy().status.problem
    assert refused_rule(companion) == "policy_unattested"


async def test_no_file_and_never_attested_means_no_policies(companion):
    view = companion.policy()
    assert view.status.in_force and view.all is None
    assert ask(companion, 500 * ETH) is None  # let through; nothing recorded, no transaction on the request path


async def test_a_full_budget_table_refuses_under_a_policy_and_records_nothing_without_one(companion, monkeypatch):
    monkeypatch.setattr("walletsync.service.policies.MAX_USES", 2)
    others = Policies(None, {"ab" * 32: Policy(max_requests_per_hour=100)})  # a policy, not this session's
    (companion.home / "policies.json").write_text(others.to_text())
    companion.attest_policy()
    assert ask(companion) is not None and ask(companion) is not None
    assert ask(companion) is None  # no policy applies to it: let through, not recorded
    companion.set_policy(None, max_requests_per_hour=100)
    assert refused_rule(companion) == "rate_limit"


async def test_the_preview_gets_the_policy_warnings(companion):
    from tests.policy.conftest import STRANGER

    with companion.db.transaction():
        companion.db.save_session(SESSION, name="laptop", now=0)
    companion.set_policy(None, max_native_per_day=["0.1"], recipients=[FRIEND])
    preview = companion.preview("laptop", tx=json.dumps({"to": STRANGER, "value": hex(ETH)}))
    assert preview.decoded is not None
    assert [w.code for w in preview.decoded.warnings] == ["recipient_not_allowed", "over_cap"]
    assert preview.decoded.to_json()["warnings"][1]["message"].startswith("sending 1 ETH on Ethereum (eip155:1)")
    assert preview.refusal is not None and preview.refusal.rule in ("native_cap", "recipient_not_allowed")
