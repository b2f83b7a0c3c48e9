// Summarizes a V8 .cpuprofile (node --cpu-prof): self time by function and by package, so a
// profile can be read without DevTools.
// Usage: npx tsx bench/profile-summary.ts <file> [top] [--callers <functionName>]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Which package a script belongs to: node_modules/<pkg>, packages|apps/<name>, node: internals. */
function packageOf(url: string): string {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return 'node:internals';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1] as string;
  const ws = /\/(packages|apps|bench)\/([^/]+)/.exec(url);
  if (ws) return ws[1] === 'bench' ? 'bench' : `@hookrelay/${ws[2]}`;
  return url;
}

/** Self time of a node plus everything it called, summed per workspace function (each stack counted once). */
function inclusiveByWorkspaceFunction(profile: CpuProfile, selfUs: Map<number, number>): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  const walk = (id: number, open: Set<string>): number => {
    const node = byId.get(id);
    if (!node) return 0;
    const { functionName, url, lineNumber } = node.callFrame;
    const mine =
      /\/(packages|apps)\//.test(url) && !url.includes('node_modules')
        ? `${functionName || '(anonymous)'} ${url.replace(/^.*\/(packages|apps)\//, '$1/')}:${lineNumber + 1}`
        : undefined;
    const counted = mine !== undefined && !open.has(mine);
    if (counted) open.add(mine);
    let total = selfUs.get(id) ?? 0;
    for (const child of node.children ?? []) total += walk(child, open);
    if (counted) {
      open.delete(mine);
      out.set(mine, (out.get(mine) ?? 0) + total);
    }
    return total;
  };
  const root = profile.nodes[0];
  if (root) walk(root.id, new Set());
  return out;
}

function main(): void {
  const args = process.argv.slice(2);
  const callersAt = args.indexOf('--callers');
  const callersOf = callersAt >= 0 ? args.splice(callersAt, 2)[1] : undefined;
  const [file, topArg] = args;
  if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [top] [--callers <functionName>]');
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    total += us;
    const short = url.replace(/^.*\/(node_modules|packages|apps|bench)\//, '$1/');
    const key = `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const pkg = functionName === '(garbage collector)' ? '(gc)' : functionName === '(program)' ? '(program)' : packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  }
  const print = (title: string, map: Map<string, number>): void => {
    process.stdout.write(`\n${title} (busy ${(total / 1000).toFixed(0)} ms)\n`);
    for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}\n`);
    }
  };
  print('self time by package', byPackage);
  print('self time by function', byFunction);
  print('inclusive time, Hookrelay code (synchronous part of each call)', inclusiveByWorkspaceFunction(profile, selfUs));
  if (callersOf) {
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const frame = (id: number): string => {
      const cf = byId.get(id)?.callFrame;
      return cf ? `${cf.functionName || '(anonymous)'}@${cf.url.replace(/^.*\//, '')}:${cf.lineNumber + 1}` : '?';
    };
    const stacks = new Map<string, number>();
    for (const [id, us] of selfUs) {
      if (byId.get(id)?.callFrame.functionName !== callersOf) continue;
      const chain: string[] = [];
      // The nearest six frames outside Node's own internals: who asked for this work.
      for (let p = parent.get(id); p !== undefined && chain.length < 6; p = parent.get(p)) {
        const url = byId.get(p)?.callFrame.url ?? '';
        if (!url.startsWith('node:')) chain.push(frame(p));
      }
      const key = chain.join(' < ');
      stacks.set(key, (stacks.get(key) ?? 0) + us);
    }
    print(`callers of ${callersOf}`, stacks);
  }
}

main();
