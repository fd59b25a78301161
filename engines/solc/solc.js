#!/usr/bin/env node
// A `solc` command on the solc-js API that answers like the native compiler for the
// two modes eccoo's tools use: `--version` and `--standard-json` (input on stdin).
// It never calls process.exit() after writing: large outputs on a pipe must drain,
// which is exactly what the stock `solcjs` command gets wrong.
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');

function fail(message) {
  process.stderr.write(`Error: ${message}\n`);
  process.exitCode = 1;
}

function parseArgs(argv) {
  const opts = { basePath: null, includePaths: [], mode: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const takeValue = () => {
      if (arg.includes('=')) return arg.slice(arg.indexOf('=') + 1);
      i += 1;
      return argv[i];
    };
    if (arg === '--version' || arg === '-v') opts.mode = 'version';
    else if (arg === '--standard-json') opts.mode = 'standard-json';
    else if (arg.startsWith('--base-path')) opts.basePath = takeValue();
    else if (arg.startsWith('--include-path')) opts.includePaths.push(takeValue());
    else if (arg.startsWith('--allow-paths')) takeValue();
    else if (arg === '--help' || arg === '-h') opts.mode = 'help';
    else if (arg.startsWith('-')) opts.unknown = arg;
    else opts.positional = arg;
  }
  return opts;
}

function makeImportResolver(opts) {
  const roots = [opts.basePath || process.cwd(), ...opts.includePaths];
  return function findImports(sourceUnit) {
    const candidates = path.isAbsolute(sourceUnit)
      ? [sourceUnit]
      : roots.map((root) => path.resolve(root, sourceUnit));
    for (const candidate of candidates) {
      try {
        return { contents: fs.readFileSync(candidate, 'utf8') };
      } catch (err) {
        // try the next root, as native solc does with --include-path
      }
    }
    return { error: `File not found: ${sourceUnit} (searched ${roots.join(', ')})` };
  };
}

function readStdin() {
  return fs.readFileSync(0, 'utf8');
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.mode === 'version') {
    process.stdout.write(
      `solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (opts.mode === 'help') {
    process.stdout.write('solc (solc-js wrapper): supports --version and --standard-json\n');
    return;
  }
  if (opts.mode !== 'standard-json') {
    fail(`only --version and --standard-json are supported by this wrapper (got ${
      opts.unknown || opts.positional || 'no mode'})`);
    return;
  }
  let input = readStdin();
  if (opts.positional) input = fs.readFileSync(opts.positional, 'utf8');
  const output = solc.compile(input, { import: makeImportResolver(opts) });
  process.stdout.write(output);
}

main();
