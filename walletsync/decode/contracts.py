"""The protocol contracts decoding knows by address: a call to one of them (or to a token the registry knows) is
no ``unknown_contract``.

Few and well known on purpose: each address here is one a summary names, so each must be right. Permit2 and
Multicall3 have the same address on every chain (deployed with a deterministic deployer); the others are
listed per chain from their projects' deployment pages (Uniswap's v3-periphery ``deploys.md`` and v2 docs,
the chains' own docs for their wrapped native currency).
"""

from __future__ import annotations

from walletsync import eth

PERMIT2 = eth.checksum_address("0x000000000022d473030f116ddee9f6b43ac78ba3")
MULTICALL3 = eth.checksum_address("0xca11bde05977b3631167028862be2a173976ca11")

_EVERYWHERE = {PERMIT2: "Permit2", MULTICALL3: "Multicall3"}

_UNISWAP_V3 = {
    "0xe592427a0aece92de3edee1f18e0157c05861564": "Uniswap V3 SwapRouter",
    "0x68b3465833fb72a70ecdf485e0e4c7bd8665fc45": "Uniswap SwapRouter02",
    "0xc36442b4a4522e871399cd717abdd847ab11fe88": "Uniswap V3 Positions NFT",
}
"""Deployed at the same addresses on Ethereum, Optimism, Polygon and Arbitrum (and on no other chain here)."""

_WRAPPED_NATIVE = {
    "eip155:1": ("0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2", "WETH"),
    "eip155:10": ("0x4200000000000000000000000000000000000006", "WETH"),
    "eip155:8453": ("0x4200000000000000000000000000000000000006", "WETH"),
    "eip155:42161": ("0x82af49447d8a07e3bd95bd0d56f35241523fbab1", "WETH"),
    "eip155:137": ("0x0d500b1d8e8ef31e21c99d1db9a6444d3adf1270", "WPOL"),
}
"""The chain's wrapped native currency (WETH9 and its copies: ``deposit()``/``withdraw(uint256)``, 18 decimals)."""

_PER_CHAIN: dict[str, dict[str, str]] = {
    chain: {eth.checksum_address(address): name for address, name in _UNISWAP_V3.items()}
    for chain in ("eip155:1", "eip155:10", "eip155:137", "eip155:42161")
}
_PER_CHAIN["eip155:1"][eth.checksum_address("0x7a250d5630b4cf539739df2c5dacb4c659f2488d")] = "Uniswap V2 Router02"

_UNIVERSAL_ROUTERS = {
    "eip155:1": (
        "0x3fc91a3afd70395cd496c647d5a6cc9d4b2b7fad",
        "0x66a9893cc07d91d95644aedd05d03f95e1dba8af",
        "0x4c82d1fbfe28c977cbb58d8c7ff8fcf9f70a2cca",
    ),
    "eip155:10": (
        "0xcb1355ff08ab38bbce60111f1bb2b784be25d7e8",
        "0x851116d9223fabed8e56c0e6b8ad0c31d98b3507",
        "0x8b844f885672f333bc0042cb669255f93a4c1e6b",
    ),
    "eip155:137": (
        "0xec7be89e9d109e7e3fec59c222cf297125fefda2",
        "0x1095692a6237d83c6a72f3f5efedb9a670c49223",
        "0x8b844f885672f333bc0042cb669255f93a4c1e6b",
    ),
    "eip155:42161": (
        "0x5e325eda8064b456f4781070c0738d849c824258",
        "0xa51afafe0263b40edaef0df8781ea9aa03e381a3",
        "0x8b844f885672f333bc0042cb669255f93a4c1e6b",
    ),
    "eip155:8453": (
        "0x3fc91a3afd70395cd496c647d5a6cc9d4b2b7fad",
        "0x6ff5693b99212da76ad316178a184ab56d299b43",
        "0xfdf682f51fe81aa4898f0ae2163d8a55c127fbc7",
    ),
}
"""Uniswap's Universal Routers 1.2, 2.0 and 2.1.1 per chain, from Uniswap/universal-router's
``deploy-addresses/<chain>.json`` (commit fb25ff09c71d, 2026-08-13)."""
for _chain, _routers in _UNIVERSAL_ROUTERS.items():
    for _router in _routers:
        _PER_CHAIN.setdefault(_chain, {})[eth.checksum_address(_router)] = "Uniswap Universal Router"
for _chain, (_address, _symbol) in _WRAPPED_NATIVE.items():
    _PER_CHAIN.setdefault(_chain, {})[eth.checksum_address(_address)] = _symbol


def wrapped_native(chain_id: str) -> tuple[str, str] | None:
    """``(checksummed address, symbol)`` of the chain's WETH-like contract, or None if none is known."""
    known = _WRAPPED_NATIVE.get(chain_id)
    return None if known is None else (eth.checksum_address(known[0]), known[1])


def contract_name(chain_id: str, address: str) -> str | None:
    """The name of the protocol contract at ``address`` (checksummed) on the chain, or None."""
    return _EVERYWHERE.get(address) or _PER_CHAIN.get(chain_id, {}).get(address)
