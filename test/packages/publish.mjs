// publish.cjs as an ES module, on @hookrelay/client's ESM build.
import { createHookrelayClient, HookrelayError } from '@hookrelay/client';
import steps from './steps.cjs';

const hookrelay = createHookrelayClient({ baseUrl: process.env.HOOKRELAY_URL, apiKey: process.env.HOOKRELAY_ADMIN_KEY });
const subscriber = await hookrelay.subscribers.create(`esm publisher ${process.pid}`);
const endpoints = [];
for (const body of steps.endpointsFor(process.env.RECEIVER_URL, JSON.parse(process.env.SECRETS)))
  endpoints.push(await hookrelay.endpoints.create(subscriber.id, body));
const published = await steps.publishAll(hookrelay, subscriber.id, 'esm');
let error;
try {
  await hookrelay.publish(subscriber.id, { type: 'no.such.type', payload: {} });
} catch (err) {
  if (!(err instanceof HookrelayError)) throw err;
  error = { status: err.status, code: err.code, message: err.message, details: err.details };
}
console.log(JSON.stringify({ subscriberId: subscriber.id, endpoints: endpoints.map((e) => ({ id: e.id, url: e.url })), published, error }));
