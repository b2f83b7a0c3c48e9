import { createHmac, randomBytes } from 'node:crypto';
import { verificationSchema, type SourceVerification } from './source-input';
import { sameSecret, verifyInbound } from './verify-request';
import { githubSignature, slackHeaders, standardWebhooksHeaders, stripeSignature, twilioSignature } from './vendor-signers';

const config = (raw: unknown): SourceVerification => verificationSchema.parse(raw);
const NOW = Math.floor(Date.now() / 1000);
const check = (v: SourceVerification, headers: Record<string, string>, body: string | Buffer, nowSeconds = NOW) =>
  verifyInbound(v, { headers, body: Buffer.isBuffer(body) ? body : Buffer.from(body), nowSeconds }, false);

describe('verifying inbound requests', () => {
  describe('hmac (GitHub X-Hub-Signature-256)', () => {
    const github = config({
      type: 'hmac',
      header: 'X-Hub-Signature-256',
      algorithm: 'sha256',
      encoding: 'hex',
      prefix: 'sha256=',
      secret: "It's a Secret to Everybody",
    });

    it("accepts GitHub's documented test vector", () => {
      const header = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
      expect(check(github, { 'x-hub-signature-256': header }, 'Hello, World!')).toEqual({ ok: true });
    });

    it('accepts a signature made by @octokit/webhooks-methods', async () => {
      const body = JSON.stringify({ action: 'opened', number: 7 });
      expect(check(github, { 'x-hub-signature-256': await githubSignature("It's a Secret to Everybody", body) }, body)).toEqual({
        ok: true,
      });
    });

    it.each([
      [
        'a tampered body',
        { 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' },
        'Hello, World?',
      ],
      ['a missing header', {}, 'Hello, World!'],
      ['a missing prefix', { 'x-hub-signature-256': '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' }, 'Hello, World!'],
      ['a truncated signature', { 'x-hub-signature-256': 'sha256=757107ea' }, 'Hello, World!'],
    ])('refuses %s', (_name, headers, body) => {
      expect(check(github, headers as Record<string, string>, body)).toMatchObject({ ok: false });
    });

    it('checks base64 HMAC-SHA512 without a prefix', () => {
      const v = config({ type: 'hmac', header: 'x-signature', algorithm: 'sha512', encoding: 'base64', secret: 'k' });
      const mac = createHmac('sha512', 'k').update('{}').digest('base64');
      expect(check(v, { 'x-signature': mac }, '{}')).toEqual({ ok: true });
      expect(check(v, { 'x-signature': mac.toLowerCase() }, '{}')).toMatchObject({ ok: false });
    });
  });

  describe('stripe', () => {
    const secret = `whsec_${randomBytes(24).toString('hex')}`;
    const v = config({ type: 'stripe', secret });

    it('accepts a header from stripe.webhooks.generateTestHeaderString', () => {
      expect(check(v, { 'stripe-signature': stripeSignature(secret, '{"id":"evt_1"}') }, '{"id":"evt_1"}')).toMatchObject({ ok: true });
    });

    it('refuses a replayed timestamp outside the tolerance, and accepts it inside a wider one', () => {
      const old = NOW - 301;
      const header = stripeSignature(secret, '{}', old);
      expect(check(v, { 'stripe-signature': header }, '{}')).toEqual({
        ok: false,
        code: 'timestamp_outside_tolerance',
        reason: 'timestamp_outside_tolerance: Stripe-Signature t= is more than 300 s from now',
      });
      expect(check(config({ type: 'stripe', secret, toleranceSeconds: 600 }), { 'stripe-signature': header }, '{}')).toMatchObject({
        ok: true,
      });
    });

    it('refuses a signature made with another secret', () => {
      expect(check(v, { 'stripe-signature': stripeSignature('whsec_other', '{}') }, '{}')).toMatchObject({ ok: false });
    });

    it('looks at no more than 10 v1= candidates (a 16 KB header of them cost ~20 ms to refuse)', () => {
      const good = stripeSignature(secret, '{}'); // t=<now>,v1=<hex>[,v0=...]
      const [t, v1] = good.split(',');
      expect(check(v, { 'stripe-signature': [t, ...Array(10).fill('v1=00'), v1].join(',') }, '{}')).toMatchObject({
        ok: false,
        code: 'signature_mismatch',
      });
      expect(check(v, { 'stripe-signature': [t, ...Array(9).fill('v1=00'), v1].join(',') }, '{}')).toMatchObject({ ok: true });
    });
  });

  describe('standard-webhooks', () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const v = config({ type: 'standard-webhooks', secret });

    it('accepts headers from the standardwebhooks library and refuses a changed body', () => {
      const headers = standardWebhooksHeaders(secret, 'msg_1', '{"a":1}');
      expect(check(v, headers, '{"a":1}')).toMatchObject({ ok: true });
      expect(check(v, headers, '{"a":2}')).toEqual({
        ok: false,
        code: 'signature_mismatch',
        reason: 'signature_mismatch: webhook-signature',
      });
    });

    it('looks at no more than 10 signatures (a 16 KB header of 3,200 cost ~1.3 ms to refuse)', () => {
      const headers = standardWebhooksHeaders(secret, 'msg_1', '{}');
      const good = headers['webhook-signature'];
      const signedAfter = (n: number) => ({ ...headers, 'webhook-signature': [...Array(n).fill('v1,AAAA'), good].join(' ') });
      expect(check(v, signedAfter(10), '{}')).toMatchObject({ ok: false, code: 'signature_mismatch' });
      expect(check(v, signedAfter(9), '{}')).toMatchObject({ ok: true });
    });

    it('refuses a timestamp ten minutes old', () => {
      const headers = standardWebhooksHeaders(secret, 'msg_1', '{}', new Date(Date.now() - 600_000));
      expect(check(v, headers, '{}')).toEqual({
        ok: false,
        code: 'timestamp_outside_tolerance',
        reason: 'timestamp_outside_tolerance: webhook-timestamp is more than 300 s from now',
      });
    });
  });

  describe('slack', () => {
    it("accepts Slack's documented example request", () => {
      const body =
        'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
      const headers = {
        'x-slack-request-timestamp': '1531420618',
        'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      };
      expect(
        check(config({ type: 'slack', signingSecret: '8f742231b10e8888abcd99yyyzzz85a5' }), headers, body, 1531420618 + 10),
      ).toMatchObject({ ok: true });
    });

    it('refuses a request older than five minutes even when correctly signed', () => {
      const v = config({ type: 'slack', signingSecret: 's3cret' });
      expect(check(v, slackHeaders('s3cret', '{}', NOW - 301), '{}')).toEqual({
        ok: false,
        code: 'timestamp_outside_tolerance',
        reason: 'timestamp_outside_tolerance: X-Slack-Request-Timestamp is more than 300 s from now',
      });
      expect(check(v, slackHeaders('s3cret', '{}', NOW - 10), '{}')).toMatchObject({ ok: true });
    });
  });

  describe('header and basic', () => {
    const header = config({ type: 'header', headers: { 'X-Token': 'abc', 'X-Team': 'ops' } });

    it('needs every header with exactly its value', () => {
      expect(check(header, { 'x-token': 'abc', 'x-team': 'ops' }, '')).toEqual({ ok: true });
      expect(check(header, { 'x-token': 'abc', 'x-team': 'OPS' }, '')).toMatchObject({ ok: false });
      expect(check(header, { 'x-token': 'abc' }, '')).toEqual({ ok: false, code: 'missing_header', reason: 'missing_header: x-team' });
    });

    it('checks basic credentials, with a colon allowed in the password', () => {
      const v = config({ type: 'basic', username: 'jira', password: 'pa:ss' });
      const auth = (s: string) => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` });
      expect(check(v, auth('jira:pa:ss'), '')).toEqual({ ok: true });
      expect(check(v, auth('jira:pa'), '')).toMatchObject({ ok: false });
      expect(check(v, auth('other:pa:ss'), '')).toMatchObject({ ok: false });
    });
  });

  describe('replay keys of accepted requests', () => {
    it('keys a Stripe request by its verified signature until its timestamp leaves the tolerance', () => {
      const secret = 'whsec_replay_test_secret';
      const v = config({ type: 'stripe', secret, toleranceSeconds: 300 });
      const header = stripeSignature(secret, '{}', NOW - 100);
      const expected = createHmac('sha256', secret)
        .update(`${NOW - 100}.{}`)
        .digest('hex');
      expect(check(v, { 'stripe-signature': header }, '{}')).toEqual({
        ok: true,
        replay: { key: `stripe:${expected}`, windowMs: 201_000, what: 'stripe signature already accepted' },
      });
      // A timestamp ahead of the clock is accepted as long, and remembered as long.
      expect(check(v, { 'stripe-signature': stripeSignature(secret, '{}', NOW + 300) }, '{}')).toMatchObject({
        replay: { windowMs: 601_000 },
      });
    });

    it("keys Slack's documented example by its signature for the rest of the five minutes", () => {
      const body =
        'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
      const headers = {
        'x-slack-request-timestamp': '1531420618',
        'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      };
      expect(check(config({ type: 'slack', signingSecret: '8f742231b10e8888abcd99yyyzzz85a5' }), headers, body, 1531420618 + 10)).toEqual({
        ok: true,
        replay: {
          key: 'slack:v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
          windowMs: 291_000,
          what: 'slack signature already accepted',
        },
      });
    });

    it('keys Standard Webhooks by webhook-id for a day, whatever the timestamp of the retry', () => {
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      const v = config({ type: 'standard-webhooks', secret });
      const first = check(v, standardWebhooksHeaders(secret, 'msg_9', '{}', new Date((NOW - 60) * 1000)), '{}');
      const retry = check(v, standardWebhooksHeaders(secret, 'msg_9', '{}'), '{}');
      expect(first).toEqual({
        ok: true,
        replay: { key: 'standard-webhooks:msg_9', windowMs: 86_400_000, what: 'webhook-id already published' },
      });
      expect(retry).toEqual(first);
    });

    it('gives none for schemes without a timestamp or message id', () => {
      expect(
        check(
          config({ type: 'basic', username: 'u', password: 'p' }),
          { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` },
          '',
        ),
      ).toEqual({ ok: true });
    });
  });

  describe('provider presets, against vendor documentation vectors', () => {
    it("accepts Twilio's documented example (auth token 12345, a form post to myapp.php?foo=1&bar=2)", () => {
      const v = config({ type: 'twilio', authToken: '12345' });
      const body = new URLSearchParams({
        CallSid: 'CA1234567890ABCDE',
        Caller: '+12349013030',
        Digits: '1234',
        From: '+12349013030',
        To: '+18005551212',
      }).toString();
      const req = (url: string, signature = '0/KCTR6DLpKmkAf8muzZqo1nDgQ=') => ({
        headers: { 'x-twilio-signature': signature },
        body: Buffer.from(body),
        nowSeconds: NOW,
        url,
      });
      expect(verifyInbound(v, req('https://mycompany.com/myapp.php?foo=1&bar=2'), false)).toEqual({ ok: true });
      expect(verifyInbound(v, req('https://mycompany.com/myapp.php?foo=1&bar=3'), false)).toMatchObject({
        ok: false,
        code: 'signature_mismatch',
      });
      expect(verifyInbound(v, { ...req('https://mycompany.com/myapp.php?foo=1&bar=2'), url: undefined }, false)).toMatchObject({
        ok: false,
        code: 'public_url_unset',
      });
      // X-Twilio-Webhooks-Signature-Settings can ask for HMAC_SHA256; an unknown algorithm is refused, not guessed.
      const settings = (algorithm: string) => ({
        ...req('https://mycompany.com/myapp.php?foo=1&bar=2'),
        headers: { 'x-twilio-signature': '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', 'x-twilio-webhooks-signature-settings': `algorithm=${algorithm}` },
      });
      expect(verifyInbound(v, settings('HMAC_SHA1'), false)).toEqual({ ok: true });
      expect(verifyInbound(v, settings('HMAC_SHA256'), false)).toMatchObject({ ok: false, code: 'signature_mismatch' });
      expect(verifyInbound(v, settings('HMAC_MD5'), false)).toMatchObject({ ok: false, code: 'unsupported_algorithm' });
    });

    it('refuses a Twilio form of more than 1,000 fields before parsing it, and checks one of 1,000 by its signature', () => {
      const v = config({ type: 'twilio', authToken: '12345' });
      const url = 'https://mycompany.com/in/token';
      const params = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`p${i}`, String(i)]));
      const body = new URLSearchParams(params).toString();
      const req = (b: string, signature: string) => ({
        headers: { 'x-twilio-signature': signature },
        body: Buffer.from(b),
        nowSeconds: NOW,
        url,
      });
      expect(verifyInbound(v, req(body, twilioSignature('12345', url, params)), false)).toEqual({ ok: true });
      // Parsed and sorted before the signature could be compared, 140,000 such fields took ~200 ms,
      // 10,000 ~17 ms; a Twilio webhook sends a few dozen.
      expect(verifyInbound(v, req(`${body}&x=1`, 'bogus'), false)).toEqual({
        ok: false,
        code: 'malformed_body',
        reason: 'malformed_body: form body has more than 1000 fields, more than a Twilio webhook sends',
      });
    });

    it("accepts GitHub's documented test vector with the github type, and refuses a missing prefix as malformed", () => {
      const v = config({ type: 'github', secret: "It's a Secret to Everybody" });
      const mac = '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
      expect(check(v, { 'x-hub-signature-256': `sha256=${mac}` }, 'Hello, World!')).toEqual({ ok: true });
      expect(check(v, { 'x-hub-signature-256': mac }, 'Hello, World!')).toEqual({
        ok: false,
        code: 'malformed_header',
        reason: 'malformed_header: X-Hub-Signature-256 lacks the prefix sha256=',
      });
    });

    it('refuses a PagerDuty header with no v1= signature as malformed, and looks at no more than 10 candidates', () => {
      const v = config({ type: 'pagerduty', secret: 's' });
      const good = `v1=${createHmac('sha256', 's').update('{}').digest('hex')}`;
      expect(check(v, { 'x-pagerduty-signature': 'v0=abc' }, '{}')).toMatchObject({ code: 'malformed_header' });
      expect(check(v, { 'x-pagerduty-signature': [...Array(10).fill('v1=00'), good].join(',') }, '{}')).toMatchObject({
        ok: false,
        code: 'signature_mismatch',
      });
      expect(check(v, { 'x-pagerduty-signature': [...Array(9).fill('v1=00'), good].join(',') }, '{}')).toEqual({ ok: true });
    });

    it('reads a Zendesk timestamp in ISO 8601 or Unix seconds, and refuses anything else as malformed', () => {
      const v = config({ type: 'zendesk', secret: 'z' });
      const sign = (ts: string) => ({
        'x-zendesk-webhook-signature-timestamp': ts,
        'x-zendesk-webhook-signature': createHmac('sha256', 'z').update(`${ts}{}`).digest('base64'),
      });
      const iso = new Date(NOW * 1000).toISOString();
      expect(check(v, sign(iso), '{}')).toMatchObject({ ok: true });
      expect(check(v, sign(String(NOW)), '{}')).toMatchObject({ ok: true });
      expect(check(v, sign('yesterday'), '{}')).toMatchObject({ code: 'malformed_header' });
      expect(check(v, sign(new Date((NOW - 301) * 1000).toISOString()), '{}')).toMatchObject({ code: 'timestamp_outside_tolerance' });
    });
  });

  it('refuses a none source while the operator switch is off, and accepts it when on', () => {
    const none = config({ type: 'none' });
    expect(verifyInbound(none, { headers: {}, body: Buffer.alloc(0), nowSeconds: NOW }, false)).toMatchObject({ ok: false });
    expect(verifyInbound(none, { headers: {}, body: Buffer.alloc(0), nowSeconds: NOW }, true)).toEqual({ ok: true });
  });

  it('compares secrets of different lengths without throwing', () => {
    expect(sameSecret('a', 'abc')).toBe(false);
    expect(sameSecret('abc', 'abc')).toBe(true);
  });
});
