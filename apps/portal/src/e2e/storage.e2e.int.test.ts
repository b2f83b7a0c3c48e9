import { usePortalStage } from './portal-stage';

// The portal for a subscriber at its storage limit (headless Chromium, the real API): every page
// says that new events are refused, and, a tenth past the limit, that deliveries are paused.

const WAIT = 10_000;
jest.setTimeout(30_000);

describe('the portal when the subscriber has used its storage', () => {
  const stage = usePortalStage({ worker: false }, { status: 200 });

  it('says so on every page: events refused at the limit, deliveries paused a tenth past it, nothing once it is raised', async () => {
    const { h, browser } = stage;
    const sub = (await h.call('POST', '/v1/subscribers', { body: { name: 'Full' } })).body as { id: string; apiKey: string };
    const base = `/v1/subscribers/${sub.id}`;
    expect((await h.call('POST', `${base}/endpoints`, { key: sub.apiKey, body: { url: 'http://127.0.0.1:9/hook' } })).status).toBe(201);
    expect((await h.call('POST', `${base}/events`, { body: { type: 'custom.order.paid', payload: { n: 1 } } })).status).toBe(202);
    const used = (await h.call('GET', base)).body.usage.storedBytes as number;
    const setLimit = async (maxStoredBytes: number | null) =>
      expect((await h.call('PATCH', base, { body: { limits: { maxStoredBytes } } })).status).toBe(200);
    await setLimit(used);

    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const page = await context.newPage();
      const notice = () => page.locator('.storage-notice');
      await page.goto(`${h.baseUrl}/portal/`);
      await page.getByLabel('API key').fill(sub.apiKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor({ timeout: WAIT });
      await notice().filter({ hasText: 'Storage is full' }).waitFor({ timeout: WAIT });
      expect(await notice().textContent()).toContain('new events are refused');

      // A tenth past the limit: the next page read says deliveries wait.
      await setLimit(Math.floor((used * 10) / 11));
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Deliveries' }).click();
      await notice().filter({ hasText: 'Deliveries are paused' }).waitFor({ timeout: WAIT });

      // Raised: no notice on the next page.
      await setLimit(null);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
      await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor({ timeout: WAIT });
      await notice().waitFor({ state: 'detached', timeout: WAIT });
    } finally {
      await context.close();
    }
  });
});
