"""The floor under ``walletsync sessions``: what the command has to do, written with the bare libraries alone.

Run by bench/client.py next to the real command (``floor.py RELAY_URL DATA_DIR``), never on its own. It
imports the libraries walletsync's start needs (asyncio, sqlite3, websockets, secretstorage, PyNaCl,
cryptography), reads one secret from the Secret Service (as walletsync reads the device keys), reads the session
rows of the data dir's database, connects to the relay with a relay-auth JWT, subscribes to the sessions'
topics and fetches what the relay kept for them, then prints the sessions. No walletsync module is imported, no
engine state is built, nothing is checked or decrypted: whatever walletsync spends beyond this is its own.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sqlite3
import sys
import time
from contextlib import closing

import base58
import cryptography.hazmat.primitives.kdf.hkdf  # noqa: F401 - walletsync needs it at start; so does the floor
import secretstorage
from nacl.secret import SecretBox  # noqa: F401 - the sealed keys' box, as above
from nacl.signing import SigningKey
from websockets.asyncio.client import connect

SERVICE = {"service": "walletsync-bench-floor", "username": "floor"}


def store_secret() -> None:
    """``floor.py --store``: put the secret the floor reads into the Secret Service (once, before timing)."""
    with closing(secretstorage.dbus_init()) as bus:
        collection = secretstorage.get_default_collection(bus)
        collection.create_item("walletsync bench floor", SERVICE, os.urandom(96).hex().encode(), replace=True)


def read_secret() -> bytes:
    with closing(secretstorage.dbus_init()) as bus:
        collection = secretstorage.get_default_collection(bus)
        if collection.is_locked():
            collection.unlock()
        item = next(collection.search_items(SERVICE))
        return bytes.fromhex(item.get_secret().decode())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def auth_url(url: str, key: SigningKey) -> str:
    did = "did:key:z" + base58.b58encode(b"\xed\x01" + bytes(key.verify_key)).decode()
    now = int(time.time())
    claims = {"iss": did, "sub": os.urandom(32).hex(), "aud": url, "iat": now, "exp": now + 86400}
    signing_input = b64url(b'{"alg":"EdDSA","typ":"JWT"}') + "." + b64url(json.dumps(claims).encode())
    jwt = signing_input + "." + b64url(key.sign(signing_input.encode()).signature)
    return f"{url}?auth={jwt}"


async def main(url: str, data_dir: str) -> None:
    secret = read_secret()
    with closing(sqlite3.connect(os.path.join(data_dir, "walletsync.db"))) as db:
        rows = db.execute("SELECT topic, name, namespaces, expiry FROM sessions").fetchall()
    topics = [topic for topic, *_ in rows]
    async with connect(auth_url(url, SigningKey(secret[:32]))) as ws:
        requests = [
            {"id": 1, "jsonrpc": "2.0", "method": "irn_batchSubscribe", "params": {"topics": topics}},
            {"id": 2, "jsonrpc": "2.0", "method": "irn_batchFetchMessages", "params": {"topics": topics}},
        ]
        for request in requests:
            await ws.send(json.dumps(request))
        answered: set[int] = set()
        while answered != {1, 2}:
            frame = json.loads(await ws.recv())
            if frame.get("id") in (1, 2) and "method" not in frame:
                answered.add(frame["id"])
    for topic, name, namespaces, expiry in rows:
        chains = [c for n in json.loads(namespaces).values() for c in n.get("chains", [])]
        print(f"{name:<20} {topic[:12]} {','.join(chains):<20} {expiry}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--store"]:
        store_secret()
    else:
        asyncio.run(main(sys.argv[1], sys.argv[2]))
