// What making one x-signature body (Python's json.dumps of the payload, SchemeBodies) costs the
// worker's event loop per MiB of payload, by kind of payload: a subscriber's x-signature endpoint
// makes the shared worker build it once per event it sends. Small floats were the costly kind
// (~115 ms per MiB before their text was edited in place rather than rebuilt), above ordinary text
// and numbers. Not part of the test run; SECURITY.md quotes it.
//
//   npx tsx scripts/probe-x-signature-body.ts
import { pythonJsonDumpsOfJson } from '@hookrelay/signing';

const COUNT = 210_000;
const ROUNDS = 5;
const array = (value: (i: number) => unknown): string => JSON.stringify(Array.from({ length: COUNT }, (_, i) => value(i)));
const kinds: Record<string, string> = {
  'ASCII text': JSON.stringify({ text: 'x'.repeat(1_000_000) }),
  'non-ASCII text': JSON.stringify({ text: 'é😀'.repeat(330_000) }),
  integers: array((i) => 1_000_000 + i),
  'floats 1e-7 (exponent padded)': array(() => 1e-7),
  'floats 1e-6..1e-4 (written without exponent by JS)': array((i) => (1 + (i % 9)) * 1.234e-5),
  'floats under 1e-4, random digits': array((i) => (((i * 7919) % 1000) / 1000) * 10 ** -(5 + (i % 20)) + 1e-30),
};

for (const [kind, json] of Object.entries(kinds)) {
  pythonJsonDumpsOfJson(json);
  const started = process.hrtime.bigint();
  for (let round = 0; round < ROUNDS; round++) pythonJsonDumpsOfJson(json);
  const ms = Number(process.hrtime.bigint() - started) / 1e6 / ROUNDS;
  const mib = Buffer.byteLength(json) / 2 ** 20;
  console.log(`${kind.padEnd(52)} ${mib.toFixed(2).padStart(5)} MiB  ${(ms / mib).toFixed(1).padStart(6)} ms per MiB`);
}
