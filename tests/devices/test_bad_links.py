"""Links that cannot be used: malformed, expired, in use by another device, already used. Each is refused with a
typed error; the member audits what it saw."""

from __future__ import annotations

import asyncio
import os
import re
import time

import pytest

from tests.devices.conftest import Device, link
from tests.procs import REPO, JsonLinesProcess


def _kinds(device: Device) -> list[str]:
    return [row["kind"] for row in device.json("audit")]


async def _join_on_a_terminal(device: Device, uri: str) -> tuple[JsonLinesProcess, int]:
    """``devices join --json`` on a terminal (a pty): the user pastes ``uri``; the code question waits for the test to
    answer on the returned terminal fd."""
    terminal, other_end = os.openpty()
    log_path = device.logs / "join-on-terminal.log"
    env = {k: v for k, v in os.environ.items() if k != "WALLETSYNC_LINK"}
    proc = await asyncio.create_subprocess_exec(
        *device.base,
        "devices",
        "join",
        "--json",
        "--name",
        device.label,
        stdin=other_end,
        stdout=asyncio.subprocess.PIPE,
        stderr=open(log_path, "w"),
        cwd=REPO,
        env=env,
        start_new_session=True,
    )
    os.close(other_end)
    os.write(terminal, f"{uri}\n".encode())
    return JsonLinesProcess(proc, log_path), terminal


@pytest.mark.timeout(180)
async def test_malformed_and_expired_links_are_refused_and_leave_the_link_usable(make_devices):
    a, b = make_devices(2)
    showing = await a.spawn("devices", "link", "--json", "--yes")
    try:
        uri = (await showing.expect("link"))["uri"]

        malformed = re.sub(r"secret=[^&]+", "secret=not-a-secret", uri)
        code, printed, _ = await b.feed("devices", "join", "--json", "--yes", stdin=malformed + "\n")
        assert code != 0 and printed[0]["error"]["code"] == "link_malformed"
        assert "secret" in printed[0]["error"]["message"] and "not-a-secret" not in printed[0]["error"]["message"]

        expired = re.sub(
            r"expires=\d+", f"expires={int(time.time()) - 60}", uri
        )  # the secret kept: it is checked first
        code, printed, _ = await b.feed(
            "devices", "join", "--json", "--yes", "--relay", a.relay_url, stdin=expired + "\n"
        )
        assert code != 0 and printed[0]["error"]["code"] == "link_expired"
        assert "expired" in printed[0]["error"]["message"]

        # neither reached the member, whose link still works
        code, joined, err = await b.feed("devices", "join", "--json", "--yes", "--name", "b", stdin=uri + "\n")
        assert code == 0, (joined, err)
        assert await showing.exit_code() == 0
    finally:
        await showing.close()
    assert showing.events[-1]["event"] == "linked"
    kinds = _kinds(a)
    assert kinds.count("device_linked") == 1 and not {"link_ended", "link_message_refused"} & set(kinds)


@pytest.mark.timeout(180)
async def test_a_second_device_on_a_link_in_use_is_refused_and_the_member_audits_it(make_devices):
    a, b, c = make_devices(3)
    showing = await a.spawn("devices", "link", "--json", "--yes")
    joining, terminal = None, None
    try:
        uri = (await showing.expect("link"))["uri"]
        joining, terminal = await _join_on_a_terminal(b, uri)
        code_b = (await joining.expect("code"))["code"]  # B's user is comparing the codes
        assert (await showing.expect("code"))["code"] == code_b

        code, printed, _ = await c.feed(
            "devices", "join", "--json", "--yes", "--name", "c", stdin=uri + "\n", timeout=30
        )
        assert code != 0 and printed[-1]["error"]["code"] == "link_in_use"
        assert "another device" in printed[-1]["error"]["message"]

        os.write(terminal, b"y\n")  # B's user: the codes match
        assert (await joining.expect("joined"))["devices"]
        assert await joining.exit_code() == 0
        assert await showing.exit_code() == 0
    finally:
        for proc in (joining, showing):
            if proc is not None:
                await proc.close()
        if terminal is not None:
            os.close(terminal)
    assert showing.events[-1]["device"]["name"] == "b"

    c_id = c.me()["id"]
    refused = [row for row in a.json("audit") if row["kind"] == "link_second_device_refused"]
    assert [(r["data"]["device"], r["data"]["name"]) for r in refused] == [(c_id, "c")]
    assert [d["id"] for d in a.json("devices")] == [a.me()["id"], b.me()["id"]]  # C is not a member
    assert "link_ended" in _kinds(c)  # C's own audit says why it did not join
    assert len(c.json("devices")) == 1


@pytest.mark.timeout(180)
async def test_a_link_already_used_is_refused_at_once(make_devices):
    """The link did its one job; a device that tries it later is told so, not left waiting for the expiry."""
    a, b, c = make_devices(3)
    shown, _ = await link(a, b)
    used = shown[0]["uri"]
    code, printed, _ = await c.feed("devices", "join", "--json", "--yes", stdin=used + "\n", timeout=30)
    assert code != 0 and printed[-1]["error"]["code"] == "link_in_use"
    assert len(c.json("devices")) == 1
    assert [d["id"] for d in a.json("devices")] == [a.me()["id"], b.me()["id"]]
