import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * stored-bytes.lua: each subscriber's bytes written within the retention period, which the scripts
 * that write events and attempts charge and admission reads. Loaded ahead of those scripts. A module
 * of its own: the scheduler's scripts (lanes/lane-store.ts) need it, and stored-bytes.ts needs them.
 */
export const STORED_BYTES_LUA = readFileSync(join(__dirname, 'stored-bytes.lua'), 'utf8');
