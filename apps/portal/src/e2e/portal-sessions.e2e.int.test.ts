import { join } from 'node:path';
import type { TestReceiver } from '@hookrelay/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ApiHarness } from '../../../api/src/api-harness';
import { horizontalOverflow, screenshotDir, waitUntil, sequentialSteps } from './browser';
import { usePortalStage } from './portal-stage';

// Portal sessions end to end: a platform hands a subscriber a magic link (POST .../portal-sessions),
// the subscriber opens it in Chromium, sends a test event of a chosen type, replays an event from
// the Events view, and sees the expiry page when the link runs out. The real API, worker and Redis,
// delivering to a receiver on 127.0.0.1.

const WAIT = 10_000;
jest.setTimeout(30_000);

/** The steps below share one page, each starting where the previous one ended. */
const step = sequentialSteps();

describe('portal session links', () => {
  let h: ApiHarness;
  let receiver: TestReceiver;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let shots: string;
  /** The API's clock runs this far ahead of the browser's: moved to make a session expire. */
  let skewMs = 0;
  let sid = '';
  let publisherKey = '';
  let endpointId = '';
  let incidentExample: unknown;
  let replayedEventId = '';

  const portal = () => `${h.baseUrl}/portal/`;
  const shot = (name: string, p: Page = page) => p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  async function createSession(body: Record<string, unknown> = {}) {
    const res = await h.call('POST', `/v1/subscribers/${sid}/portal-sessions`, { key: publisherKey, body });
    expect(res.status).toBe(201);
    return res.body as { id: string; url: string; token: string; expiresAt: number };
  }
  const requestsFor = (eventId: string) => receiver.requests.filter((r) => r.headers['x-hookrelay-event-id'] === eventId);

  const stage = usePortalStage({ now: () => Date.now() + skewMs, platformName: 'Acme Cloud' }, { status: 200 });

  beforeAll(async () => {
    shots = screenshotDir();
    ({ h, receiver, browser } = stage);
    sid = (await h.call('POST', '/v1/subscribers', { body: { name: 'Globex Support' } })).body.id;
    publisherKey = (await h.call('POST', '/v1/api-keys', { body: { role: 'publisher' } })).body.apiKey;
    endpointId = (
      await h.call('POST', `/v1/subscribers/${sid}/endpoints`, {
        body: { url: `${receiver.url}/globex/incidents`, description: 'On-call paging', eventTypes: ['incident.*', 'custom.*'] },
      })
    ).body.id;
    const catalog = (await h.call('GET', '/v1/event-types')).body.data as Array<{ type: string; example: unknown }>;
    incidentExample = catalog.find((t) => t.type === 'incident.acknowledged')!.example;
    // History for the Events view: three events, one of them to be replayed.
    for (const [type, payload] of [
      ['custom.order.paid', { orderId: 'o-1', amount: 12.5 }],
      ['custom.order.refunded', { orderId: 'o-1' }],
      ['custom.order.shipped', { orderId: 'o-2' }],
    ] as const) {
      const res = await h.call('POST', `/v1/subscribers/${sid}/events`, { key: publisherKey, body: { type, payload } });
      if (type === 'custom.order.refunded') replayedEventId = res.body.id;
    }
    await receiver.waitForRequests(3);
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
  }, 90_000);

  step('opens from the link: the token leaves the address bar, endpoints are listed under the subscriber name', async () => {
    const session = await createSession({ ttlSeconds: 3600 });
    expect(session.url).toBe(`${h.baseUrl}/portal#session=${session.token}`);
    await page.goto(session.url);
    await page.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor({ timeout: WAIT });
    expect(page.url()).toBe(`${h.baseUrl}/portal/#/endpoints`);
    expect(page.url()).not.toContain(session.token);
    // Replaced, not pushed: going back leaves the portal instead of landing on the link.
    await page.goBack();
    expect(page.url()).toBe('about:blank');
    await page.goForward();
    await page.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor({ timeout: WAIT });
    expect(page.url()).toBe(`${h.baseUrl}/portal/#/endpoints`);
    const stored = JSON.parse(await page.evaluate<string>('sessionStorage.getItem("hookrelay.portal.session")'));
    expect(stored).toMatchObject({
      key: session.token,
      subscriberId: sid,
      subscriberName: 'Globex Support',
      link: { sessionId: session.id, expiresAt: session.expiresAt },
    });
    expect(await page.locator('.topbar .subscriber').textContent()).toBe('Globex Support');
    expect(await page.locator('.link-clock').textContent()).toMatch(/Link expires in (59|60) min/);
    await page.locator(`[data-endpoint-id="${endpointId}"]`).getByText('On-call paging').waitFor({ timeout: WAIT });
    // A reload keeps the session (the tab's storage), not the link.
    await page.reload();
    await page.locator(`[data-endpoint-id="${endpointId}"]`).waitFor({ timeout: WAIT });
  });

  step('sends a test event of the chosen type, which the receiver gets with its catalog example', async () => {
    await page.locator(`[data-endpoint-id="${endpointId}"]`).getByRole('link', { name: 'Details and actions' }).click();
    const picker = page.getByLabel('Test event type');
    await picker.waitFor({ timeout: WAIT });
    // The endpoint's own types first.
    expect(await picker.locator('optgroup').first().getAttribute('label')).toBe('Types this endpoint receives');
    await picker.selectOption('incident.acknowledged');
    const before = receiver.requests.length;
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page
      .locator('.test-result')
      .filter({ hasText: 'incident.acknowledged' })
      .filter({ hasText: 'HTTP 200' })
      .waitFor({ timeout: WAIT });
    const [sent] = receiver.requests.slice(before);
    expect(sent!.headers['x-hookrelay-event-type']).toBe('incident.acknowledged');
    expect(JSON.parse(sent!.body.toString())).toEqual(incidentExample);
  });

  step('replays an event from the Events view, and the receiver gets it again', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor({ timeout: WAIT });
    const row = page.locator(`[data-event-id="${replayedEventId}"]`);
    await row.locator('[data-state="delivered"]').filter({ hasText: '1 delivered' }).waitFor({ timeout: WAIT });
    expect(await page.locator('.event-table thead th').allTextContents()).toEqual(['Event type', 'Published', 'Deliveries', 'Actions']);
    await shot('events');
    expect(requestsFor(replayedEventId)).toHaveLength(1);
    await row.getByRole('button', { name: /^Replay/ }).click();
    await page.getByRole('status').filter({ hasText: 'custom.order.refunded replayed: 1 delivery queued' }).waitFor({ timeout: WAIT });
    await waitUntil(page, async () => requestsFor(replayedEventId).length === 2, 'the replayed event at the receiver');
    const [first, again] = requestsFor(replayedEventId);
    expect(again!.body.toString()).toBe(first!.body.toString());

    // The event's own page: its payload and its delivery, replayed (two attempts).
    await row.getByRole('link', { name: 'custom.order.refunded' }).click();
    await page.locator('pre.payload').filter({ hasText: '"orderId": "o-1"' }).waitFor({ timeout: WAIT });
    await waitUntil(
      page,
      async () =>
        ((await page.locator('.event-deliveries [data-state="delivered"]').textContent({ timeout: 500 })) ?? '').includes('2 attempts'),
      "the replay in the event's delivery",
    );
    await shot('event-detail');
  });

  step('lays out the Events and event pages at 375 px without horizontal scrolling', async () => {
    const mobile = await browser.newContext({
      viewport: { width: 375, height: 812 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    try {
      const p = await mobile.newPage();
      const session = await createSession();
      await p.goto(session.url);
      await p.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor({ timeout: WAIT });
      for (const [view, ready, name] of [
        ['#/events', `[data-event-id="${replayedEventId}"] [data-state="delivered"]`, 'mobile-events'],
        [`#/events/${replayedEventId}`, 'pre.payload', 'mobile-event-detail'],
      ] as const) {
        await p.goto(`${portal()}${view}`);
        await p.locator(ready).first().waitFor({ timeout: WAIT });
        expect({ view, overflow: await horizontalOverflow(p) }).toEqual({ view, overflow: 0 });
        await shot(name, p);
      }
    } finally {
      await mobile.close();
    }
  });

  step('offers no changes in a read-only session, and the API refuses them', async () => {
    const readOnly = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const p = await readOnly.newPage();
      const session = await createSession({ readOnly: true });
      await p.goto(session.url);
      await p.locator(`[data-endpoint-id="${endpointId}"]`).waitFor({ timeout: WAIT });
      expect(await p.locator('.link-clock .badge-readonly').textContent()).toBe('read-only');
      expect(await p.getByRole('link', { name: 'New endpoint' }).count()).toBe(0);
      await p.goto(`${portal()}#/endpoints/${endpointId}`);
      await p.getByText('This link is read-only').waitFor({ timeout: WAIT });
      expect(await p.getByRole('button', { name: 'Send test event' }).count()).toBe(0);
      await shot('read-only-endpoint', p);
      await p.setViewportSize({ width: 375, height: 812 });
      expect(await horizontalOverflow(p)).toBe(0);
      await shot('mobile-read-only-endpoint', p);
      expect((await h.call('POST', `/v1/subscribers/${sid}/endpoints/${endpointId}/test`, { key: session.token, body: {} })).status).toBe(
        403,
      );
    } finally {
      await readOnly.close();
    }
  });

  step('shows the expiry page, naming the platform, once the session has expired', async () => {
    // The API's clock moves past the hour: the next poll gets a 401, and the page says what to do.
    skewMs = 3_601_000;
    await page.getByRole('heading', { name: 'This link has expired' }).waitFor({ timeout: WAIT });
    expect(await page.locator('main').textContent()).toContain('Ask Acme Cloud for a new one.');
    expect(
      await page
        .getByRole('alert')
        .filter({ hasText: /HTTP|401|unauthorized/ })
        .count(),
    ).toBe(0);
    expect(await page.evaluate('sessionStorage.getItem("hookrelay.portal.session")')).toBeNull();
    await shot('link-expired');
    skewMs = 0;
  });

  step(
    'shows the expiry page for a link opened after it expired, or revoked, with the token still taken out of the address bar',
    async () => {
      const expired = await createSession({ ttlSeconds: 60 });
      const revoked = await createSession();
      expect((await h.call('DELETE', `/v1/subscribers/${sid}/portal-sessions/${revoked.id}`, { key: publisherKey })).status).toBe(204);
      skewMs = 61_000;
      const mobile = await browser.newContext({
        viewport: { width: 375, height: 812 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
      });
      try {
        const p = await mobile.newPage();
        for (const link of [expired.url, revoked.url]) {
          await p.goto(link);
          await p.getByRole('heading', { name: 'This link has expired' }).waitFor({ timeout: WAIT });
          expect(p.url()).not.toContain('session=');
        }
        expect(await horizontalOverflow(p)).toBe(0);
        await shot('mobile-link-expired', p);
      } finally {
        skewMs = 0;
        await mobile.close();
      }
    },
  );

  step('expires on time in the browser too, without waiting for a request', async () => {
    const clockContext = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const p = await clockContext.newPage();
      await p.clock.install();
      const session = await createSession({ ttlSeconds: 60 });
      await p.goto(session.url);
      await p.locator(`[data-endpoint-id="${endpointId}"]`).waitFor({ timeout: WAIT });
      expect(await p.locator('.link-clock').textContent()).toMatch(/Link expires in (59|60) s|1 min/);
      await p.clock.fastForward(61_000);
      await p.getByRole('heading', { name: 'This link has expired' }).waitFor({ timeout: WAIT });
    } finally {
      await clockContext.close();
    }
  });

  step('signs out of a link by ending its session', async () => {
    const signOut = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const p = await signOut.newPage();
      const session = await createSession();
      await p.goto(session.url);
      await p.locator(`[data-endpoint-id="${endpointId}"]`).waitFor({ timeout: WAIT });
      await p.getByRole('button', { name: 'Sign out' }).click();
      await p.getByRole('heading', { name: 'You have signed out' }).waitFor({ timeout: WAIT });
      await waitUntil(
        p,
        async () => (await h.call('GET', '/v1/whoami', { key: session.token })).status === 401,
        'the session to be revoked',
      );
    } finally {
      await signOut.close();
    }
  });
});
