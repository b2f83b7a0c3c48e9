import { createHmac, randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import type { EncryptionKey } from '@hookrelay/secrets';
import { TestReceiver } from '@hookrelay/testing';
import { TokenServer } from '../../../packages/delivery/src/auth/test-servers/token-server';
import { useApiHarnessPerTest, type ApiHarness } from './api-harness';
import { ingest } from './sources/source-test-kit';
import { stripeSignature } from './sources/vendor-signers';

const KEYS: EncryptionKey[] = [{ id: 'k1', key: randomBytes(32) }];
const unique = (label: string) => `${label}-${randomBytes(9).toString('base64url')}`;

/** Every string stored under the prefix, read with the command for each key's type; and the types seen. */
async function readEverything(redis: Redis, prefix: string): Promise<{ values: string[]; types: Set<string> }> {
  const values: string[] = [];
  const types = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      types.add(type);
      values.push(key);
      if (type === 'string') values.push((await redis.get(key)) ?? '');
      else if (type === 'hash') values.push(...Object.entries(await redis.hgetall(key)).flat());
      else if (type === 'list') values.push(...(await redis.lrange(key, 0, -1)));
      else if (type === 'set') values.push(...(await redis.smembers(key)));
      else if (type === 'zset') values.push(...(await redis.zrange(key, 0, -1, 'WITHSCORES')));
      else if (type === 'stream') values.push(...(await redis.xrange(key, '-', '+')).flatMap(([id, fields]) => [id, ...fields]));
      else if (type !== 'none') throw new Error(`unexpected type ${type} at ${key}`);
    }
  } while (cursor !== '0');
  return { values, types };
}

/**
 * One of every kind of stored secret, through the API: endpoint signing secrets (x-hub, Standard
 * Webhooks, a rotated one still signing), every outbound auth secret (basic and URL userinfo
 * passwords, API-key value, bearer token, OAuth client secret, Digest password, AWS secret key and
 * session token), every source verification secret and every ingest token. Each endpoint gets a
 * delivery and some sources a request, so attempts, logs, jobs and replay claims exist too.
 * Returns the secret values, and the forms credentials travel in (never stored, keys or not).
 */
