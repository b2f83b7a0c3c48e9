// Finds set-up blocks (beforeAll, beforeEach, afterAll, afterEach) that more than one test file
// repeats, so shared scaffolding moves into a fixture (useApiHarness, useEngineHarness, ...) instead
// of being copied from suite to suite (issue 21: about twenty pairs of near-identical blocks).
//
//   npx tsx scripts/setup-blocks.ts        lists every repeated block and the files that hold it
//
// test/setup-blocks.test.ts runs the same search and fails on any block two files share (but for the
// few it lists as not yet converted).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const HOOKS = new Set(['beforeAll', 'beforeEach', 'afterAll', 'afterEach']);
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', 'coverage']);

export interface SetupBlock {
  file: string;
  line: number;
  hook: string;
  /** The hook's body as tokens, comments and layout dropped and every literal replaced by its kind. */
  normalised: string;
}

export interface RepeatedBlock {
  hook: string;
  normalised: string;
  /** Where it occurs, `file:line`, in two or more files. */
  places: string[];
}

export function findTestFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith('.')) walk(join(dir, entry.name));
      } else if (entry.name.endsWith('.test.ts')) out.push(join(dir, entry.name));
    }
  };
  for (const top of ['apps', 'packages', 'test']) if (existsSync(join(root, top))) walk(join(root, top));
  return out.sort();
}

/**
 * The node's tokens without trivia; string, template and number literals become their kind, so
 * blocks that differ only in a prefix name or a port count as the same block ("near-identical").
 */
export function normalise(node: ts.Node, source: ts.SourceFile): string {
  const tokens: string[] = [];
  const walk = (n: ts.Node): void => {
    const children = n.getChildren(source);
    if (children.length > 0) return children.forEach(walk);
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) tokens.push('<str>');
    else if (ts.isNumericLiteral(n)) tokens.push('<num>');
    else if (ts.isTemplateLiteralToken(n)) tokens.push('<tpl>');
    else if (n.kind !== ts.SyntaxKind.EndOfFileToken) tokens.push(n.getText(source));
  };
  walk(node);
  return tokens.join(' ');
}

export function setupBlocksOf(root: string, file: string): SetupBlock[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const blocks: SetupBlock[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && HOOKS.has(node.expression.text) && node.arguments[0]) {
      const arg = node.arguments[0];
      const body = ts.isArrowFunction(arg) || ts.isFunctionExpression(arg) ? arg.body : arg;
      blocks.push({
        file: relative(root, file),
        line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
        hook: node.expression.text,
        normalised: normalise(body, source),
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return blocks;
}

/** Set-up blocks that two or more test files share, most widespread first. */
export function findRepeatedSetupBlocks(root: string): RepeatedBlock[] {
  const byBody = new Map<string, SetupBlock[]>();
  for (const file of findTestFiles(root)) {
    for (const block of setupBlocksOf(root, file)) {
      const key = `${block.hook} ${block.normalised}`;
      byBody.set(key, [...(byBody.get(key) ?? []), block]);
    }
  }
  return [...byBody.values()]
    .filter((blocks) => new Set(blocks.map((b) => b.file)).size > 1)
    .map((blocks) => ({ hook: blocks[0]!.hook, normalised: blocks[0]!.normalised, places: blocks.map((b) => `${b.file}:${b.line}`) }))
    .sort((a, b) => b.places.length - a.places.length);
}

if (require.main === module) {
  const root = join(__dirname, '..');
  const repeated = findRepeatedSetupBlocks(root);
  for (const r of repeated) console.log(`${r.hook} x${r.places.length}: ${r.normalised.slice(0, 160)}\n  ${r.places.join('\n  ')}`);
  const places = repeated.flatMap((r) => r.places);
  const files = new Set(places.map((p) => p.replace(/:\d+$/, '')));
  console.log(`${repeated.length} set-up blocks repeated across files: ${places.length} occurrences in ${files.size} files`);
}
