"""One request by its key: the answer to a request is checked against that request, whatever the history."""

from __future__ import annotations

from walletsync.protocol.state import PendingRequest
from walletsync.store.db import Database

KEY = bytes(range(32))
NOW = 1_800_000_000
TOPICS = ("ab" * 32, "cd" * 32)


def test_a_request_by_its_key_is_the_one_the_history_lists(tmp_path):
    """The lookup an answer uses finds its request among many, on the right session, with its answer once stored;
    pings and unknown ids are not requests."""
    db = Database(tmp_path / "w.db", KEY)
    with db.transaction():
        for topic in TOPICS:
            for request_id in range(1, 51):
                params = ["0x" + f"{topic[:2]} {request_id}".encode().hex()]
                db.save_request(
                    PendingRequest(
                        topic,
                        request_id,
                        "wc_sessionRequest",
                        "outgoing",
                        NOW + 300,
                        "personal_sign",
                        params,
                        "eip155:1",
                    ),
                    now=NOW,
                )
        db.save_request(PendingRequest(TOPICS[0], 99, "wc_sessionPing", "outgoing", NOW + 30), now=NOW)
        db.finish_request(TOPICS[1], 7, status="answered", now=NOW + 1, result="0x01", verdict={"verified": True})
    for topic in TOPICS:
        listed = {r.id: r for r in db.requests(topic)}
        for request_id in (1, 7, 50):
            assert db.request(topic, request_id) == listed[request_id]
    answered = db.request(TOPICS[1], 7)
    assert answered is not None and (answered.status, answered.result, answered.verdict) == (
        "answered",
        "0x01",
        {"verified": True},
    )
    assert db.request(TOPICS[0], 7) is not None and db.request(TOPICS[0], 7).status == "pending"
    assert db.request(TOPICS[0], 99) is None  # a ping is no signing request
    assert db.request(TOPICS[0], 51) is None
    db.close()