async function storeOneOfEverySecret(h: ApiHarness): Promise<{ secrets: string[]; wireForms: string[] }> {
  const receiver = await TestReceiver.start({ status: 200 });
  const clientSecret = unique('oauth');
  const tokens = new TokenServer({ clientId: 'relay', clientSecret, delayMs: 0 });
  const tokenServer = await TestReceiver.start(tokens.reply);
  try {
    const sid = (await h.call('POST', '/v1/subscribers', { body: { name: 'Acme' } })).body.id as string;
    const secrets: string[] = [];
    const endpoint = async (body: Record<string, unknown>) => {
      const res = await h.call('POST', `/v1/subscribers/${sid}/endpoints`, {
        body: { eventTypes: ['custom.*'], ...body, url: body.url ?? `${receiver.url}/hook` },
      });
      if (res.status !== 201) throw new Error(`endpoint: ${res.status} ${JSON.stringify(res.body)}`);
      secrets.push(res.body.secret as string);
      return res.body;
    };
    await endpoint({ secret: unique('sig-xhub') });
    await endpoint({ signature: { scheme: 'standard-webhooks' } });
    const rotating = await endpoint({ secret: unique('sig-retiring') });
    const rotated = await h.call('POST', `/v1/subscribers/${sid}/endpoints/${rotating.id}/secret/rotate`, {
      body: { secret: unique('sig-current') },
    });
    secrets.push(rotated.body.secret);
    expect(rotated.body.previousSecrets).toHaveLength(1);

    const basic = unique('pw-basic');
    const userinfo = unique('pw-userinfo');
    const apiKey = unique('api-key');
    const bearer = unique('bearer');
    const digest = unique('pw-digest');
    const awsKey = unique('aws-secret');
    const awsSession = unique('aws-session');
    await endpoint({ auth: { type: 'basic', username: 'relay', password: basic } });
    await endpoint({ url: `http://relay:${userinfo}@127.0.0.1:${receiver.port}/userinfo` });
    await endpoint({ auth: { type: 'api-key', header: 'X-Api-Key', value: apiKey } });
    await endpoint({ auth: { type: 'bearer', token: bearer } });
    await endpoint({ auth: { type: 'oauth2-client-credentials', tokenUrl: `${tokenServer.url}/token`, clientId: 'relay', clientSecret } });
    await endpoint({ auth: { type: 'digest', username: 'relay', password: digest } });
    await endpoint({
      auth: {
        type: 'aws-sigv4',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: awsKey,
        sessionToken: awsSession,
        region: 'eu-west-1',
        service: 'execute-api',
      },
    });
    secrets.push(basic, userinfo, apiKey, bearer, clientSecret, digest, awsKey, awsSession);
    const wireForms = [`relay:${basic}`, `relay:${userinfo}`].map((creds) => Buffer.from(creds).toString('base64'));

    const hmac = unique('src-hmac');
    const stripe = `whsec_${randomBytes(24).toString('hex')}`;
    const standard = `whsec_${randomBytes(32).toString('base64')}`;
    const slack = unique('src-slack');
    const sourceBasic = unique('src-basic');
    const headerA = unique('src-header-a');
    const headerB = unique('src-header-b');
    const verifications = [
      { type: 'hmac', header: 'X-Hub-Signature-256', prefix: 'sha256=', secret: hmac },
      { type: 'stripe', secret: stripe },
      { type: 'standard-webhooks', secret: standard },
      { type: 'slack', signingSecret: slack },
      { type: 'basic', username: 'jenkins', password: sourceBasic },
      { type: 'header', headers: { 'X-Token': headerA, 'X-Team-Token': headerB } },
    ];
    secrets.push(hmac, stripe, standard, slack, sourceBasic, headerA, headerB);
    // The provider presets' secrets (SendGrid's verification key is public: not a secret).
    const presets = {
      github: { secret: unique('src-github') },
      twilio: { authToken: unique('src-twilio') },
      pagerduty: { secret: unique('src-pagerduty') },
      zendesk: { secret: unique('src-zendesk') },
      facebook: { appSecret: unique('src-meta-app'), verifyToken: unique('src-meta-verify') },
      twitter: { consumerSecret: unique('src-twitter') },
      shopify: { secret: unique('src-shopify') },
    };
    for (const [type, fields] of Object.entries(presets)) {
      verifications.push({ type, ...fields } as (typeof verifications)[number]);
      secrets.push(...Object.values(fields));
    }
    const ingestUrls: Record<string, string> = {};
    for (const verification of verifications) {
      const res = await h.call('POST', `/v1/subscribers/${sid}/sources`, {
        body: { name: verification.type, eventType: 'custom.inbound', verification, dedupe: { header: 'X-Delivery' } },
      });
      if (res.status !== 201) throw new Error(`source: ${res.status} ${JSON.stringify(res.body)}`);
      ingestUrls[verification.type] = res.body.ingestUrl;
      secrets.push(res.body.ingestUrl.slice('/in/'.length));
    }
    const body = '{"n":1}';
    const signed = `sha256=${createHmac('sha256', hmac).update(body).digest('hex')}`;
    expect((await ingest(h, ingestUrls.hmac!, { body, headers: { 'x-hub-signature-256': signed, 'x-delivery': 'd-1' } })).status).toBe(202);
    expect((await ingest(h, ingestUrls.stripe!, { body, headers: { 'stripe-signature': stripeSignature(stripe, body) } })).status).toBe(
      202,
    );
    expect((await ingest(h, ingestUrls.header!, { body, headers: { 'x-token': headerA, 'x-team-token': headerB } })).status).toBe(202);

    await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'custom.secrets.check', payload: { n: 2 } } });
    // 10 endpoints: one delivery each for the published event and for each of the 3 inbound ones.
    await receiver.waitForRequests(40, 20_000);
    expect(tokens.issued.length).toBeGreaterThan(0);
    await waitUntil(
      async () => (await h.call('GET', `/v1/subscribers/${sid}/deliveries?status=delivered&limit=100`)).body.data.length === 40,
    );
    return { secrets, wireForms };
  } finally {
    await receiver.close();
    await tokenServer.close();
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('secrets at rest, read back from Redis', () => {
  const startApiHarness = useApiHarnessPerTest();
  let h: ApiHarness | undefined;

  it('with HOOKRELAY_ENCRYPTION_KEYS set, no secret value is found under any key, whatever its type', async () => {
    h = await startApiHarness({ encryptionKeys: KEYS, publicUrl: 'https://hooks.example.com' });
    const { secrets, wireForms } = await storeOneOfEverySecret(h);
    // 11 signing secrets (one per endpoint, and the retiring one), 8 auth secrets, 15 source secrets, 13 ingest tokens.
    expect(secrets).toHaveLength(47);
    const { values, types } = await readEverything(h.redis, h.prefix);
    expect([...types]).toEqual(expect.arrayContaining(['string', 'hash', 'list', 'zset', 'stream']));
    const everything = values.join('\n');
    expect([...secrets, ...wireForms].filter((s) => everything.includes(s))).toEqual([]);
    // What is there instead: ciphertexts under k1.
    expect(everything).toContain('"alg":"aes-256-gcm","kid":"k1"');
  });

  it('without it (development), the secrets are stored as plain text, as before', async () => {
    h = await startApiHarness({ publicUrl: 'https://hooks.example.com' });
    const { secrets, wireForms } = await storeOneOfEverySecret(h);
    const everything = (await readEverything(h.redis, h.prefix)).values.join('\n');
    expect(secrets.filter((s) => !everything.includes(s))).toEqual([]);
    expect(wireForms.filter((s) => everything.includes(s))).toEqual([]);
    expect(everything).not.toContain('"alg":"aes-256-gcm"');
  });
});
