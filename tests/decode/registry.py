"""A small registry for the decoding tests: two chains and a few mainnet tokens (the real one is h/chains')."""

from __future__ import annotations

from eth_abi import encode

from walletsync.chains.model import Chain, Token
from walletsync.decode.abi import selector

USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
DAI = "0x6B175474E89094C44Da98b954EedeAC495271d0F"
USDT = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
PERMIT2 = "0x000000000022D473030F116dDEE9F6B43aC78BA3"
MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"
ROUTER = "0x68b3465833fb72A70ecDF485E0e4C7bD8665Fc45"
"""Uniswap's SwapRouter02."""
ME = "0x1111111111111111111111111111111111111111"
BOB = "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"
NFT = "0xBC4CA0EdA7647A8aB7C2061c2E118A18a936f13D"
"""An NFT collection the registry does not list (it lists ERC-20 tokens only)."""
STRANGER = "0x9999999999999999999999999999999999999999"
MAX = 2**256 - 1
NOW = 1_750_000_000
"""2025-06-15 15:06 UTC."""

TOKENS = {
    USDC.lower(): Token("eip155:1", USDC, "USDC", 6, "USD Coin"),
    DAI.lower(): Token("eip155:1", DAI, "DAI", 18, "Dai Stablecoin"),
    USDT.lower(): Token("eip155:1", USDT, "USDT", 6, "Tether USD"),
}


class SmallRegistry:
    """Ethereum and Polygon, and USDC, DAI and USDT on Ethereum."""

    def chain(self, chain_id: str) -> Chain | None:
        return {
            "eip155:1": Chain("eip155:1", "Ethereum", "ETH"),
            "eip155:137": Chain("eip155:137", "Polygon", "POL"),
        }.get(chain_id)

    def token(self, chain_id: str, address: str) -> Token | None:
        return TOKENS.get(address.lower()) if chain_id == "eip155:1" else None

    def token_by_symbol(self, chain_id: str, symbol: str) -> Token | None:
        return next((t for t in TOKENS.values() if t.symbol.lower() == symbol.lower()), None)


def calldata(signature: str, *args: object) -> bytes:
    """``signature``'s selector and its arguments, ABI-encoded by eth-abi."""
    types = _types(signature)
    return bytes.fromhex(selector(signature)[2:]) + encode(types, list(args))


def hexdata(signature: str, *args: object) -> str:
    return "0x" + calldata(signature, *args).hex()


def _types(signature: str) -> list[str]:
    """The top-level parameter types of ``name(t1,(t2,t3),t4[])``."""
    inside = signature[signature.index("(") + 1 : -1]
    types, depth, current = [], 0, ""
    for ch in inside:
        if ch == "," and depth == 0:
            types.append(current)
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    return [*types, current] if current else types
