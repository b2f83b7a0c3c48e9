import { deliveryId, isIdOf, newId, timeOfId } from './ids';

describe('isIdOf', () => {
  it('accepts every id newId and deliveryId issue, of their own kind only', () => {
    for (const kind of ['sub', 'ep', 'evt', 'src'] as const) {
      const id = newId(kind);
      expect([kind, isIdOf(kind, id)]).toEqual([kind, true]);
      expect(isIdOf(kind === 'ep' ? 'evt' : 'ep', id)).toBe(false);
    }
    expect(isIdOf('dlv', deliveryId(newId('evt'), newId('ep')))).toBe(true);
  });

  it.each([
    ['sub', `${newId('sub')}:eps`],
    ['ep', `${newId('ep')}:dl-log`],
    ['dlv', `${deliveryId('a', 'b')}:at`],
    ['src', `${newId('src')}:req`],
    ['sub', 'sub_missing'],
    ['ep', `ep_${'0'.repeat(25)}`],
    ['ep', `ep_${'0'.repeat(26)}*`],
    ['ep', `EP_${'0'.repeat(26)}`],
    ['ep', `ep_${'i'.repeat(26)}`],
    ['dlv', 'meta'],
    ['dlv', `dlv_${'A'.repeat(32)}`],
    ['evt', ''],
  ] as const)('refuses %s id %j', (kind, value) => {
    expect(isIdOf(kind, value)).toBe(false);
  });
});

describe('timeOfId', () => {
  it('reads back the time newId wrote, and nothing from other strings', () => {
    for (const ms of [0, 1_800_000_000_123, 32 ** 10 - 1]) expect(timeOfId(newId('ep', ms))).toBe(ms);
    expect(timeOfId(newId('evt', 1_700_000_000_000))).toBe(1_700_000_000_000);
    for (const other of ['ep_order001', 'ep_test', '', deliveryId('a', 'b'), `${newId('ep')}:v`])
      expect([other, timeOfId(other)]).toEqual([other, undefined]);
  });
});

describe('deliveryId', () => {
  // Stored deliveries and their jobs are named by it: the derivation may never change. The value is
  // the first 32 hex digits of SHA-256 over "<event id>|<endpoint id>", computed with createHash.
  it('derives the same id as every earlier version', () => {
    expect(deliveryId('evt_01j0000000000000000000000a', 'ep_01j0000000000000000000000b')).toBe('dlv_0b45ec318eb511ae4be9d78eea16877a');
  });
});
