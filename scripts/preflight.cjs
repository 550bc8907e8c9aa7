// Can `npm run demo` / `npm test` start? Checks that this Node.js runs the project's TypeScript sources
// and that the dependencies are installed. Written to run on any Node (CommonJS, nothing newer than
// Node 6), so an old Node prints one line naming the fix instead of the stack trace it prints for a
// `.ts` entry point. The one home of the minimum Node version: scripts/ensure-node.sh asks it too.
//
//   node scripts/preflight.cjs <make target>   exit 0 when ready; else one line on stderr and exit 1
//   node scripts/preflight.cjs --node-only     exit 0 when this Node is new enough; else exit 1, silently
"use strict";
const fs = require("node:fs");
const path = require("node:path");

// Type stripping runs `.ts` files without a flag from Node 22.18 (23.6 on the odd line).
const LOWEST = { 22: [22, 18, 0], 23: [23, 6, 0] };
const LOWEST_MAJOR = 22;

function newEnough(version) {
  const parts = version.split(".").map(Number);
  if (parts[0] < LOWEST_MAJOR) return false;
  const floor = LOWEST[parts[0]];
  if (!floor) return true;
  for (let i = 0; i < 3; i++) {
    if (parts[i] !== floor[i]) return parts[i] > floor[i];
  }
  return true;
}

function fail(message) {
  process.stderr.write(`lb-provisioner: error: ${message}\n`);
  process.exitCode = 1;
}

function main(argument) {
  if (argument === "--node-only") {
    if (!newEnough(process.versions.node)) process.exitCode = 1;
  } else if (!newEnough(process.versions.node)) {
    fail(
      `Node.js v${process.versions.node} cannot run the TypeScript sources (22.18 or newer is needed); ` +
        `run \`make ${argument}\` instead: it installs Node 24 and the dependencies first`,
    );
  } else if (!fs.existsSync(path.join(__dirname, "..", "node_modules", ".package-lock.json"))) {
    fail(`the dependencies are not installed; run \`npm ci\` first, or \`make ${argument}\``);
  }
}

if (require.main === module) main(process.argv[2] || "test");
module.exports = { newEnough };
