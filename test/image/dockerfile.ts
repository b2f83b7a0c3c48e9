import { readFileSync } from 'node:fs';

/** One instruction of a Dockerfile: its keyword (upper case), flags (`--from=x`) and arguments. */
export interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  args: string[];
  /** The instruction as written, for messages. */
  text: string;
}

export interface Stage {
  /** The stage's name (`AS name`), or `#<index>` for an unnamed one. */
  name: string;
  /** What it starts from: an image, or an earlier stage's name. */
  from: string;
  instructions: Instruction[];
}

/**
 * The stages of a Dockerfile, as far as this repository's Dockerfile uses the syntax: line
 * continuations, comments, `FROM image [AS name]`, flags, and JSON or shell-form arguments. Enough
 * to reproduce the image's file tree without Docker (test/image.int.test.ts); anything else it
 * meets is an error, never skipped.
 */
export function parseDockerfile(path: string): Stage[] {
  const logical = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const text of logical) {
    const [keyword = '', ...rest] = text.split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [from = '', as, name] = rest;
      if (as !== undefined && (as.toUpperCase() !== 'AS' || !name)) throw new Error(`cannot read ${text}`);
      stages.push({ name: name ?? `#${stages.length}`, from, instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`${text} before any FROM`);
    const flags: Record<string, string> = {};
    while (rest[0]?.startsWith('--')) {
      const [flag = '', value = ''] = (rest.shift() as string).slice(2).split('=');
      flags[flag] = value;
    }
    const tail = rest.join(' ');
    const args = tail.startsWith('[') ? (JSON.parse(tail) as string[]) : rest;
    stage.instructions.push({ keyword: upper, flags, args, text });
  }
  return stages;
}
