"""Scenes of the balances screen: figures from several chains, one chain fallen back to its second RPC, one where two
RPCs disagree, one stale, one no RPC answered (one line for all its tokens), a label with markup shown as text."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.app.fakes import ADDRESS, NOW, FakeCompanion
from tests.app.scenes import Scene, sessions_shown, until_shown
from tests.app.scenes.sessions import three_sessions
from walletsync.app import build_app
from walletsync.balances.model import NATIVE, Asset, Other, Row

COLD = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
DAI = "0x6B175474E89094C44Da98b954EedeAC495271d0F"
POLYGON_1, POLYGON_2 = "https://polygon-rpc.com", "https://polygon-bor-rpc.publicnode.com"
BASE_1, BASE_2 = "https://mainnet.base.org", "https://base-rpc.publicnode.com"


def _row(account, label, chain, symbol, amount, status="ok", *, address=NATIVE, decimals=18, rpc, block, age,
         fallback=(), other=None, error=None, cached=False):  # fmt: skip
    asset = Asset(chain, address, symbol, decimals)
    block_time = None if block is None else NOW - age
    return Row(account, label, asset, amount, rpc, block, block_time, None if block is None else age, status,
               tuple(fallback), other, error, cached)  # fmt: skip


def fresh_rows() -> list[Row]:
    eth = "https://ethereum-rpc.publicnode.com"
    arbitrum_error = "https://arb1.arbitrum.io/rpc: no reply within 8 s; https://arbitrum-one.publicnode.com: HTTP 429"
    return [
        _row(ADDRESS, "phone", "eip155:1", "ETH", 1_234_500_000_000_000_000, rpc=eth, block=21_000_000, age=7),
        _row(ADDRESS, "phone", "eip155:1", "DAI", 0, address=DAI, rpc=eth, block=21_000_000, age=7),
        _row(
            ADDRESS,
            "phone",
            "eip155:1",
            "USDC",
            1_250_500_000,
            address=USDC,
            decimals=6,
            rpc=eth,
            block=21_000_000,
            age=7,
        ),  # fmt: skip
        _row(
            ADDRESS,
            "phone",
            "eip155:137",
            "POL",
            42 * 10**18,
            "unreachable",
            rpc=POLYGON_2,
            block=64_000_123,
            age=3,
            fallback=(POLYGON_1,),
        ),  # fmt: skip
        _row(
            COLD,
            "cold [b]wallet[/b]",
            "eip155:8453",
            "ETH",
            5 * 10**17,
            "disagree",
            rpc=BASE_1,
            block=22_500_000,
            age=2,
            other=Other(BASE_2, 4 * 10**17),
        ),  # fmt: skip
        _row(
            COLD,
            "cold [b]wallet[/b]",
            "eip155:10",
            "ETH",
            10**16,
            "stale",
            rpc="https://mainnet.optimism.io",
            block=128_000_000,
            age=9 * 60,
        ),  # fmt: skip
        *(
            _row(
                COLD,
                "cold [b]wallet[/b]",
                "eip155:42161",
                symbol,
                None,
                "unreachable",
                rpc=None,
                block=None,
                age=0,
                fallback=("https://arb1.arbitrum.io/rpc", "https://arbitrum-one.publicnode.com"),
                error=arbitrum_error,
            )  # fmt: skip
            for symbol in ("ETH", "ARB", "USDC", "USDT")
        ),
    ]


def with_balances() -> FakeCompanion:
    fake = three_sessions()
    fake.fresh = fresh_rows()
    return fake


async def balances_shown(pilot: Pilot) -> None:
    from walletsync.app.screens.balances import BalancesScreen

    await sessions_shown(pilot)
    await pilot.press("b")
    await until_shown(pilot, BalancesScreen, lambda screen: screen.fresh and not screen.reading)
    await pilot.press("down", "down", "down")  # the row where two RPCs disagree
    await pilot.pause()


SCENES = [
    Scene(
        "balances",
        'b on the session table: "Balances", a state line "Read now. 2 ok, 1 stale, 2 unreachable, 1 disagree, 1 fell '
        "back, 1 token balance of 0 hidden (z)\" and a table: phone's 1.2345 ETH and 1250.5 USDC on Ethereum (✓ ok, "
        '7s), its 42 POL on Polygon ✗ unreachable noting "fell back from polygon-rpc.com"; "cold [b]wallet[/b]" written '
        'as is (not bold), its 0.5 ETH on Base ≠ disagree (highlighted) noting "base-rpc.publicnode.com says 0.4", '
        '0.01 ETH on OP Mainnet ◷ stale (9m), and one line "ETH +3 tokens" on Arbitrum One, ✗ unreachable with the '
        "RPC's error; under the table the highlighted row in full (block #22500000, both RPC URLs); footer r Refresh, "
        "z Zeros, esc Back.",
        lambda: build_app(with_balances()),
        size=(160, 24),
        steps=balances_shown,
    ),
]
