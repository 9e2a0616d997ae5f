// The official WalletConnect SignClient as a scriptable test peer.
//
//   node peer.mjs --relay ws://127.0.0.1:PORT [--sdk current|legacy] [--name NAME] [--key HEX]
//                 [--auto-approve] [--auto-reject] [--auto-sign] [--storage DIR]
//                 [--rpc URL [--alter-gas N]]
//
// With --rpc, eth_sendTransaction is signed with viem and broadcast to that node (else a made-up hash is
// returned); --alter-gas adds N to the gas the dapp asked for first, as a wallet that changes transactions does.
//
// Commands arrive on stdin as JSON lines ({"cmd": "connect", ...}); everything the
// client does or sees is printed on stdout as JSON lines with an "event" key. The
// SDK's own logging goes to stderr. Driven by tests/procs.py's JsPeer (and bench/client.py).

import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { privateKeyToAccount } from "viem/accounts";
import { verifyMessage, verifyTypedData } from "viem";

const { values: opts } = parseArgs({
  options: {
    relay: { type: "string" },
    sdk: { type: "string", default: "current" },
    name: { type: "string", default: "js-peer" },
    key: { type: "string", default: "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318" },
    "auto-approve": { type: "boolean", default: false },
    "auto-reject": { type: "boolean", default: false },
    "auto-sign": { type: "boolean", default: false },
    storage: { type: "string" },
    rpc: { type: "string" },
    "alter-gas": { type: "string", default: "0" },
  },
});

const emit = (event, data = {}) => process.stdout.write(JSON.stringify({ event, ...data }, (_, v) => (typeof v === "bigint" ? v.toString() : v)) + "\n");
for (const level of ["log", "info", "warn", "error", "debug", "trace"]) console[level] = (...a) => process.stderr.write(a.map(String).join(" ") + "\n");
const nodeFetch = globalThis.fetch; // kept for --rpc (a loopback node) only
globalThis.fetch = async () => { throw new Error("offline test peer"); }; // Verify API and telemetry stay local

const { SignClient } = await import(opts.sdk === "legacy" ? "sign-client-legacy" : "@walletconnect/sign-client");
const account = privateKeyToAccount(opts.key);
const client = await SignClient.init({
  projectId: "00000000000000000000000000000000",
  relayUrl: opts.relay,
  metadata: { name: opts.name, description: `${opts.name} (official JS SDK)`, url: "https://js-peer.example", icons: [] },
  customStoragePrefix: `${opts.name}-${process.pid}`,
  telemetryEnabled: false,
  signConfig: { disableRequestQueue: true },
  ...(opts.storage ? { storageOptions: { database: opts.storage } } : {}),
});
emit("ready", { address: account.address, sdk: opts.sdk });

const errorOf = (e) => ({ message: e?.message ?? String(e), code: e?.code ?? null });

async function answer(request) {
  const { method, params } = request;
  if (method === "personal_sign") return account.signMessage({ message: { raw: params[0] } });
  if (method === "eth_signTypedData_v4") return account.signTypedData(typeof params[1] === "string" ? JSON.parse(params[1]) : params[1]);
  if (method === "eth_sendTransaction") return opts.rpc ? broadcast(params[0], request.chainId) : "0x" + "ab".repeat(32);
  throw Object.assign(new Error(`unsupported ${method}`), { code: 5101 });
}

client.on("session_proposal", async ({ id, params }) => {
  emit("proposal", { id, proposer: params.proposer.metadata, requiredNamespaces: params.requiredNamespaces, optionalNamespaces: params.optionalNamespaces });
  try {
    if (opts["auto-reject"]) {
      await client.reject({ id, reason: { code: 5000, message: "User rejected." } });
      emit("rejected", { id });
    } else if (opts["auto-approve"]) {
      const wanted = { ...params.requiredNamespaces, ...params.optionalNamespaces }.eip155 ?? { chains: ["eip155:1"], methods: [], events: [] };
      const chains = wanted.chains ?? ["eip155:1"];
      const namespaces = { eip155: { chains, methods: wanted.methods, events: wanted.events, accounts: chains.map((c) => `${c}:${account.address}`) } };
      const { topic, acknowledged } = await client.approve({ id, namespaces });
      await acknowledged();
      emit("session", { topic, namespaces });
    }
  } catch (e) { emit("error", { during: "proposal", ...errorOf(e) }); }
});

