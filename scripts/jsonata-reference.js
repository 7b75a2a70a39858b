#!/usr/bin/env node
// The reference side of sfn-jsonata's differential test: jsonata 2.0.6 (the version Step
// Functions implements), installed into .tools/npm by scripts/setup.
//
// Reads one JSON object per line on stdin, {"id", "expr", "input"?}, and writes one per
// line on stdout: {"id", "result"} (the value), {"id", "undefined": true}, {"id",
// "nonfinite": true} (a result holding Infinity or NaN, which JSON cannot carry), or
// {"id", "function": true} (a result that is or holds a function, which is no JSON
// value), or {"id", "error": {"code", "message"}} (code is null for a JavaScript error
// that is not a jsonata one). An absent "input" evaluates without input, as Step Functions does.
//
// With --bench ITERATIONS it instead times each expression of a {"name", "expr",
// "input"?, "bindings"?} line (parsed once, evaluated ITERATIONS times) and writes
// {"name", "ns_per_eval"}.
'use strict';

const path = require('path');
const readline = require('readline');

const moduleDir = process.env.JSONATA_MODULE ||
  path.join(__dirname, '..', '.tools', 'npm', 'node_modules', 'jsonata');
const jsonata = require(moduleDir);
const version = require(path.join(moduleDir, 'package.json')).version;
if (version !== '2.0.6') {
  console.error(`jsonata ${version} found in ${moduleDir}; the reference is 2.0.6 (run scripts/setup)`);
  process.exit(2);
}

function isFunction(v) {
  return typeof v === 'function' ||
    (v !== null && typeof v === 'object' && (v._jsonata_lambda === true || v._jsonata_function === true));
}

function hasFunction(v, depth) {
  if (depth > 200) return false;
  if (isFunction(v)) return true;
  if (Array.isArray(v)) return v.some((x) => hasFunction(x, depth + 1));
  if (v !== null && typeof v === 'object') {
    return Object.keys(v).some((k) => hasFunction(v[k], depth + 1));
  }
  return false;
}

function hasNonFinite(v, depth) {
  if (depth > 200) return false;
  if (typeof v === 'number') return !Number.isFinite(v);
  if (Array.isArray(v)) return v.some((x) => hasNonFinite(x, depth + 1));
  if (v !== null && typeof v === 'object') {
    return Object.keys(v).some((k) => hasNonFinite(v[k], depth + 1));
  }
  return false;
}

async function evaluate(c) {
  try {
    const expr = jsonata(c.expr);
    const input = Object.prototype.hasOwnProperty.call(c, 'input') ? c.input : undefined;
    const result = await expr.evaluate(input);
    if (result === undefined) return { id: c.id, undefined: true };
    if (hasFunction(result, 0)) return { id: c.id, function: true };
    if (hasNonFinite(result, 0)) return { id: c.id, nonfinite: true };
    // Round-trip through JSON here so that what cannot be written (functions, cycles)
    // is reported as this case's outcome rather than breaking the output stream.
    const text = JSON.stringify(result);
    if (text === undefined) return { id: c.id, undefined: true };
    return { id: c.id, result: JSON.parse(text) };
  } catch (err) {
    const code = err && typeof err.code === 'string' ? err.code : null;
    const message = err && err.message ? String(err.message) : String(err);
    return { id: c.id, error: { code, message } };
  }
}

async function bench(c, iterations) {
  const expr = jsonata(c.expr);
  const bindings = c.bindings || {};
  for (let i = 0; i < Math.min(iterations, 1000); i++) await expr.evaluate(c.input, bindings);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await expr.evaluate(c.input, bindings);
  const elapsed = Number(process.hrtime.bigint() - start);
  return { name: c.name, ns_per_eval: elapsed / iterations };
}

async function main() {
  const benchIndex = process.argv.indexOf('--bench');
  const iterations = benchIndex >= 0 ? Number(process.argv[benchIndex + 1]) : 0;
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const c = JSON.parse(line);
    const out = iterations > 0 ? await bench(c, iterations) : await evaluate(c);
    process.stdout.write(JSON.stringify(out) + '\n');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
