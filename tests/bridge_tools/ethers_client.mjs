// ethers v6 (pinned in tests/interop/package.json) as a dapp would use a local node with an unlocked account:
// `new JsonRpcProvider(url).getSigner(address)`, then one signer call; it prints one JSON line and exits.
//
//   node ethers_client.mjs URL ADDRESS sign-message TEXT
//   node ethers_client.mjs URL ADDRESS sign-typed-data
//   node ethers_client.mjs URL ADDRESS send-transaction TO WEI
//   node ethers_client.mjs URL ADDRESS next-block        ({"block": N}: the first block event it hears of)
//
// A result: {"signature", "signed", "recovered"} ("signed": the text, or the whole EIP-712 payload as sent;
// "recovered": by ethers' own verifyMessage / verifyTypedData), or
// {"hash", "nonce", "status", "blockNumber"} once the transaction is mined. A failure: {"error": {"code",
// "message"}} with ethers' error code (ACTION_REJECTED for a phone's rejection) and exit status 1.
// The provider batches its reads in JSON-RPC arrays, as ethers does by default; it polls every 100 ms, not 4 s.
// A ws:// URL gets ethers' WebSocketProvider instead, which waits for blocks through eth_subscribe.
import { createRequire } from "node:module";

const { JsonRpcProvider, TypedDataEncoder, WebSocketProvider, verifyMessage, verifyTypedData } = createRequire(
  new URL("../interop/package.json", import.meta.url),
)("ethers");

/** EIP-712's own example (a Mail between two people), on the node's chain. */
function mail(chainId) {
  const domain = {
    name: "Ether Mail",
    version: "1",
    chainId,
    verifyingContract: "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
  };
  const types = {
    Person: [
      { name: "name", type: "string" },
      { name: "wallet", type: "address" },
    ],
    Mail: [
      { name: "from", type: "Person" },
      { name: "to", type: "Person" },
      { name: "contents", type: "string" },
    ],
  };
  const value = {
    from: { name: "Cow", wallet: "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
    to: { name: "Bob", wallet: "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" },
    contents: "Hello, Bob!",
  };
  return { domain, types, value };
}

async function run(url, address, command, args) {
  const provider = url.startsWith("ws")
    ? new WebSocketProvider(url) // blocks and receipts by eth_subscribe, not polling
    : new JsonRpcProvider(url, undefined, { pollingInterval: 100 });
  try {
    const signer = await provider.getSigner(address);
    if (command === "sign-message") {
      const signature = await signer.signMessage(args[0]);
      return { signature, signed: args[0], recovered: verifyMessage(args[0], signature) };
    }
    if (command === "sign-typed-data") {
      const { chainId } = await provider.getNetwork();
      const { domain, types, value } = mail(Number(chainId));
      const signature = await signer.signTypedData(domain, types, value);
      const signed = TypedDataEncoder.getPayload(domain, types, value);
      return { signature, signed, recovered: verifyTypedData(domain, types, value, signature) };
    }
    if (command === "next-block") {
      const block = await new Promise((resolve) => provider.once("block", resolve));
      return { block };
    }
    if (command === "send-transaction") {
      const sent = await signer.sendTransaction({ to: args[0], value: BigInt(args[1]) });
      const receipt = await sent.wait(1, 120_000);
      return { hash: sent.hash, nonce: sent.nonce, status: receipt.status, blockNumber: receipt.blockNumber };
    }
    throw new Error(`unknown command ${command}`);
  } finally {
    provider.destroy();
  }
}

const [url, address, command, ...args] = process.argv.slice(2);
try {
  console.log(JSON.stringify(await run(url, address, command, args)));
} catch (error) {
  console.log(JSON.stringify({ error: { code: error.code ?? null, message: error.shortMessage ?? error.message } }));
  process.exitCode = 1;
}
