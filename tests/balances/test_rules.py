"""The balance rules without a node: the row's JSON contract, reading RPC replies, and the status decision
(Hypothesis: never ``ok`` without a figure, never a zero that is an error, disagree only at one block)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from walletsync.balances.model import NATIVE, STATUSES, Asset, Holder, Row
from walletsync.balances.rpc import MAX_BATCH, BadReply, Call, Head, figure_batches, read_figures, read_head
from walletsync.balances.status import STALE_AFTER, Figures, Plan, aged, decide, plan

NOW = 1_700_000_000
ALICE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
BOB = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ETH = Asset("eip155:1", NATIVE, "ETH", 18)
TST = Asset("eip155:1", TOKEN, "TST", 6)
A, B, C = "http://a.example", "http://b.example", "http://c.example"


def call(asset: Asset = ETH, holder: str = ALICE, label: str | None = "phone") -> Call:
    return Call(Holder(holder, label), asset)


def test_a_row_is_the_contract():
    row = Row(ALICE, "phone", TST, 1_500_000, A, 7, NOW - 3, 3, "ok")
    doc = row.to_json()
    assert list(doc)[:12] == [
        "account", "label", "chain", "asset", "symbol", "amount", "decimals", "display", "rpc", "block", "age_s",
        "status",
    ]  # fmt: skip
    assert doc["amount"] == "1500000" and doc["display"] == "1.5" and doc["asset"] == TOKEN
    assert doc["fallback_from"] == [] and doc["other"] is None and doc["cached"] is False


def test_a_huge_amount_stays_exact():
    row = Row(ALICE, None, ETH, 2**256 - 1, A, 1, NOW, 0, "ok")
    assert row.to_json()["amount"] == str(2**256 - 1)
    assert row.to_json()["display"] == "115792089237316195423570985008687907853269984665640564039457.584007913129639935"


def test_the_head_is_read_strictly():
    assert read_head({"jsonrpc": "2.0", "id": 1, "result": {"number": "0x10", "timestamp": "0x5"}}) == Head(16, 5)
    for bad in (
        {"id": 1, "error": {"code": -32000, "message": "nope"}},
        {"id": 1, "result": None},
        {"id": 1, "result": {"number": "16", "timestamp": "0x5"}},
        {"id": 1, "result": {"number": "0x" + "f" * 65, "timestamp": "0x5"}},
        [],
    ):
        try:
            read_head(bad)
        except BadReply:
            continue
        raise AssertionError(f"accepted {bad}")


def test_batches_are_bounded_and_answers_matched_by_id():
    calls = [call(ETH if i % 2 else TST, holder=f"0x{i:040x}") for i in range(MAX_BATCH + 3)]
    batches = figure_batches(calls, 9)
    assert [len(b) for b in batches] == [MAX_BATCH, 3]
    assert batches[0][0]["method"] == "eth_call" and batches[0][0]["params"][1] == "0x9"
    assert batches[0][0]["params"][0]["data"] == "0x70a08231" + "0" * 64
    assert batches[0][1] == {"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": [f"0x{1:040x}", "0x9"]}
    last = batches[1]
    reply = [
        {"jsonrpc": "2.0", "id": last[2]["id"], "result": "0x" + "0" * 64},  # out of order, and one left out
        {"jsonrpc": "2.0", "id": last[0]["id"], "result": "0x" + "0" * 63 + "5"},
        {"jsonrpc": "2.0", "id": 10_000, "result": "0x1"},  # an id never asked
    ]
    got = read_figures(last, calls, reply)
    assert got[last[0]["id"]] == 5 and got[last[2]["id"]] == 0
    assert isinstance(got[last[1]["id"]], str)  # not answered: an error, never a zero


def test_no_contract_is_no_zero():
    batch = figure_batches([call(TST)], 1)[0]
    assert isinstance(read_figures(batch, [call(TST)], [{"id": 0, "result": "0x"}])[0], str)
    assert isinstance(read_figures(batch, [call(TST)], [{"id": 0, "result": "0x01"}])[0], str)


def test_a_refused_batch_is_a_bad_reply():
    batch = figure_batches([call()], 1)[0]
    for reply in ({"id": None, "error": {"message": "batch too large"}}, "nope", None):
        try:
            read_figures(batch, [call()], reply)
        except BadReply:
            continue
        raise AssertionError(reply)


def test_the_plan_reads_at_the_lower_head_of_two_fresh_rpcs():
    p = plan([(A, "refused"), (B, Head(10, NOW - 2)), (C, Head(8, NOW - 30))], NOW)
    assert (p.used, p.check, p.block, p.block_time, p.fallback_from) == (B, C, 8, NOW - 30, (A,))


def test_a_stuck_second_rpc_is_no_check():
    p = plan([(A, Head(10, NOW - 2)), (B, Head(3, NOW - STALE_AFTER - 1))], NOW)
    assert (p.used, p.check, p.block) == (A, None, 10)


def test_fallback_disagree_stale_and_zero():
    p = plan([(A, "timed out"), (B, Head(5, NOW - 1)), (C, Head(5, NOW - 1))], NOW)
    calls = [call(ETH), call(TST), call(ETH, BOB)]
    used = Figures(B, 5, {calls[0].key: 10, calls[1].key: 7, calls[2].key: 0})
    check = Figures(C, 5, {calls[0].key: 10, calls[1].key: 9, calls[2].key: 0})
    eth, tst, bob = decide(calls, p, used, check, NOW)
    assert (eth.status, eth.amount, eth.rpc, eth.fallback_from) == ("unreachable", 10, B, (A,))
    assert (tst.status, tst.amount, tst.other and tst.other.amount) == ("disagree", 7, 9)
    assert (bob.status, bob.amount) == ("unreachable", 0)  # fell back, and 0 is a real figure
    later = aged(eth, NOW + STALE_AFTER + 5)
    assert later.status == "stale" and later.age_s == STALE_AFTER + 6


def test_a_failed_call_falls_to_the_check_rpc():
    p = plan([(A, Head(5, NOW)), (B, Head(6, NOW))], NOW)
    c = call(TST)
    row = decide([c], p, Figures(A, 5, {c.key: "execution reverted"}), Figures(B, 5, {c.key: 4}), NOW)[0]
    assert (row.status, row.amount, row.rpc, row.fallback_from) == ("unreachable", 4, B, (A,))


def test_a_figure_says_whether_a_second_rpc_agreed_or_could_not_be_asked():
    p = plan([(A, Head(5, NOW)), (B, Head(5, NOW))], NOW)
    agreed, failed = call(ETH), call(TST)
    used = Figures(A, 5, {agreed.key: 3, failed.key: 4})
    rows = decide([agreed, failed], p, used, Figures(B, 5, {agreed.key: 3, failed.key: "execution reverted"}), NOW)
    assert [(r.status, r.checked) for r in rows] == [("ok", "agreed"), ("ok", "failed")]
    assert rows[1].note() == "not cross-checked (the second RPC failed)" and rows[1].to_json()["checked"] == "failed"
    alone = decide([agreed], plan([(A, Head(5, NOW))], NOW), used, None, NOW)[0]
    assert alone.checked is None and alone.note() == ""


def test_nothing_answered():
    p = plan([(A, "refused"), (B, "timed out")], NOW)
    row = decide([call()], p, None, None, NOW)[0]
    assert (row.status, row.amount, row.rpc, row.fallback_from) == ("unreachable", None, None, (A, B))
    assert row.error and "refused" in row.error and row.to_json()["display"] is None


# --- the decision under Hypothesis ------------------------------------------------------------------------------

RPCS = st.sampled_from([A, B, C])
HEADS = st.one_of(
    st.sampled_from(["refused", "timed out"]),
    st.builds(Head, st.integers(0, 20), st.integers(NOW - 2 * STALE_AFTER, NOW + 5)),
)
AMOUNTS = st.one_of(st.integers(0, 3), st.sampled_from(["execution reverted", "not answered"]))
CALLS = [call(ETH), call(TST), call(ETH, BOB)]


@st.composite
def readings(draw):
    heads = draw(st.lists(st.tuples(RPCS, HEADS), min_size=0, max_size=3, unique_by=lambda h: h[0]))
    p = plan(heads, NOW)

    def figures(rpc: str | None) -> Figures | None:
        if rpc is None or not draw(st.booleans()):
            return None
        block = p.block if draw(st.integers(0, 4)) else p.block + 1  # now and then another block
        return Figures(rpc, block, {c.key: draw(AMOUNTS) for c in CALLS})

    return p, figures(p.used), figures(p.check)


@given(readings())
def test_the_decision_is_honest(reading):
    p, used, check = reading
    rows = decide(CALLS, p, used, check, NOW)
    assert len(rows) == len(CALLS)
    for c, row in zip(CALLS, rows):
        assert row.status in STATUSES
        if row.amount is None:
            assert row.status == "unreachable" and row.error and row.rpc is None and row.block is None
            continue
        assert row.status != "ok" or (not row.fallback_from and row.other is None)
        assert row.block == p.block and row.rpc in (p.used, p.check)
        source = used if row.rpc == p.used else check
        assert source is not None and source.block == p.block and source.amounts[c.key] == row.amount
        if row.status == "disagree":
            assert check is not None and used is not None and check.block == used.block == p.block
            assert row.other is not None and row.other.amount != row.amount
            assert check.amounts[c.key] == row.other.amount
        if row.status == "ok":
            assert NOW - p.block_time <= STALE_AFTER
        if row.status == "unreachable":
            assert row.fallback_from
        if row.checked == "agreed":
            assert check is not None and check.amounts[c.key] == row.amount and row.rpc != p.check
        if row.checked is not None:
            assert p.check is not None and row.other is None


@given(readings(), st.integers(0, 3 * STALE_AFTER))
def test_a_row_only_ages(reading, later):
    p, used, check = reading
    for row in decide(CALLS, p, used, check, NOW):
        old = aged(row, NOW + later)
        assert old.amount == row.amount and old.other == row.other
        assert old.status == row.status or old.status == "stale"
        if old.status == "ok":
            assert row.status == "ok"


def test_an_empty_plan_is_harmless():
    assert decide([], Plan(None, None, 0, 0, (), {}), None, None, NOW) == []
