// What a subscriber's wildcard names cost the worker's memory through its DNS cache (HostResolver):
// PROBE_NAMES (5,000) names answering PROBE_ADDRESSES (200) public addresses each, looked up one
// after another, then, two minutes on (every answer run out), 100 new names. Prints the heap each
// leaves behind after a full GC. Not part of the test run; ssrf/host-resolver.ts quotes it.
//
//   node --expose-gc --import tsx scripts/probe-resolver-memory.ts
import { HostResolver } from '@hookrelay/delivery';

const NAMES = Number(process.env.PROBE_NAMES ?? 5000);
const ADDRESSES = Number(process.env.PROBE_ADDRESSES ?? 200);

function heapMb(): number {
  if (!global.gc) throw new Error('run with node --expose-gc');
  global.gc();
  return process.memoryUsage().heapUsed / 1e6;
}

async function main(): Promise<void> {
  let now = 0;
  const answer = () =>
    Array.from({ length: ADDRESSES }, (_, i) => ({ address: `93.184.${(i >> 8) & 255}.${i & 255}`, family: 4 as const }));
  const resolver = new HostResolver({ now: () => now, resolve: async () => answer() });
  const before = heapMb();
  for (let i = 0; i < NAMES; i++) await resolver.lookup(`n${i}.wild.test`, 'sub_a');
  const full = heapMb() - before;
  now += 120_000;
  for (let i = 0; i < 100; i++) await resolver.lookup(`later-${i}.wild.test`, 'sub_a');
  const later = heapMb() - before;
  console.log(
    `${NAMES} names of ${ADDRESSES} addresses: +${full.toFixed(1)} MB; 2 min later, 100 new names on: +${later.toFixed(1)} MB, ${resolver.cachedNames} names cached`,
  );
}

void main();
