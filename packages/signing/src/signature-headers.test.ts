import type { SignatureConfig } from '@hookrelay/contracts';
import { signatureHeaders, type SigningInput } from './signature-headers';
import { newSigningSecret } from './secrets';

const input = (secrets: string[]): SigningInput => ({
  eventId: 'evt_1',
  timestampSeconds: 1_700_000_000,
  body: '{"a": 1}',
  secrets,
});

describe('signatureHeaders', () => {
  it('adds no headers for the none scheme, even without secrets', () => {
    expect(signatureHeaders({ scheme: 'none' }, input([]))).toEqual({});
  });

  it.each<[SignatureConfig, string[]]>([
    [{ scheme: 'x-hub-signature', algorithm: 'sha512', prefix: true }, ['x-hub-signature']],
    [{ scheme: 'x-signature' }, ['X-SIGNATURE']],
    [{ scheme: 'standard-webhooks' }, ['webhook-id', 'webhook-timestamp', 'webhook-signature']],
  ])('adds exactly the headers of %j', (config, names) => {
    const secret = newSigningSecret(config.scheme);
    expect(Object.keys(signatureHeaders(config, input([secret])))).toEqual(names);
  });

  it('is deterministic: the same input signs the same, so a retry repeats the headers', () => {
    const secret = newSigningSecret('standard-webhooks');
    const config: SignatureConfig = { scheme: 'standard-webhooks' };
    expect(signatureHeaders(config, input([secret]))).toEqual(signatureHeaders(config, input([secret])));
  });

  it('changes the standard-webhooks signature with the injected timestamp', () => {
    const secret = newSigningSecret('standard-webhooks');
    const config: SignatureConfig = { scheme: 'standard-webhooks' };
    const later = { ...input([secret]), timestampSeconds: 1_700_000_001 };
    expect(signatureHeaders(config, later)['webhook-signature']).not.toBe(signatureHeaders(config, input([secret]))['webhook-signature']);
  });

  it('rejects a fractional or negative timestamp for standard-webhooks', () => {
    const secret = newSigningSecret('standard-webhooks');
    const config: SignatureConfig = { scheme: 'standard-webhooks' };
    expect(() => signatureHeaders(config, { ...input([secret]), timestampSeconds: 1_700_000_000.5 })).toThrow(TypeError);
    expect(() => signatureHeaders(config, { ...input([secret]), timestampSeconds: -1 })).toThrow(TypeError);
  });

  it('throws for a scheme it does not know rather than sending unsigned', () => {
    const bogus = { scheme: 'x-unknown' } as unknown as SignatureConfig;
    expect(() => signatureHeaders(bogus, input(['s'.repeat(20)]))).toThrow(/unknown signature scheme/);
  });
});
