import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The code samples of a Markdown page and what the docs test does with each, read from an HTML
 * comment on the line just before the fence (invisible when the page is rendered):
 *
 *   <!-- sample: run                 the default for sh/bash: run in the reader's shell session
 *   stdout: <text>                   ...whose output must contain <text>
 *   eventually: <text>               ...re-run (an idempotent read) until its output contains <text>
 *   receiver <port>: <text>          ...after which the background sample on <port> prints <text>
 *   -->
 *   <!-- sample: background <port> -->   a server the reader starts in another terminal
 *   <!-- sample: file <name> -->         a program the reader saves as <name> (any language)
 *   <!-- sample: service (why) -->       how the reader starts Hookrelay: the test starts it with these variables
 *   <!-- sample: not-run (why) -->       not run, with the reason
 *
 * A js/ts/python block needs a marker; so does an untagged block that runs curl or npm.
 */

export type SampleKind = 'run' | 'background' | 'file' | 'service' | 'not-run';

export interface Expectation {
  kind: 'stdout' | 'eventually' | 'receiver';
  text: string;
  /** For `receiver`: the port the background sample listens on, as the page writes it. */
  port?: number;
}

export interface Sample {
  /** `README.md:42`: the page and the line of the opening fence. */
  where: string;
  lang: string;
  code: string;
  kind: SampleKind;
  /** background: its port; file: its name; service and not-run: the reason. */
  argument: string;
  expectations: Expectation[];
}

const SHELL = new Set(['sh', 'bash', 'shell', 'console']);
const PROGRAM = new Set(['js', 'javascript', 'mjs', 'cjs', 'ts', 'typescript', 'python', 'py']);
const MARKER = /^<!-- sample: ([\w-]+)\s*(.*?)\s*(?:-->)?$/;

export interface ParsedPage {
  samples: Sample[];
  /** Blocks that are samples but carry no usable marker, with why. */
  problems: string[];
}

export function readSamples(root: string, page: string): ParsedPage {
  const lines = readFileSync(join(root, page), 'utf8').split('\n');
  const samples: Sample[] = [];
  const problems: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const lang = fence[1]!.toLowerCase();
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    const code = body.join('\n');
    const where = `${page}:${start + 1}`;
    const isSample = SHELL.has(lang) || PROGRAM.has(lang) || (lang === '' && /^\s*(curl|npm|node) /m.test(code));
    if (!isSample) continue;
    const marker = markerBefore(lines, start);
    if (!marker) {
      if (SHELL.has(lang)) samples.push({ where, lang, code, kind: 'run', argument: '', expectations: [] });
      else problems.push(`${where}: a ${lang || 'untagged'} sample without a <!-- sample: ... --> marker`);
      continue;
    }
    const problem = checkMarker(marker, lang);
    if (problem) problems.push(`${where}: ${problem}`);
    else samples.push({ where, lang, code, ...marker });
  }
  return { samples, problems };
}

function markerBefore(lines: string[], fenceLine: number): Omit<Sample, 'where' | 'lang' | 'code'> | undefined {
  if (!lines[fenceLine - 1]?.trim().endsWith('-->')) return undefined;
  let open = fenceLine - 1;
  while (open >= 0 && !lines[open]!.startsWith('<!-- sample:')) {
    if (lines[open]!.startsWith('```') || open < fenceLine - 40) return undefined;
    open--;
  }
  const head = open >= 0 ? MARKER.exec(lines[open]!) : null;
  if (!head) return undefined;
  const expectations: Expectation[] = [];
  for (const line of lines.slice(open + 1, fenceLine - 1)) {
    const m = /^(stdout|eventually|receiver (\d+)): (.+)$/.exec(line);
    if (!m) throw new Error(`unreadable expectation in a sample marker: ${line}`);
    const kind = m[1]!.startsWith('receiver') ? 'receiver' : (m[1] as 'stdout' | 'eventually');
    expectations.push({ kind, text: m[3]!, port: m[2] ? Number(m[2]) : undefined });
  }
  return { kind: head[1] as SampleKind, argument: head[2]!.replace(/-->$/, '').trim(), expectations };
}

function checkMarker(marker: Omit<Sample, 'where' | 'lang' | 'code'>, lang: string): string | undefined {
  switch (marker.kind) {
    case 'not-run':
    case 'service':
      return /^\(.+\)$/.test(marker.argument) ? undefined : `${marker.kind} needs a reason in parentheses`;
    case 'background':
      return /^\d+$/.test(marker.argument) && SHELL.has(lang) ? undefined : 'background needs a shell block and its port';
    case 'file':
      return /^[\w.-]+$/.test(marker.argument) ? undefined : 'file needs a file name';
    case 'run':
      return SHELL.has(lang) ? undefined : `only shell blocks run in the session, not ${lang}: mark it file or not-run`;
    default:
      return `unknown sample kind "${String(marker.kind)}"`;
  }
}
