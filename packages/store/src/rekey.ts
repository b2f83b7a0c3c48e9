import type Redis from 'ioredis';
import { SecretUnreadableError, type SecretBox } from '@hookrelay/secrets';
import { compareAndSet } from './compare-and-set';
import { resealSecrets, type SecretRecordKind } from './record-secrets';
import { hashSourceToken } from './source-store';
import { escapeGlob, scanTargets } from './scan-targets';

export interface RekeyOptions {
  redis: Redis;
  prefix: string;
  /** Every key that may have sealed a stored secret; the first is the one to seal with. */
  secrets: SecretBox;
  /** Keys asked of each SCAN call. @defaultValue 500 */
  batchSize?: number;
  /** Where an interrupted run stopped (its last progress line); re-running from the start is as correct, only slower. @defaultValue the start */
  resumeFrom?: string;
  /** Called after every batch. */
  onProgress?: (progress: RekeyProgress) => void;
  /** Called between reading a record and writing it back: lets a test change the record in between. */
  betweenReadAndWrite?: (key: string) => Promise<void>;
}

export interface RekeyProgress {
  /** Pass to `resumeFrom` to continue after this batch. */
  position: string;
  read: number;
  changed: number;
}

export interface UnreadableRecord {
  key: string;
  record: SecretRecordKind;
  id: string;
  /** Why, naming the field and the key id; never the secret. */
  problem: string;
}

export interface RekeyReport {
  /** Endpoint and source records looked at. */
  read: number;
  /** Records written again: a secret in plain text or under another key was sealed under the first key. */
  changed: number;
  /** Records already entirely under the first key. */
  current: number;
  unreadable: UnreadableRecord[];
  /** Keys that changed under every attempt to rewrite them (a very busy record): run again. */
  busy: string[];
}

/** The kinds of record holding secrets, in the order they are scanned. */
const PHASES: ReadonlyArray<{ kind: SecretRecordKind; segment: string }> = [
  { kind: 'endpoint', segment: 'ep' },
  { kind: 'source', segment: 'src' },
];

const WRITE_ATTEMPTS = 5;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, (c) => `\\${c}`);
}

/** Where a scan stands: the kind of record, the node (a Cluster is scanned one master at a time), the SCAN cursor. */
interface Position {
  phase: number;
  node: number;
  cursor: string;
}

function parsePosition(position: string | undefined): Position {
  if (!position) return { phase: 0, node: 0, cursor: '0' };
  if (position === 'done') return { phase: PHASES.length, node: 0, cursor: '0' };
  const [segment, node, cursor] = position.split(':');
  const phase = PHASES.findIndex((p) => p.segment === segment);
  if (phase < 0 || !node || !/^\d+$/.test(node) || !cursor || !/^\d+$/.test(cursor)) {
    throw new Error(`not a rekey position: ${position} (expected what a progress line printed, e.g. ep:0:1234)`);
  }
  return { phase, node: Number(node), cursor };
}

/**
 * Seals every stored secret under the first key: secrets under an older key and those stored as
 * plain text before keys were configured (`npm run rekey`). Walks the keyspace with SCAN in
 * batches while the service runs: each record is rewritten with a compare-and-set, so a change
 * made meanwhile (a PATCH, a rotation) is never overwritten; the record is read again and
 * retried. Idempotent: a record already under the first key is not written, so a second run
 * reports 0 changed, and an interrupted run can simply be started again (or resumed from its last
 * position).
 */
export async function rekeyStoredSecrets(options: RekeyOptions): Promise<RekeyReport> {
  const { redis, secrets } = options;
  if (!secrets.encrypts) throw new Error('HOOKRELAY_ENCRYPTION_KEYS is not set: there is no key to encrypt with');
  const report: RekeyReport = { read: 0, changed: 0, current: 0, unreadable: [], busy: [] };
  const start = parsePosition(options.resumeFrom);

  const nodes = await scanTargets(redis);
  for (let phase = start.phase; phase < PHASES.length; phase++) {
    const { kind, segment } = PHASES[phase] as (typeof PHASES)[number];
    // Only the records themselves: `<prefix>:ep:<id>`, not `<prefix>:ep:<id>:health` and the like.
    const recordKey = new RegExp(`^${escapeRegExp(options.prefix)}:${segment}:([^:]+)$`);
    const resuming = phase === start.phase;
    for (let node = resuming ? start.node : 0; node < nodes.length; node++) {
      let cursor = resuming && node === start.node ? start.cursor : '0';
      do {
        const [next, found] = await (nodes[node] as Redis).scan(
          cursor,
          'MATCH',
          `${escapeGlob(options.prefix)}:${segment}:*`,
          'COUNT',
          options.batchSize ?? 500,
        );
        cursor = next;
        for (const key of found) {
          const id = recordKey.exec(key)?.[1];
          // Reads and writes go through the client given, which routes them on a Cluster.
          if (id) await rekeyRecord(options, kind, key, id, report);
        }
        const position = cursor === '0' ? nextPosition(phase, node, nodes.length) : `${segment}:${node}:${cursor}`;
        options.onProgress?.({ position, read: report.read, changed: report.changed });
      } while (cursor !== '0');
    }
  }
  return report;
}

/** Where to go on once a node's scan is complete; `done` at the very end. */
function nextPosition(phase: number, node: number, nodes: number): string {
  if (node + 1 < nodes) return `${(PHASES[phase] as (typeof PHASES)[number]).segment}:${node + 1}:0`;
  const following = PHASES[phase + 1];
  return following ? `${following.segment}:0:0` : 'done';
}

async function rekeyRecord(options: RekeyOptions, kind: SecretRecordKind, key: string, id: string, report: RekeyReport): Promise<void> {
  const { redis, secrets } = options;
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    // GET on a key of another type fails; a record is always a string, so such a key is not one.
    if ((await redis.type(key)) !== 'string') return;
    const raw = await redis.get(key);
    if (raw === null) return; // deleted meanwhile
    if (attempt === 0) report.read++;
    const stored = JSON.parse(raw) as Record<string, unknown>;
    let result: { record: Record<string, unknown>; changed: boolean };
    try {
      result = resealSecrets(secrets, kind, { recordId: id, subscriberId: String(stored.subscriberId) }, stored);
    } catch (err) {
      if (!(err instanceof SecretUnreadableError)) throw err;
      report.unreadable.push({ key, record: kind, id, problem: err.message });
      return;
    }
    // A source written before the token's hash was stored gets it, so it can be deleted unopened.
    if (kind === 'source' && stored.tokenHash === undefined && typeof stored.token === 'string') {
      result = { record: { ...result.record, tokenHash: hashSourceToken(stored.token) }, changed: true };
    }
    if (!result.changed) {
      report.current++;
      return;
    }
    await options.betweenReadAndWrite?.(key);
    if (await compareAndSet(redis, key, raw, JSON.stringify(result.record))) {
      report.changed++;
      return;
    }
  }
  report.busy.push(key);
}
