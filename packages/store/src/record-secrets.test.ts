import { randomBytes } from 'node:crypto';
import { SecretBox } from '@hookrelay/secrets';
import { openReadableSecrets, openSecrets, sealSecrets } from './record-secrets';

const box = new SecretBox([{ id: 'k1', key: randomBytes(32) }]);
const identity = { recordId: 'src_1', subscriberId: 'sub_1' };

/** A source record as Redis hands it back: its secrets sealed, parsed from JSON. */
function storedSource(): Record<string, unknown> {
  const source = {
    id: 'src_1',
    subscriberId: 'sub_1',
    token: 'ingest-token',
    verification: { type: 'hmac', header: 'x-signature', secret: 'hmac-secret' },
    matches: { '$.states': [{}, {}] },
  };
  return JSON.parse(JSON.stringify(sealSecrets(box, 'source', identity, source))) as Record<string, unknown>;
}

describe('opening a stored record', () => {
  it('opens a record its caller owns in place, with no copy, and a shared one in a copy that leaves it sealed', () => {
    const shared = storedSource();
    const sealedText = JSON.stringify(shared);
    const copy = openSecrets<Record<string, unknown>>(box, 'source', identity, shared);
    expect(copy).not.toBe(shared);
    expect(copy).toMatchObject({ token: 'ingest-token', verification: { secret: 'hmac-secret' } });
    expect(JSON.stringify(shared)).toBe(sealedText);

    const owned = storedSource();
    const matches = owned.matches;
    const opened = openSecrets<Record<string, unknown>>(box, 'source', identity, owned, { owned: true });
    expect(opened).toBe(owned);
    expect(opened.matches).toBe(matches);
    expect(owned).toMatchObject({ token: 'ingest-token', verification: { secret: 'hmac-secret' } });
  });

  it('sets what cannot be opened to null in the record it owns, and says why', () => {
    const owned = storedSource();
    const { record, unreadable } = openReadableSecrets(new SecretBox(), 'source', identity, owned, { owned: true });
    expect(record).toBe(owned);
    expect(owned).toMatchObject({ token: null, verification: { secret: null } });
    expect(unreadable?.context).toMatchObject({ record: 'source', field: 'token' });
  });
});
