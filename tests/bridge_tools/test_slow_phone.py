"""A phone slower than the tool's timeout: forge resends, and the phone is still asked once per transaction.

forge 1.7.1 broadcasts through a provider of its own whose requests time out after 45 s whatever ``--rpc-timeout``
says, and then sends the same ``eth_sendTransaction`` again (up to 3 more times, 1, 2 and 3 s apart). The
endpoint must take the resend for the request it is still holding, not a new one: one prompt, one transaction,
and the resend gets its hash. This test waits for forge's first timeout, so it takes about 50 s.

The phone here is the reference phone's own code (``PhoneWallet``) in this process, with the test's key and anvil to
broadcast to, whose every answer waits until the test releases it; a small TCP relay between forge and the
endpoint counts the sends forge makes, so the test lets the phone answer only once the resend is on its way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from tests.bridge_tools.chain import mined, nonce
from tests.bridge_tools.conftest import ACCOUNT
from tests.bridge_tools.endpoint import RpcEndpoint
from tests.tools import Ran
from walletsync.commands.phone import TEST_KEY
from walletsync.service import Companion, Config
from walletsync.signer import Signer
from walletsync.wallet import PhoneWallet

SEND = b'"eth_sendTransaction"'


class HeldPhone:
    """Approves every request, each only once ``release`` is set; ``asked`` counts the prompts."""

    def __init__(self) -> None:
        self.asked = 0
        self.release = asyncio.Event()

    async def ask(self, question: str) -> bool:
        self.asked += 1
        await self.release.wait()
        return True


class Witness:
    """A TCP relay on loopback in front of ``target``; counts the ``eth_sendTransaction`` requests through it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.sends = 0
        self.changed = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        # the endpoint serves a Host naming its own port only: the client's names this relay's
        assert self.server is not None
        own = f"127.0.0.1:{self.server.sockets[0].getsockname()[1]}".encode()
        target = f"127.0.0.1:{self.target_port}".encode()

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, count: bool) -> None:
            tail = b""  # the end of the last chunk, too short to hold the method: a name split across two counts once
            try:
                while data := await source.read(65536):
                    if count and (found := (tail + data).count(SEND)):
                        self.sends += found
                        self.changed.set()
                    tail = (tail + data)[-(len(SEND) - 1) :]
                    sink.write(data.replace(own, target) if count else data)
                    await sink.drain()
            except ConnectionError:
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))

    async def sent(self, count: int, tool: asyncio.Task[Ran], timeout: float) -> None:
        """Wait until ``count`` sends went through; the tool ending first fails the test with its output."""

        async def counted() -> None:
            while self.sends < count:
                self.changed.clear()
                await self.changed.wait()

        waiting = asyncio.create_task(counted())
        done, _ = await asyncio.wait({waiting, tool}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        assert waiting in done, (
            f"{self.sends} of {count} sends within {timeout:g} s; the tool: {tool.done() and tool.result()}"
        )

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


@contextlib.asynccontextmanager
async def held_endpoint(relay_url: str, anvil_url: str, tmp_path) -> AsyncIterator[tuple[RpcEndpoint, HeldPhone]]:
    """``walletsync rpc`` on a data dir paired with a HeldPhone (signing with the test key, broadcasting to anvil)."""
    home = tmp_path / "home"
    held = HeldPhone()
    phone = PhoneWallet.on_relay(
        relay_url,
        Signer.from_key(TEST_KEY, rpc_url=anvil_url),
        report=lambda event: None,
        ask=held.ask,
        on_proposal="approve",
    )
    await phone.runner.start()
    running = asyncio.create_task(phone.run_until_done())
    try:
        companion = await Companion.open(Config(data_dir=str(home), relay=relay_url))
        try:
            await companion.start()
            offer = await companion.pair(name="phone")
            await phone.pair(offer.uri)
            session = await companion.wait_for_session(offer.proposal_id, 30)
        finally:
            await companion.close()
        endpoint = RpcEndpoint(home, relay_url, session.name, anvil_url, tmp_path).start()
        try:
            yield endpoint, held
        finally:
            endpoint.stop()
    finally:
        phone.stop()
        held.release.set()
        await running
        await phone.runner.close()


async def test_forge_resends_after_its_45_s_timeout_and_the_phone_is_asked_once(start_relay, anvil, foundry, tmp_path):
    relay = start_relay("memory")
    async with held_endpoint(relay.url, anvil.url, tmp_path) as (endpoint, phone):
        witness = Witness(int(endpoint.url.rsplit(":", 1)[1]))
        url = await witness.start()
        first = nonce(anvil, ACCOUNT)
        script = ["script", "Deploy", "--broadcast", "--unlocked", "--sender", ACCOUNT, "--rpc-url", url, "--slow"]
        forge = asyncio.create_task(foundry.forge(*script, "--rpc-timeout", "300", timeout=170))
        try:
            await witness.sent(1, forge, timeout=60)
            await witness.sent(2, forge, timeout=80)  # forge gave up on the first after 45 s and sent it again
            assert phone.asked == 1
            phone.release.set()
            ran = (await forge).ok()
        finally:
            forge.cancel()  # done already, unless the test failed
            witness.close()
        assert phone.asked == 3, ran.stdout  # one per transaction, none for the resend
        record = foundry.broadcast_record("Deploy.s.sol", anvil.chain_id)
        chain = sorted((mined(anvil, t["hash"]) for t in record["transactions"]), key=lambda m: int(m[0]["nonce"], 16))
        assert [int(tx["nonce"], 16) for tx, _ in chain] == [first, first + 1, first + 2]
        assert [receipt["status"] for _, receipt in chain] == ["0x1"] * 3
        assert nonce(anvil, ACCOUNT) == first + 3
