import { randomBytes } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { USER_AGENT, type Endpoint, type StoredEvent } from '@hookrelay/contracts';
import { prepareDelivery, sendRequest } from '@hookrelay/delivery';

export type VerifyMode = 'none' | 'post' | 'get' | 'challenge';

export type VerifyResult = { ok: true } | { ok: false; answered: string };

/**
 * Proves an endpoint is there and willing before it is stored:
 * - post: a signed test event must get a 2xx (Webex Connect's test call),
 * - get: a GET must get a 200,
 * - challenge: `GET <url>?type=subscribe&challenge=<random>` must answer exactly the challenge (Web1on1).
 */
export async function verifyEndpoint(mode: VerifyMode, endpoint: Endpoint, dispatcher: Dispatcher, nowMs: number): Promise<VerifyResult> {
  if (mode === 'none') return { ok: true };
  if (mode === 'post') {
    const event: StoredEvent = {
      id: `evt_verify_${randomBytes(8).toString('hex')}`,
      subscriberId: endpoint.subscriberId,
      type: 'hookrelay.verification',
      payload: JSON.stringify({ type: 'hookrelay.verification', endpointId: endpoint.id }),
      createdAt: nowMs,
    };
    const req = prepareDelivery(endpoint, event, { id: 'dlv_verification' }, 1, { userAgent: USER_AGENT, nowMs });
    const result = await sendRequest(dispatcher, req);
    if (result.kind === 'error') return { ok: false, answered: `no answer (${result.errorKind}: ${result.message})` };
    if (result.statusCode >= 200 && result.statusCode < 300) return { ok: true };
    return { ok: false, answered: `HTTP ${result.statusCode} to the signed test event (a 2xx is needed)` };
  }
  const challenge = randomBytes(16).toString('hex');
  const url = new URL(endpoint.url);
  if (mode === 'challenge') {
    url.searchParams.set('type', 'subscribe');
    url.searchParams.set('challenge', challenge);
  }
  try {
    const res = await request(url, {
      method: 'GET',
      dispatcher,
      headers: { 'user-agent': USER_AGENT },
      signal: AbortSignal.timeout(endpoint.timeoutMs),
    });
    const body = (await res.body.text()).slice(0, 1024);
    if (mode === 'get') return res.statusCode === 200 ? { ok: true } : { ok: false, answered: `HTTP ${res.statusCode} to GET (a 200 is needed)` };
    if (res.statusCode === 200 && body.trim() === challenge) return { ok: true };
    return { ok: false, answered: `HTTP ${res.statusCode} with a body that is not the challenge` };
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string }; message?: string };
    return { ok: false, answered: `no answer (${e.cause?.code ?? e.code ?? e.message ?? 'error'})` };
  }
}
