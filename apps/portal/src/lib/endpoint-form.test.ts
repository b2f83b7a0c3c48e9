import type { Endpoint } from './api-types';
import { createBody, formFromEndpoint, newEndpointForm, patchBody } from './endpoint-form';

const endpoint: Endpoint = {
  id: 'ep_1',
  subscriberId: 'sub_1',
  url: 'https://example.com/hooks',
  description: 'orders',
  eventTypes: ['incident.*'],
  signature: { scheme: 'x-hub-signature', algorithm: 'sha256', prefix: false },
  headers: { 'X-Team': 'payments' },
  auth: { type: 'basic', username: 'ops', configured: true },
  retry: { maxRetries: 3, intervalMs: 60000, backoff: 'fixed' },
  timeoutMs: 10000,
  rateLimit: null,
  status: 'active',
  verify: 'none',
  secretRotation: null,
  createdAt: 1,
  updatedAt: 1,
};

describe('createBody', () => {
  it('leaves out what the person left empty, so the server defaults apply', () => {
    const form = { ...newEndpointForm(), url: ' https://example.com/h ', maxRetries: '', timeoutSeconds: '' };
    expect(createBody(form)).toEqual({
      url: 'https://example.com/h',
      signature: { scheme: 'x-hub-signature', algorithm: 'sha256', prefix: false },
      headers: {},
      auth: { type: 'none' },
      retry: { intervalMs: 60000, backoff: 'fixed' },
      verify: 'none',
    });
  });

  it('sends only the chosen auth type fields and the custom headers with names', () => {
    const form = newEndpointForm();
    form.auth = { ...form.auth, type: 'bearer', token: 't0k', username: 'ignored' };
    form.headers = [
      { name: 'X-Team', value: 'payments' },
      { name: '', value: '' },
    ];
    form.scheme = 'standard-webhooks';
    const body = createBody(form);
    expect(body.auth).toEqual({ type: 'bearer', token: 't0k' });
    expect(body.headers).toEqual({ 'X-Team': 'payments' });
    expect(body.signature).toEqual({ scheme: 'standard-webhooks' });
  });

  it('sends a rate limit only when one is typed', () => {
    expect(createBody({ ...newEndpointForm(), ratePerSecond: ' 20 ' }).rateLimit).toEqual({ perSecond: 20 });
    expect(createBody({ ...newEndpointForm(), ratePerSecond: '0.5' }).rateLimit).toEqual({ perSecond: 0.5 });
    expect(createBody(newEndpointForm())).not.toHaveProperty('rateLimit');
  });

  it('passes text that is not a number on, for the API to name', () => {
    const body = createBody({ ...newEndpointForm(), maxRetries: 'lots', timeoutSeconds: 'soon' });
    expect(body.retry).toMatchObject({ maxRetries: 'lots' });
    expect(body.timeoutMs).toBe('soon');
  });

  it('turns the seconds typed for the interval and the timeout into the milliseconds the API takes', () => {
    const body = createBody({ ...newEndpointForm(), intervalSeconds: '90', timeoutSeconds: '2.5' });
    expect(body.retry).toMatchObject({ intervalMs: 90_000 });
    expect(body.timeoutMs).toBe(2500);
    expect(newEndpointForm()).toMatchObject({ intervalSeconds: '60', timeoutSeconds: '10' });
  });
});

describe('patchBody', () => {
  it("shows the endpoint's interval and timeout in seconds", () => {
    expect(formFromEndpoint({ ...endpoint, timeoutMs: 1500 })).toMatchObject({ intervalSeconds: '60', timeoutSeconds: '1.5' });
  });

  it('is empty when nothing changed (auth secrets are write-only and not sent back)', () => {
    expect(patchBody(formFromEndpoint(endpoint), endpoint)).toEqual({});
  });

  it('sets, changes and removes the rate limit (null), and leaves an unchanged one out', () => {
    expect(patchBody({ ...formFromEndpoint(endpoint), ratePerSecond: '20' }, endpoint)).toEqual({ rateLimit: { perSecond: 20 } });
    const limited = { ...endpoint, rateLimit: { perSecond: 20 } };
    expect(patchBody(formFromEndpoint(limited), limited)).toEqual({});
    expect(patchBody({ ...formFromEndpoint(limited), ratePerSecond: '5' }, limited)).toEqual({ rateLimit: { perSecond: 5 } });
    expect(patchBody({ ...formFromEndpoint(limited), ratePerSecond: '' }, limited)).toEqual({ rateLimit: null });
  });

  it('names only the changed fields, and a partial retry policy', () => {
    const form = formFromEndpoint(endpoint);
    form.eventTypes.push('receipt.sms.*');
    form.intervalSeconds = '30';
    form.headers = [];
    expect(patchBody(form, endpoint)).toEqual({ eventTypes: ['incident.*', 'receipt.sms.*'], retry: { intervalMs: 30000 }, headers: {} });
  });

  it('sends the whole auth config once it was touched', () => {
    const form = formFromEndpoint(endpoint);
    form.authChanged = true;
    form.auth.password = 'new';
    expect(patchBody(form, endpoint)).toEqual({ auth: { type: 'basic', username: 'ops', password: 'new' } });
  });
});
