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
    [`/in/${TOKEN}?challenge=abc`, '/in/[redacted]?challenge=abc'],
    [`/in/${TOKEN}%zz`, '/in/[redacted]'],
  ])('redacts the ingest token of %s', (url, logged) => {
    expect(loggableUrl(url)).toBe(logged);
  });

  it.each(['/v1/subscribers/sub_1/events', '/index.html', '/v1/in/x', '/healthz?in=/in/x'])('keeps %s as it is', (url) => {
    expect(loggableUrl(url)).toBe(url);
  });
});
