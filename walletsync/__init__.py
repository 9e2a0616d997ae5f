"""walletsync: a terminal companion for your phone wallet, over WalletConnect v2."""

__version__ = "0.1.0"
