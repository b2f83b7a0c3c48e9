import { isSessionFragment, sessionTokenFromFragment, timeLeft } from './session-link';

const TOKEN = `hr_ps_${'A1b2_-'.repeat(7)}x`;

describe('portal session links', () => {
  it('finds the token in #session=<token>', () => {
    expect(sessionTokenFromFragment(`#session=${TOKEN}`)).toBe(TOKEN);
    expect(sessionTokenFromFragment(`session=${TOKEN}`)).toBe(TOKEN);
  });

  it('finds none in a route, an empty fragment, or a token of the wrong shape', () => {
    for (const hash of [
      '',
      '#',
      '#/endpoints',
      `#/endpoints?session=${TOKEN}`,
      '#session=',
      '#session=hr_sub_abcdefghijklmnopqrstuvwxyz',
      `#session=${TOKEN}<script>`,
    ]) {
      expect(sessionTokenFromFragment(hash)).toBeNull();
    }
  });

  it('recognises a mangled session fragment so it is cleared from the address bar too', () => {
    expect(isSessionFragment('#session=garbled')).toBe(true);
    expect(isSessionFragment('#/deliveries')).toBe(false);
  });

  it('says how long is left', () => {
    const now = 1_700_000_000_000;
    expect([
      timeLeft(now + 40_000, now),
      timeLeft(now + 59 * 60_000 + 59_000, now),
      timeLeft(now + 2 * 3_600_000 + 5 * 60_000, now),
      timeLeft(now + 3 * 3_600_000, now),
      timeLeft(now - 1, now),
    ]).toEqual(['40 s', '59 min', '2 h 5 min', '3 h', '0 s']);
  });
});
