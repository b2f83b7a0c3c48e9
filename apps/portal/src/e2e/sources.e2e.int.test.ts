import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startApiHarness, type ApiHarness } from '../../../api/src/api-harness';
import { githubSignature } from '../../../api/src/sources/vendor-signers';
import { buildPortal, horizontalOverflow, launchChromium, screenshotDir, sequentialSteps, waitUntil } from './browser';

// Issue 18 in the portal: the source pages (list, create with a provider picker that shows only the
// chosen sender's fields, and the request history), in headless Chromium against the real API and
// Redis, with signed requests sent to the ingest URL over HTTP as GitHub sends them.

const WAIT = 10_000;
jest.setTimeout(30_000);
const step = sequentialSteps();

describe("the portal's source pages", () => {
  let h: ApiHarness;
  let browser: Browser;
  let page: Page;
  let shots: string;
  let sub: { id: string; apiKey: string };
  let ingestUrl: string;
  let publishedEventId: string;
  const secret = 'gh-portal-secret-0123';

  const shot = (name: string, p: Page = page) => p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  /** The labels of the controls in the provider's own section of the form. */
  const providerFieldLabels = async () => page.locator('section[data-provider] label').allTextContents();

  async function signIn(p: Page): Promise<void> {
    await p.goto(`${h.baseUrl}/portal/`);
    await p.getByLabel('API key').fill(sub.apiKey);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor({ timeout: WAIT });
  }

  /** A request to the ingest URL, as the sender makes it (no API key). */
  async function send(body: string, headers: Record<string, string>): Promise<number> {
    const res = await fetch(`${h.baseUrl}${ingestUrl}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  }

  beforeAll(async () => {
    buildPortal();
    [h, browser] = await Promise.all([startApiHarness({ worker: false }), launchChromium()]);
    shots = screenshotDir();
    sub = (await h.call('POST', '/v1/subscribers', { body: { name: 'Acme' } })).body;
    page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    await signIn(page);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  step('lists no sources yet, from the Sources link in the top bar', async () => {
    await page.getByRole('link', { name: 'Sources', exact: true }).click();
    await page.getByRole('heading', { name: 'Sources', level: 1 }).waitFor({ timeout: WAIT });
    await page.getByText('No sources yet.').waitFor({ timeout: WAIT });
  });

  step("the provider picker shows only the chosen sender's fields", async () => {
    await page.getByRole('link', { name: 'New source' }).click();
    await page.getByRole('heading', { name: 'New source', level: 1 }).waitFor({ timeout: WAIT });
    expect(await page.getByRole('radio', { name: 'GitHub' }).isChecked()).toBe(true);
    expect(await providerFieldLabels()).toEqual(['Webhook secret']);
    expect(await page.getByLabel('Event type (optional)').getAttribute('placeholder')).toBe('github.{header:X-GitHub-Event}.{$.action?}');

    await page.getByRole('radio', { name: 'Facebook / Meta' }).check();
    expect(await providerFieldLabels()).toEqual(['App secret', 'Verify token']);
    await page.getByRole('radio', { name: 'SendGrid' }).check();
    expect(await providerFieldLabels()).toEqual([
      'Verification key',
      'Clock tolerance (seconds) (optional)',
      ' Publish each event of a batch as its own event',
    ]);
    await page.getByRole('radio', { name: 'Twilio' }).check();
    expect(await providerFieldLabels()).toEqual(['Auth token']);
    await page.getByRole('radio', { name: 'Other: HMAC of the body' }).check();
    expect(await page.getByLabel('Event type', { exact: true }).count()).toBe(1);
  });

  step("shows the API's words by the field they name", async () => {
    await page.getByRole('radio', { name: 'SendGrid' }).check();
    await page.getByLabel('Name').fill('Mail events');
    await page.getByLabel('Verification key').fill('bm90IGEga2V5');
    await page.getByRole('button', { name: 'Create source' }).click();
    await page.locator('#verification-publicKey-error').filter({ hasText: 'is not a DER public key' }).waitFor({ timeout: WAIT });
    expect((await h.call('GET', `/v1/subscribers/${sub.id}/sources`)).body.data).toEqual([]);
  });

  step('creates a GitHub source and shows its URL, unverified', async () => {
    await page.getByRole('radio', { name: 'GitHub' }).check();
    // The key typed for SendGrid is not carried over to GitHub's secret.
    expect(await page.getByLabel('Webhook secret').inputValue()).toBe('');
    await page.getByLabel('Name').fill('acme/api on GitHub');
    await page.getByLabel('Webhook secret').fill(secret);
    await shot('create-source');
    await page.getByRole('button', { name: 'Create source' }).click();
    await page.getByRole('heading', { name: 'acme/api on GitHub', level: 1 }).waitFor({ timeout: WAIT });
    expect(await page.getByTestId('source-status').textContent()).toBe('unverified');
    const [created] = (await h.call('GET', `/v1/subscribers/${sub.id}/sources`)).body.data;
    expect(created.verification).toEqual({ type: 'github', configured: true });
    ingestUrl = created.ingestUrl;
    expect((await page.locator('.ingest-url').textContent())?.replace(/\s/g, '')).toBe(`${h.baseUrl}${ingestUrl}`);
    await page.getByText('No requests yet.').waitFor({ timeout: WAIT });
  });

  step('shows each request live: the ping, a forged delivery with its reason, a published one with its event', async () => {
    const ping = '{"zen":"Keep it logically awesome.","hook_id":1}';
    expect(await send(ping, { 'x-github-event': 'ping', 'x-hub-signature-256': await githubSignature(secret, ping) })).toBe(200);
    const body = '{"action":"opened","number":7}';
    expect(
      await send(body, { 'x-github-event': 'pull_request', 'x-hub-signature-256': await githubSignature('not-the-secret', body) }),
    ).toBe(401);
    expect(
      await send(body, {
        'x-github-event': 'pull_request',
        'x-github-delivery': 'd-1',
        'x-hub-signature-256': await githubSignature(secret, body),
      }),
    ).toBe(202);

    const rows = page.locator('tr[data-request-id]');
    await waitUntil(page, async () => (await rows.count()) === 3, 'three requests in the history');
    expect(await page.locator('tr[data-request-id]').evaluateAll((trs: any[]) => trs.map((tr) => tr.getAttribute('data-outcome')))).toEqual(
      ['published', 'rejected', 'ignored'],
    );
    expect(await rows.nth(1).locator('.request-reason').textContent()).toBe('signature_mismatch: X-Hub-Signature-256');
    expect(await rows.nth(2).locator('.request-reason').textContent()).toBe('ping answered');
    await waitUntil(page, async () => (await page.getByTestId('source-status').textContent()) === 'verified', 'the verified badge');
    publishedEventId = (await rows.nth(0).locator('.request-event').textContent()) ?? '';
    expect(publishedEventId).toMatch(/^evt_/);
    await shot('source-detail');
  });

  step('filters the history by outcome, and links a published request to its event', async () => {
    await page.getByLabel('Show').selectOption('rejected');
    await waitUntil(page, async () => (await page.locator('tr[data-request-id]').count()) === 1, 'only the rejected request');
    expect(await page.locator('tr[data-request-id]').getAttribute('data-outcome')).toBe('rejected');
    await page.getByLabel('Show').selectOption('');
    await page.getByRole('link', { name: publishedEventId }).click();
    await page.locator('pre').filter({ hasText: '"action": "opened"' }).first().waitFor({ timeout: WAIT });
    expect(await page.getByText('github.pull_request.opened').count()).toBeGreaterThan(0);
  });

  step('lists the source as verified, with what it publishes', async () => {
    await page.getByRole('link', { name: 'Sources', exact: true }).click();
    const card = page.locator('.source-card');
    await card.filter({ hasText: 'verified' }).waitFor({ timeout: WAIT });
    expect(await card.locator('.badge').textContent()).toBe('verified');
    expect(await card.locator('code').textContent()).toBe('github.{header:X-GitHub-Event}.{$.action?}');
    await shot('sources');
  });

  step('fits a 375 px wide screen without horizontal scrolling', async () => {
    const mobile = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true });
    try {
      const p = await mobile.newPage();
      await signIn(p);
      for (const [hash, name] of [
        ['#/sources', 'mobile-sources'],
        ['#/sources/new', 'mobile-create-source'],
        [`#/sources/${(await h.call('GET', `/v1/subscribers/${sub.id}/sources`)).body.data[0].id}`, 'mobile-source-detail'],
      ] as const) {
        await p.goto(`${h.baseUrl}/portal/${hash}`);
        await p.locator('main h1').waitFor({ timeout: WAIT });
        if (name === 'mobile-source-detail') await p.locator('tr[data-request-id]').first().waitFor({ timeout: WAIT });
        await shot(name, p);
        expect({ name, overflow: await horizontalOverflow(p) }).toEqual({ name, overflow: 0 });
      }
    } finally {
      await mobile.close();
    }
  });

  step('deletes the source: its URL answers 404 from then on', async () => {
    await page.locator('.source-card a').first().click();
    await page.getByRole('button', { name: 'Delete source' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete source' }).click();
    await page.getByText('Source deleted').waitFor({ timeout: WAIT });
    expect(await send('{}', {})).toBe(404);
  });

  step('lists 100 sources a page, oldest first, and the rest on "Load more sources"', async () => {
    expect((await h.call('PATCH', `/v1/subscribers/${sub.id}`, { body: { limits: { maxSources: 150 } } })).status).toBe(200);
    const verification = { type: 'header', headers: { 'x-source-token': 'paged-secret-value' } };
    for (let i = 0; i < 101; i += 10) {
      const batch = Array.from({ length: Math.min(10, 101 - i) }, (_, j) =>
        h.call('POST', `/v1/subscribers/${sub.id}/sources`, { body: { name: `paged ${i + j}`, eventType: 'source.paged', verification } }),
      );
      for (const res of await Promise.all(batch)) expect(res.status).toBe(201);
    }
    await page.getByRole('link', { name: 'Sources', exact: true }).click();
    const cards = page.locator('.source-card');
    await waitUntil(page, async () => (await cards.count()) === 100, 'the first page of 100 sources');
    await page.getByRole('button', { name: 'Load more sources' }).click();
    await waitUntil(page, async () => (await cards.count()) === 101, 'all 101 sources');
    expect(await page.getByRole('button', { name: 'Load more sources' }).count()).toBe(0);
    const shown = await cards.evaluateAll((els: any[]) => els.map((el) => el.getAttribute('data-source-id')));
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await h.call('GET', `/v1/subscribers/${sub.id}/sources?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      listed.push(...res.body.data.map((s: { id: string }) => s.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(shown).toEqual(listed);
  });
});
