// Type-checked against the installed package (node16 resolution): the CommonJS entry's declarations.
import { createHookrelayClient, type DeliveryListQuery } from '@hookrelay/client';
import { verifyHubSignature } from '@hookrelay/verify';

const query: DeliveryListQuery = { status: 'failed', limit: 10 };
export const deliveries = createHookrelayClient({ baseUrl: 'http://127.0.0.1:3000', apiKey: 'key' }).deliveries.list('sub_1', query);
export const ok: boolean = verifyHubSignature({ secret: 's', body: Buffer.from('{}'), header: 'abc' });
// @ts-expect-error: not a delivery state
export const bad: DeliveryListQuery = { status: 'lost' };
