import { startStallingServer } from '@hookrelay/testing';
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
