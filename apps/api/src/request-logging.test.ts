import { loggableUrl } from './request-logging';

const TOKEN = 'Zm9vYmFyYmF6cXV4LXNlY3JldC10b2tlbi0xMjM0NTY3OA';

describe('loggableUrl', () => {
  it.each([
    [`/in/${TOKEN}`, '/in/[redacted]'],
    [`/IN/${TOKEN}`, '/in/[redacted]'],
    [`/In/${TOKEN}/`, '/in/[redacted]'],
    [`//in/${TOKEN}`, '/in/[redacted]'],
    [`/%69n/${TOKEN}`, '/in/[redacted]'],
    [`/%49%4E/${TOKEN}`, '/in/[redacted]'],
    [`/in/${TOKEN}%zz`, '/in/[redacted]'],
    [`/in;x/${TOKEN}`, '/in/[redacted]'],
    // The query of an ingest URL can hold a source's secret (Meta's hub.verify_token): none of it.
    [`/in/${TOKEN}?hub.mode=subscribe&hub.verify_token=v&hub.challenge=1`, '/in/[redacted]'],
    [`/in/${TOKEN}#frag`, '/in/[redacted]'],
    // Absolute-form targets are routed by their path, so judged by it.
    [`http://host.test/in/${TOKEN}`, '/in/[redacted]'],
    [`HTTPS://host.test:8443//IN/${TOKEN}?a=b`, '/in/[redacted]'],
  ])('redacts the ingest token of %s', (url, logged) => {
    expect(loggableUrl(url)).toBe(logged);
  });

  it.each(['/v1/subscribers/sub_1/events', '/index.html', '/v1/in/x', '/healthz?in=/in/x', '/in', '/v1/events?limit=10'])(
    'keeps %s as it is',
    (url) => {
      expect(loggableUrl(url)).toBe(url);
    },
  );

  it('logs an absolute-form target by its path and query', () => {
    expect(loggableUrl('http://host.test/v1/events?limit=1')).toBe('/v1/events?limit=1');
    expect(loggableUrl('http://host.test?a=1')).toBe('/?a=1');
  });

  it('keeps at most 512 B of a path and 256 B of a query, each with the count of bytes cut', () => {
    expect(loggableUrl(`/${'p'.repeat(600)}?${'q'.repeat(300)}`)).toBe(
      `/${'p'.repeat(511)}...[89 bytes cut]?${'q'.repeat(256)}...[44 bytes cut]`,
    );
    expect(loggableUrl(`/${'p'.repeat(511)}?${'q'.repeat(256)}`)).toBe(`/${'p'.repeat(511)}?${'q'.repeat(256)}`);
    // Cut on a character, never inside one: 2-byte characters, 512 B is 256 of them.
    expect(loggableUrl(`/v1/${'é'.repeat(300)}`)).toBe(`/v1/${'é'.repeat(254)}...[92 bytes cut]`);
  });
});
