#!/usr/bin/env node
// `solc` for forge, offline: the Solidity compiler of npm's `solc` package (solcjs, the compiler built to
// WebAssembly, pinned in tests/interop/package.json) behind the two command lines forge runs
// (foundry-compilers' `Solc`): `solc --version`, whose last line forge reads as the version, and
// `solc [--allow-paths P,Q] [--include-path P]... [--base-path P] --standard-json` with the input JSON on stdin
// and the output JSON on stdout. No native solc can be downloaded here; this one ships inside an npm package.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { createRequire } = require("node:module");

const solc = createRequire(path.join(__dirname, "..", "interop", "package.json"))("solc");

function options(argv) {
  const roots = [];
  let base = process.cwd();
  let standardJson = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--version") return { version: true };
    if (arg === "--standard-json") standardJson = true;
    else if (arg === "--base-path") base = path.resolve(argv[++i]);
    else if (arg === "--include-path") roots.push(path.resolve(argv[++i]));
    else if (arg === "--allow-paths") roots.push(...argv[++i].split(",").map((p) => path.resolve(p)));
    else throw new Error(`unsupported argument ${arg} (this solc knows --version and --standard-json)`);
  }
  if (!standardJson) throw new Error("nothing to do: pass --version or --standard-json");
  return { base, roots: [base, ...roots] };
}

// forge puts every source's content in the input; an import it did not is read only from the allowed roots.
function importer(base, roots) {
  return (name) => {
    for (const root of roots) {
      const file = path.resolve(root, name);
      if (roots.some((r) => file === r || file.startsWith(r + path.sep)) && fs.existsSync(file)) {
        return { contents: fs.readFileSync(file, "utf8") };
      }
    }
    return { error: `File not found inside the allowed paths: ${name}` };
  };
}

function main() {
  let opts;
  try {
    opts = options(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`solc (solcjs ${solc.version()}): ${err.message}\n`);
    return 2;
  }
  if (opts.version) {
    process.stdout.write(`solc, the solidity compiler commandline interface (solcjs)\nVersion: ${solc.version()}\n`);
    return 0;
  }
  const input = fs.readFileSync(0, "utf8");
  process.stdout.write(solc.compile(input, { import: importer(opts.base, opts.roots) }));
  return 0;
}

process.exitCode = main();
