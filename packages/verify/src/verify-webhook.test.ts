import { standardWebhooksSignature } from './standard-webhooks';
import { verifyWebhook, WebhookVerificationError, type VerifyWebhookOptions } from './verify-webhook';
import { hubSignature } from './x-hub-signature';
import { zendutySignature } from './x-signature';

const TEXT_SECRET = 'endpoint-secret-0123456789';
const WHSEC = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
const BODY = '{"payload": {"event_type": "resolved"}}';
const NOW_MS = 1_700_000_000_000;
const hookrelayHeaders = {
  'x-hookrelay-event-id': 'evt_1',
  'x-hookrelay-event-type': 'incident.resolved',
  'x-hookrelay-delivery-id': 'dlv_1',
  'x-hookrelay-attempt': '3',
};

/** A delivery as Hookrelay signs it for each scheme. */
function delivery(scheme: VerifyWebhookOptions['scheme'], body = BODY): Record<string, string> {
  switch (scheme) {
    case 'x-hub-signature':
      return { ...hookrelayHeaders, 'x-hub-signature': hubSignature(TEXT_SECRET, body, { algorithm: 'sha512', prefix: true }) };
    case 'x-signature':
      return { ...hookrelayHeaders, 'x-signature': zendutySignature(TEXT_SECRET, body) };
    case 'standard-webhooks':
      return {
        ...hookrelayHeaders,
        'webhook-id': 'evt_1',
        'webhook-timestamp': String(NOW_MS / 1000),
        'webhook-signature': standardWebhooksSignature(WHSEC, 'evt_1', NOW_MS / 1000, body),
      };
  }
}

const optionsFor = (scheme: VerifyWebhookOptions['scheme']): VerifyWebhookOptions => ({
  scheme,
  secret: scheme === 'standard-webhooks' ? WHSEC : TEXT_SECRET,
  now: () => NOW_MS,
});

function failure(fn: () => unknown): { code: string; message: string } | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof WebhookVerificationError) return { code: err.code, message: err.message };
    throw err;
  }
  return undefined;
}

describe('verifyWebhook', () => {
  it.each(['x-hub-signature', 'x-signature', 'standard-webhooks'] as const)(
    'returns a genuine %s delivery parsed, with its ids, type and attempt',
    (scheme) => {
      const event = verifyWebhook<{ payload: { event_type: string } }>(optionsFor(scheme), {
        body: Buffer.from(BODY),
        headers: delivery(scheme),
      });
      expect(event).toEqual({
        eventId: 'evt_1',
        eventType: 'incident.resolved',
        deliveryId: 'dlv_1',
        attempt: 3,
        payload: { payload: { event_type: 'resolved' } },
        rawBody: Buffer.from(BODY),
      });
    },
  );

  it.each(['x-hub-signature', 'x-signature', 'standard-webhooks'] as const)(
    'refuses a %s delivery whose body was changed, or that has no signature',
    (scheme) => {
      const headers = delivery(scheme);
      expect(failure(() => verifyWebhook(optionsFor(scheme), { body: BODY.replace('resolved', 'triggered'), headers }))?.code).toBe(
        'invalid_signature',
      );
      const unsigned = Object.fromEntries(Object.entries(headers).filter(([k]) => !/signature/.test(k)));
      expect(failure(() => verifyWebhook(optionsFor(scheme), { body: BODY, headers: unsigned }))).toEqual({
        code: 'missing_signature',
        message: expect.stringMatching(/signature/i),
      });
    },
  );

  it('refuses a Standard Webhooks delivery from more than five minutes ago', () => {
    const late = { ...optionsFor('standard-webhooks'), now: () => NOW_MS + 301_000 };
    expect(failure(() => verifyWebhook(late, { body: BODY, headers: delivery('standard-webhooks') }))?.code).toBe('timestamp_out_of_range');
    expect(
      failure(() => verifyWebhook({ ...late, toleranceSeconds: 600 }, { body: BODY, headers: delivery('standard-webhooks') })),
    ).toBeUndefined();
  });

  it('refuses an x-hub-signature delivery signed with another algorithm than the one expected', () => {
    expect(
      failure(() =>
        verifyWebhook({ ...optionsFor('x-hub-signature'), algorithm: 'sha256' }, { body: BODY, headers: delivery('x-hub-signature') }),
      )?.code,
    ).toBe('invalid_signature');
  });

  it('reads a Fetch API Headers object, as a Request in Next.js, Deno or Workers has', () => {
    const event = verifyWebhook(optionsFor('x-signature'), {
      body: new TextEncoder().encode(BODY),
      headers: new Headers(delivery('x-signature')),
    });
    expect(event.eventType).toBe('incident.resolved');
  });

  it('refuses a correctly signed body that is not JSON', () => {
    const body = 'not json';
    expect(failure(() => verifyWebhook(optionsFor('x-signature'), { body, headers: delivery('x-signature', body) }))?.code).toBe(
      'invalid_body',
    );
  });

  it('names the Standard Webhooks id as the event id when Hookrelay headers are stripped by a proxy', () => {
    const headers = Object.fromEntries(Object.entries(delivery('standard-webhooks')).filter(([k]) => !k.startsWith('x-hookrelay-')));
    expect(verifyWebhook(optionsFor('standard-webhooks'), { body: BODY, headers })).toMatchObject({
      eventId: 'evt_1',
      attempt: 1,
      eventType: '',
    });
  });
});