async function node(method, params) {
  const response = await nodeFetch(opts.rpc, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const answer = await response.json();
  if (answer.error) throw Object.assign(new Error(answer.error.message), { code: -32000 });
  return answer.result;
}

// Sign the transaction as asked (but for --alter-gas) and send it through the node; the hash is the answer.
async function broadcast(tx, chainId) {
  const quantity = (v) => (v === undefined ? undefined : BigInt(v));
  const signed = await account.signTransaction({
    type: "eip1559",
    chainId: Number(chainId.split(":")[1]),
    to: tx.to,
    value: quantity(tx.value) ?? 0n,
    data: tx.data ?? tx.input,
    nonce: Number(BigInt(tx.nonce ?? await node("eth_getTransactionCount", [account.address, "pending"]))),
    gas: quantity(tx.gas) + BigInt(opts["alter-gas"]),
    maxFeePerGas: quantity(tx.maxFeePerGas),
    maxPriorityFeePerGas: quantity(tx.maxPriorityFeePerGas),
  });
  return node("eth_sendRawTransaction", [signed]);
}

client.on("session_request", async ({ id, topic, params }) => {
  emit("request", { id, topic, chainId: params.chainId, method: params.request.method, params: params.request.params });
  if (!opts["auto-sign"]) return;
  try {
    const result = await answer({ ...params.request, chainId: params.chainId });
    await client.respond({ topic, response: { id, jsonrpc: "2.0", result } });
    emit("responded", { id, result });
  } catch (e) {
    await client.respond({ topic, response: { id, jsonrpc: "2.0", error: { code: e.code ?? 5000, message: e.message } } });
    emit("responded", { id, error: errorOf(e) });
  }
});

for (const name of ["session_delete", "session_ping", "session_event", "session_update", "session_extend", "session_expire"]) {
  client.on(name, (payload) => emit(name.replace("session_", ""), payload ?? {}));
}

const commands = {
  async connect({ namespaces }) {
    const started = performance.now();
    const { uri, approval } = await client.connect({ optionalNamespaces: namespaces });
    emit("uri", { uri });
    const session = await approval();
    const pairing_ms = performance.now() - started;
    emit("session", { topic: session.topic, namespaces: session.namespaces, peer: session.peer.metadata, pairing_ms });
  },
  async pair({ uri }) { await client.pair({ uri }); emit("paired", {}); },
  async request({ topic, chainId, method, params }) {
    try {
      const result = await client.request({ topic, chainId, request: { method, params } });
      emit("response", { result });
    } catch (e) { emit("response", { error: errorOf(e) }); }
  },
  async verify({ address, message, signature }) {
    emit("verified", { ok: await verifyMessage({ address, message: { raw: message }, signature }) });
  },
  async verifyTyped({ address, typedData, signature }) {
    emit("verified", { ok: await verifyTypedData({ address, ...typedData, signature }) });
  },
  async bench({ topic, chainId, method, params, count }) {
    // bench/client.py: `count` requests one after another, each timed here (no stdin/stdout hop inside).
    const ms = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await client.request({ topic, chainId, request: { method, params } });
      ms.push(performance.now() - started);
    }
    emit("bench", { ms });
  },
  async ping({ topic }) { await client.ping({ topic }); emit("pong", { topic }); },
  async emitEvent({ topic, chainId, name, data }) { await client.emit({ topic, chainId, event: { name, data } }); emit("emitted", { topic }); },
  async update({ topic, namespaces }) { const { acknowledged } = await client.update({ topic, namespaces }); await acknowledged(); emit("updated", { topic }); },
  async extend({ topic }) { const { acknowledged } = await client.extend({ topic }); await acknowledged(); emit("extended", { topic }); },
  async disconnect({ topic }) { await client.disconnect({ topic, reason: { code: 6000, message: "User disconnected." } }); emit("disconnected", { topic }); },
  async sessions() { emit("sessions", { topics: client.session.getAll().map((s) => s.topic) }); },
  async exit() { emit("bye"); process.exit(0); },
};

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  let command;
  try { command = JSON.parse(line); } catch { emit("error", { message: `not JSON: ${line}` }); continue; }
  const run = commands[command.cmd];
  if (!run) { emit("error", { message: `unknown command ${command.cmd}` }); continue; }
  run(command).catch((e) => emit("error", { during: command.cmd, ...errorOf(e) }));
}
process.exit(0);
