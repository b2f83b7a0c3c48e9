import { PROVIDERS } from '../../../portal/src/lib/source-form';
import { providerDefaults } from './providers';
import { eventTypeProblem } from './event-type-template';
import { verificationSchema } from './source-input';

/** A valid verification of each type, to ask providerDefaults about. */
const SAMPLE: Record<string, unknown> = {
  github: { type: 'github', secret: 's' },
  twilio: { type: 'twilio', authToken: 't' },
  pagerduty: { type: 'pagerduty', secret: 's' },
  zendesk: { type: 'zendesk', secret: 's' },
  sendgrid: {
    type: 'sendgrid',
    publicKey:
      'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==',
  },
  facebook: { type: 'facebook', appSecret: 'a', verifyToken: 'v' },
  twitter: { type: 'twitter', consumerSecret: 'c' },
  shopify: { type: 'shopify', secret: 's' },
  stripe: { type: 'stripe', secret: 'whsec_x' },
  slack: { type: 'slack', signingSecret: 's' },
  'standard-webhooks': { type: 'standard-webhooks', secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}` },
  hmac: { type: 'hmac', header: 'X-Sig', secret: 's' },
  header: { type: 'header', headers: { 'x-t': 'v' } },
  basic: { type: 'basic', username: 'u', password: 'p' },
};

describe('provider defaults', () => {
  it.each(Object.keys(SAMPLE))('%s: a default event type, when it has one, is a valid template', (type) => {
    const defaults = providerDefaults(verificationSchema.parse(SAMPLE[type]));
    if (defaults.eventType) expect(eventTypeProblem(defaults.eventType)).toBeNull();
  });

  it("the portal's provider picker names the same default event types as the API stores", () => {
    for (const p of PROVIDERS) {
      expect({ type: p.type, eventType: p.defaultEventType }).toEqual({
        type: p.type,
        eventType: providerDefaults(verificationSchema.parse(SAMPLE[p.type])).eventType,
      });
    }
  });
});
