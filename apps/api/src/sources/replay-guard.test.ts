import { replayKeysOf } from './replay-guard';

describe('replayKeysOf', () => {
  const signature = { key: 'sig:v1:abc', windowMs: 300_000, what: 'signature already used' };

  it("lets a dedupe header's claim end with the retention period, never a signature's", () => {
    const keys = replayKeysOf(
      { dedupe: { header: 'x-github-delivery', windowSeconds: 604_800 } },
      { 'x-github-delivery': 'd-1' },
      signature,
    );
    expect(keys).toEqual([
      signature,
      { key: 'header:x-github-delivery:d-1', windowMs: 604_800_000, what: 'x-github-delivery already published', endsWithRetention: true },
    ]);
    expect(keys[0]).not.toHaveProperty('endsWithRetention');
  });
});
