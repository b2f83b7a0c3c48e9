// Test-only: Debian's Chromium driven by playwright-core, and the portal build the API serves.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = join(__dirname, '..', '..', '..', '..');

/**
 * Headless Chromium from the distribution (`npx playwright install` cannot download browsers here).
 * Without the background-networking flags Chromium keeps trying Google's hosts, which this machine's
 * closed network refuses; playwright gives every launch a fresh, empty profile directory.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (what .ci/run does), or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

const PORTAL = join(ROOT, 'apps', 'portal');
const DIST = join(PORTAL, 'dist');

/** Newest modification time under `path` (a file or a folder, walked). */
function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

function isBuildFresh(): boolean {
  const index = join(DIST, 'index.html');
  if (!existsSync(index)) return false;
  const sources = ['index.html', 'vite.config.mts', 'package.json', 'src/ui', 'src/lib'].map((p) => join(PORTAL, p));
  return statSync(index).mtimeMs >= Math.max(...sources.map(newestMtime));
}

/**
 * Builds apps/portal into apps/portal/dist unless that build is newer than every source file, so
 * the test always runs the source as it is now. The build goes to a private folder first and is
 * then swapped in, so another test run serving dist at the same moment never sees it half-written.
 */
export function buildPortal(): void {
  if (isBuildFresh()) return;
  const out = join(PORTAL, `.dist-build-${process.pid}`);
  const old = join(PORTAL, `.dist-old-${process.pid}`);
  try {
    execFileSync('npm', ['run', 'build', '--silent', '-w', '@hookrelay/portal', '--', '--outDir', out, '--emptyOutDir'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 60_000,
    });
    try {
      renameSync(DIST, old);
    } catch {
      /* no dist yet, or another run is swapping its own build in */
    }
    try {
      renameSync(out, DIST);
    } catch {
      /* another run put an equally fresh build there first */
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
}

/**
 * Where screenshots go: docs/screenshots with UPDATE_SCREENSHOTS=1 (what docs/portal.md shows), else a
 * temporary folder, so an ordinary test run does not rewrite files under version control.
 */
export function screenshotDir(): string {
  const dir = process.env.UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'screenshots') : mkdtempSync(join(tmpdir(), 'portal-shots-'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Waits (bounded) until `check` holds in the page, e.g. a delivery row in a given state. */
export async function waitUntil(page: Page, check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (at ${page.url()})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** How much wider than the viewport the page is; 0 means no horizontal scroll. */
export async function horizontalOverflow(page: Page): Promise<number> {
  return await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

/**
 * Where the text of `selector` (the first match) wraps: how many lines it takes, and the character
 * before each break. For checking that a URL breaks after `/` and not in the middle of a word.
 */
export async function lineBreaks(page: Page, selector: string): Promise<{ lines: number; breaksAfter: string[] }> {
  // Runs in the page; this package's TypeScript has no DOM types, hence `any`.
  return page
    .locator(selector)
    .first()
    .evaluate((el: any) => {
      const doc = (globalThis as any).document;
      const walker = doc.createTreeWalker(el, 4 /* NodeFilter.SHOW_TEXT */);
      const chars: Array<{ ch: string; top: number }> = [];
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.data.length; i++) {
          const range = doc.createRange();
          range.setStart(node, i);
          range.setEnd(node, i + 1);
          const rect = range.getClientRects()[0];
          if (rect) chars.push({ ch: node.data[i], top: Math.round(rect.top) });
        }
      }
      const breaksAfter: string[] = [];
      for (let i = 1; i < chars.length; i++) if (chars[i]!.top > chars[i - 1]!.top + 2) breaksAfter.push(chars[i - 1]!.ch);
      return { lines: breaksAfter.length + 1, breaksAfter };
    });
}

/**
 * `step(name, fn)`: tests that share one page, each starting where the previous one ended. Once one
 * fails the rest fail at once, naming it, instead of each waiting out its own timeouts.
 */
export function sequentialSteps(): (name: string, fn: () => Promise<void>) => void {
  let failedStep: string | null = null;
  return (name, fn) => {
    it(name, async () => {
      if (failedStep) throw new Error(`not run: depends on "${failedStep}", which failed`);
      try {
        await fn();
      } catch (err) {
        failedStep = name;
        throw err;
      }
    });
  };
}
