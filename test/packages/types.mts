// Type-checked against the installed package (node16 resolution): the ESM entry's declarations.
import { createHookrelayClient, HookrelayError, type EventInput, type Endpoint } from '@hookrelay/client';
import { hookrelayWebhook, verifyWebhook, type HookrelayWebhook } from '@hookrelay/verify';

const client = createHookrelayClient({ baseUrl: 'http://127.0.0.1:3000', apiKey: 'key' });
const event: EventInput = { type: 'custom.x', payload: { a: 1 }, idempotencyKey: 'k' };
export const published: Promise<{ id: string }> = client.publish('sub_1', event);
export const endpoints: Promise<Endpoint[]> = client.endpoints.list('sub_1').then((page) => page.data);
export const isError = (e: unknown): string | undefined => (e instanceof HookrelayError ? e.code : undefined);
export const middleware = hookrelayWebhook({ scheme: 'x-hub-signature', secret: 's' });
export const parsed: HookrelayWebhook<{ a: number }> = verifyWebhook<{ a: number }>(
  { scheme: 'x-signature', secret: 's' },
  { body: '{}', headers: {} },
);
// @ts-expect-error: publish needs a type
void client.publish('sub_1', { payload: {} });
