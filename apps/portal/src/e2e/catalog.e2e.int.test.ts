import { join } from 'node:path';
import type { TestReceiver } from '@hookrelay/testing';
import type { Browser, Page } from 'playwright-core';
import type { ApiHarness } from '../../../api/src/api-harness';
import { horizontalOverflow, screenshotDir, waitUntil } from './browser';
import { usePortalStage } from './portal-stage';

// Issue 17 in the portal: the event catalog page shows operator-defined types from the live
// catalog, and "Send test event" sends a chosen type with its first example, in headless Chromium
// against the real API and a real receiver on 127.0.0.1.

const WAIT = 10_000;
jest.setTimeout(30_000);

const example = { orderId: 'ord_84213', amount: { value: 4999, currency: 'EUR' }, paidAt: '2024-05-14T09:21:07.000Z' };

describe("the portal's event catalog", () => {
  let h: ApiHarness;
  let receiver: TestReceiver;
  let browser: Browser;
  let page: Page;
  let sub: { id: string; apiKey: string };
  let endpointId: string;
  /** docs/screenshots with UPDATE_SCREENSHOTS=1, else a temp folder: every run takes them. */
  const shots = screenshotDir();

  const define = async (body: Record<string, unknown>) => {
    const res = await h.call('POST', '/v1/event-types', { body });
    expect(res.status).toBe(201);
  };

  async function signIn(p: Page): Promise<void> {
    await p.goto(`${h.baseUrl}/portal/`);
    await p.getByLabel('API key').fill(sub.apiKey);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor({ timeout: WAIT });
  }

  const stage = usePortalStage({ worker: false }, { status: 200, body: 'ok' });

  beforeAll(async () => {
    ({ h, receiver, browser } = stage);
    sub = (await h.call('POST', '/v1/subscribers', { body: { name: 'Catalog reader' } })).body;
    endpointId = (
      await h.call('POST', `/v1/subscribers/${sub.id}/endpoints`, {
        key: sub.apiKey,
        body: { url: `${receiver.url}/orders`, eventTypes: ['order.*'] },
      })
    ).body.id;
    await define({
      type: 'order.paid',
      description: 'An order was paid in full; amounts are in minor units.',
      schema: {
        type: 'object',
        required: ['orderId', 'amount'],
        properties: { orderId: { type: 'string' }, amount: { type: 'object' }, paidAt: { type: 'string', format: 'date-time' } },
      },
      examples: [example, { orderId: 'ord_2', amount: { value: 1, currency: 'USD' } }],
    });
    await define({ type: 'order.legacy', description: 'The old order event.', deprecated: true, examples: [{ orderId: 'ord_old' }] });
    await define({ type: 'order.gone', description: 'Never to be seen.' });
    await h.call('DELETE', '/v1/event-types/order.gone');
    page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    await signIn(page);
  }, 90_000);

  it('shows a custom type with its description, example and collapsible schema, grouped by namespace', async () => {
    await page.getByRole('link', { name: 'Event types' }).click();
    await page.getByRole('heading', { name: 'Event types', level: 1 }).waitFor({ timeout: WAIT });
    const orders = page.getByRole('region', { name: 'order.' });
    const paid = orders.locator('[data-event-type="order.paid"]');
    await paid.waitFor({ timeout: WAIT });
    expect(await paid.locator('.catalog-description').textContent()).toBe('An order was paid in full; amounts are in minor units.');
    expect(JSON.parse((await paid.locator('pre.catalog-example').textContent()) ?? '')).toEqual(example);
    // The schema is folded until asked for.
    expect(await paid.locator('pre.catalog-schema').isVisible()).toBe(false);
    await paid.getByText('Schema', { exact: true }).click();
    expect(JSON.parse((await paid.locator('pre.catalog-schema').textContent()) ?? '')).toMatchObject({ required: ['orderId', 'amount'] });

    expect(await orders.locator('[data-event-type="order.legacy"] .badge-deprecated').textContent()).toBe('deprecated');
    expect(await paid.locator('.badge-deprecated').count()).toBe(0);
    expect(await page.locator('[data-event-type="order.gone"]').count()).toBe(0);
    // The built-in catalog is there too, in its own groups.
    await page.getByRole('region', { name: 'incident.' }).locator('[data-event-type="incident.triggered"]').waitFor({ timeout: WAIT });
    await page.screenshot({ path: join(shots, 'event-types.png') });
  });

  it('follows the live catalog: a type defined after sign-in appears in the page and the endpoint form', async () => {
    await define({ type: 'order.refunded', description: 'Money went back.', examples: [{ orderId: 'ord_3' }] });
    await page.getByRole('link', { name: 'Endpoints', exact: true }).click();
    await page.getByRole('link', { name: 'Event types' }).click();
    await page.locator('[data-event-type="order.refunded"]').waitFor({ timeout: WAIT });

    await page.getByRole('link', { name: 'Endpoints', exact: true }).click();
    await page.getByRole('link', { name: 'New endpoint' }).click();
    await page.getByText(/Browse the catalog \(\d+ types\)/).click();
    await page.getByRole('button', { name: 'Add order.refunded' }).waitFor({ timeout: WAIT });
    await page.getByRole('button', { name: 'Add order.paid' }).waitFor({ timeout: WAIT });
  });

  it('sends a test event of a chosen type with its first example, and the receiver gets exactly that payload', async () => {
    await page.goto(`${h.baseUrl}/portal/#/endpoints/${endpointId}`);
    await page.getByLabel('Test event type').selectOption('order.paid');
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.locator('.test-result').filter({ hasText: 'HTTP 200' }).waitFor({ timeout: WAIT });
    await waitUntil(page, async () => receiver.requests.length === 1, 'the test event at the receiver');
    const [request] = receiver.requests;
    expect(request!.headers['x-hookrelay-event-type']).toBe('order.paid');
    expect(request!.url).toBe('/orders');
    expect(JSON.parse(request!.body.toString('utf8'))).toEqual(example);
    // Archived types are not offered; deprecated ones are, marked.
    const options = await page.getByLabel('Test event type').locator('option').allTextContents();
    expect(options).toEqual(expect.arrayContaining(['hookrelay.test', 'order.paid', 'order.legacy (deprecated)', 'incident.triggered']));
    expect(options.some((o) => o.startsWith('order.gone') || o === 'custom.*' || o === 'endpoint.disabled')).toBe(false);
  });

  it('fits a 375 px wide screen without horizontal scrolling', async () => {
    const mobile = await browser.newContext({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true });
    try {
      const p = await mobile.newPage();
      await signIn(p);
      await p.goto(`${h.baseUrl}/portal/#/catalog`);
      await p.locator('[data-event-type="order.paid"]').waitFor({ timeout: WAIT });
      await p.locator('[data-event-type="order.paid"]').getByText('Schema', { exact: true }).click();
      expect(await horizontalOverflow(p)).toBe(0);
      await p.screenshot({ path: join(shots, 'mobile-event-types.png') });
    } finally {
      await mobile.close();
    }
  });
});
