import { newSourceForm, PROVIDERS, providerOf, sourceCreateBody, switchProvider } from './source-form';

describe('the source form', () => {
  it('offers every provider preset, each with at least one field', () => {
    expect(PROVIDERS.map((p) => p.type)).toEqual(
      expect.arrayContaining(['github', 'twilio', 'pagerduty', 'zendesk', 'sendgrid', 'facebook', 'twitter', 'shopify', 'stripe', 'slack']),
    );
    for (const p of PROVIDERS) expect(p.fields.length).toBeGreaterThan(0);
  });

  it('sends only the chosen provider fields, leaving the event type to the default when empty', () => {
    const form = { ...newSourceForm('facebook'), name: ' Page feed ', values: { appSecret: 'app-s', verifyToken: 'vt' } };
    expect(sourceCreateBody(form)).toEqual({
      name: 'Page feed',
      verification: { type: 'facebook', appSecret: 'app-s', verifyToken: 'vt' },
    });
    expect(sourceCreateBody({ ...form, eventType: ' fb.{$.object} ' })).toMatchObject({ eventType: 'fb.{$.object}' });
  });

  it('drops what was typed for one provider when another is picked', () => {
    const github = { ...newSourceForm('github'), values: { secret: 'typed for github' } };
    const shopify = switchProvider(github, 'shopify');
    expect(shopify.values).toEqual({ secret: '' });
    expect(switchProvider(github, 'twitter').values).toEqual({ consumerSecret: '' });
  });

  it('turns numbers, checkboxes, a pasted key and a header pair into API values, and omits empty optional fields', () => {
    const sendgrid = {
      ...newSourceForm('sendgrid'),
      name: 'mail',
      values: { publicKey: 'MFkw\nEwYH ', toleranceSeconds: '', splitEvents: false },
    };
    expect(sourceCreateBody(sendgrid).verification).toEqual({ type: 'sendgrid', publicKey: 'MFkwEwYH', splitEvents: false });
    const zendesk = { ...newSourceForm('zendesk'), values: { secret: 's', toleranceSeconds: '120' } };
    expect(sourceCreateBody(zendesk).verification).toEqual({ type: 'zendesk', secret: 's', toleranceSeconds: 120 });
    const header = { ...newSourceForm('header'), values: { headerName: ' X-Token ', headerValue: 'v' } };
    expect(sourceCreateBody(header).verification).toEqual({ type: 'header', headers: { 'X-Token': 'v' } });
  });

  it('starts a SendGrid form splitting batches, as the API does', () => {
    expect(newSourceForm('sendgrid').values.splitEvents).toBe(true);
    expect(providerOf('nope').type).toBe('github');
  });
});
