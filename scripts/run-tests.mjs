// `npm test`: runs jest and decides the exit code from what jest reports, not only from its exit
// code. Seen here: when jest force-exits a worker that did not shut down in time ("A worker
// process has failed to exit gracefully"), its process can end with code 0 before writing its
// results, even when a test failed, and CI would take a red run for green. So the verdict comes
// from jest's results file when there is one, else from its printed summary, and no summary at
// all counts as a failure.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Tests run through SWC, which strips types without checking them, so the type check and the
// linter (floating promises, unnecessary assertions: eslint.config.mjs) run first, side by side,
// and a failure in either fails the run before jest starts.
const staticChecks = await Promise.all([runChecked('typecheck'), runChecked('lint')]);
for (const check of staticChecks) if (!check.ok) console.error(check.output);
if (staticChecks.some((check) => !check.ok)) {
  console.error(
    `npm test: ${staticChecks
      .filter((c) => !c.ok)
      .map((c) => c.name)
      .join(' and ')} failed; jest not started`,
  );
  process.exit(1);
}
console.log('npm test: typecheck and lint passed');

function runChecked(name) {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', name], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ name, ok: code === 0, output }));
  });
}

const require = createRequire(import.meta.url);
const jestBin = require.resolve('jest/bin/jest');

// Without arguments: every project but `timing` side by side, then the `timing` suites alone (they
// compare latencies measured in one run, which neighbouring suites' CPU would blur; jest.config.ts).
// With arguments (a path, a -t filter): one jest run with exactly those.
const extra = process.argv.slice(2);
const runs = extra.length
  ? [extra]
  : [
      ['--selectProjects', 'unit', 'integration', 'reliability'],
      ['--selectProjects', 'timing', '--runInBand'],
    ];
let passed = 0;
let failed = 0;
let exitCode = 0;
for (const args of runs) {
  const verdict = await runJest(args);
  if (!verdict) {
    console.error('jest reported no results: counting the run as failed');
    exitCode = 1;
    continue;
  }
  passed += verdict.passed;
  failed += verdict.failed;
  if (verdict.failed > 0 || verdict.suitesFailed > 0 || verdict.success === false) {
    if (verdict.status === 0) console.error('jest exited 0 but reported failures: counting the run as failed');
    exitCode = 1;
  } else if (verdict.status !== 0) exitCode = verdict.status ?? 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(exitCode);

/** One jest run; its verdict from jest's results file, else from its printed summary, else undefined. */
async function runJest(args) {
  const dir = mkdtempSync(join(tmpdir(), 'hookrelay-jest-'));
  const resultsFile = join(dir, 'results.json');
  const child = spawn(process.execPath, [jestBin, '--json', `--outputFile=${resultsFile}`, ...args], {
    stdio: ['inherit', 'pipe', 'pipe'],
  });
  let reporterOutput = '';
  child.stdout.on('data', (chunk) => process.stdout.write(chunk));
  child.stderr.on('data', (chunk) => {
    process.stderr.write(chunk);
    reporterOutput += chunk.toString();
  });
  const status = await new Promise((resolve) => child.on('close', (code) => resolve(code)));
  let results;
  try {
    results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  } catch {
    results = undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const verdict = results
    ? {
        passed: results.numPassedTests,
        failed: results.numFailedTests,
        suitesFailed: results.numFailedTestSuites + results.numRuntimeErrorTestSuites,
        success: results.success,
      }
    : verdictFromSummary(reporterOutput);
  return verdict && { ...verdict, status };
}

function verdictFromSummary(text) {
  // eslint-disable-next-line no-control-regex -- the escape is what it strips
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '');
  const suites = /^Test Suites: (.*)$/m.exec(plain)?.[1];
  const tests = /^Tests: +(.*)$/m.exec(plain)?.[1];
  if (!suites || !tests) return undefined;
  const count = (line, word) => Number(new RegExp(`(\\d+) ${word}`).exec(line)?.[1] ?? 0);
  return { passed: count(tests, 'passed'), failed: count(tests, 'failed'), suitesFailed: count(suites, 'failed') };
}
