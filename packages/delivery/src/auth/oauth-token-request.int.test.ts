import { startStallingServer, useTestReceiver } from '@hookrelay/testing';
import { Agent } from 'undici';
import { AuthFailure } from './auth-failure';
import { requestClientCredentialsToken } from './oauth-token-request';

describe('requestClientCredentialsToken', () => {
  it('gives up at its deadline on a token host that stalls the connection, without waiting for the connect timeout', async () => {
    // Never answers the TLS handshake: the request never gets a socket to abort.
    const stalling = await startStallingServer();
    const { port } = stalling;
    const dispatcher = new Agent({ connect: { timeout: 5000 } });
    try {
      const started = Date.now();
      const failure = await requestClientCredentialsToken(
        {
          type: 'oauth2-client-credentials',
          tokenUrl: `https://127.0.0.1:${port}/token`,
          clientId: 'hookrelay',
          clientSecret: 'client-secret-0123456789',
          clientAuth: 'body',
        },
        { dispatcher, userAgent: 'test', timeoutMs: 200 },
      ).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(AuthFailure);
      expect((failure as Error).message).toBe('token endpoint unreachable (timeout)');
      // Not the 5 s connect timeout.
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await dispatcher.destroy();
      await stalling.close();
    }
  });
});

describe('a token response that is not shaped like one', () => {
  // A subscriber's token host answered 64 KB of small objects with fresh keys, each token expiring
  // at once: ~9 ms of the shared worker's JSON.parse a fetch, one or two fetches an attempt (an
  // audit's measurement). A token response is a few string fields: anything far from that is refused
  // before it is parsed, and an error answer is parsed only when it is small.
  let body = '';
  let status = 200;
  const tokenHost = useTestReceiver((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  const dispatcher = new Agent();
  afterAll(() => dispatcher.close());
  const fetchToken = () =>
    requestClientCredentialsToken(
      {
        type: 'oauth2-client-credentials',
        tokenUrl: `${tokenHost.url}/token`,
        clientId: 'hookrelay',
        clientSecret: 'client-secret-0123456789',
        clientAuth: 'body',
      },
      { dispatcher, userAgent: 'test', timeoutMs: 5000 },
    ).catch((err: unknown) => err as Error);

  it('takes the largest real answer: a token of 8,192 characters beside the usual fields', async () => {
    status = 200;
    body = JSON.stringify({
      access_token: 'a'.repeat(8192),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'messages:read messages:write incidents:read',
    });
    expect(await fetchToken()).toEqual({ accessToken: 'a'.repeat(8192), expiresInS: 3600 });
  });

  it.each([
    ['more than 16 objects or arrays', JSON.stringify({ access_token: 't', x: Array.from({ length: 20 }, (_, i) => ({ [`k${i}`]: 0 })) })],
    [
      'more than 64 strings',
      JSON.stringify({ access_token: 't', ...Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 0])) }),
    ],
    ['is larger than 16384 bytes', JSON.stringify({ access_token: 't', pad: 'x'.repeat(16_400) })],
  ])('refuses one with %s, unparsed', async (why, json) => {
    status = 200;
    body = json;
    const failure = await fetchToken();
    expect(failure).toBeInstanceOf(AuthFailure);
    expect((failure as Error).message).toMatch(new RegExp(`^token response (has )?${why.replace(/[()]/g, '\\$&')}$`));
  });

  it("names an error answer's status whatever its size (a proxy's error page)", async () => {
    status = 502;
    body = '<html>' + 'x'.repeat(20_000) + '</html>';
    expect(await fetchToken()).toMatchObject({ message: 'token endpoint answered HTTP 502' });
  });

  it('reads an error code from a small error answer only', async () => {
    status = 400;
    body = JSON.stringify({ error: 'invalid_client' });
    expect(await fetchToken()).toMatchObject({ message: 'token endpoint answered HTTP 400 (invalid_client)' });
    body = JSON.stringify({ error: 'invalid_client', pad: 'x'.repeat(2000) });
    expect(await fetchToken()).toMatchObject({ message: 'token endpoint answered HTTP 400' });
  });
});
