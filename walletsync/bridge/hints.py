"""How to point each tool at a served endpoint, with the timeouts a phone needs: shown by ``walletsync rpc`` and the app.

Its own module, with no imports, so that the command can say it without loading the bridge.
"""

HINTS = """Point your tools at it (the phone may take a minute: raise their timeouts):
  cast send --unlocked --from {account} TO --value 1wei --rpc-url {url} --rpc-timeout 300
  forge script Deploy --broadcast --unlocked --sender {account} --rpc-url {url} --rpc-timeout 300 --timeout 300
  web3.py  Web3(HTTPProvider("{url}", request_kwargs={{"timeout": 300}}))
  ethers   new JsonRpcProvider(request) with request = new FetchRequest("{url}"); request.timeout = 300_000
  Hardhat  networks: {{ phone: {{ url: "{url}", timeout: 300_000 }} }}"""


def hints(url: str, accounts: list[str]) -> str:
    """:data:`HINTS` for the endpoint at ``url`` (the session's first account as the sender)."""
    return HINTS.format(url=url, account=accounts[0] if accounts else "0xYOU")
