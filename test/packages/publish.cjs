// A publisher as a user writes it in plain CommonJS, with nothing but @hookrelay/client installed:
// creates a subscriber and one endpoint per signature scheme at the receiver, publishes one event
// and a batch, and shows an API error. Prints one JSON object with what it did.
const { createHookrelayClient, HookrelayError } = require('@hookrelay/client');
const { endpointsFor, publishAll } = require('./steps.cjs');

async function main() {
  const hookrelay = createHookrelayClient({ baseUrl: process.env.HOOKRELAY_URL, apiKey: process.env.HOOKRELAY_ADMIN_KEY });
  const subscriber = await hookrelay.subscribers.create(`cjs publisher ${process.pid}`);
  const endpoints = [];
  for (const body of endpointsFor(process.env.RECEIVER_URL, JSON.parse(process.env.SECRETS)))
    endpoints.push(await hookrelay.endpoints.create(subscriber.id, body));
  const published = await publishAll(hookrelay, subscriber.id, 'cjs');
  let error;
  try {
    await hookrelay.publish(subscriber.id, { type: 'no.such.type', payload: {} });
  } catch (err) {
    if (!(err instanceof HookrelayError)) throw err;
    error = { status: err.status, code: err.code, message: err.message, details: err.details };
  }
  console.log(
    JSON.stringify({ subscriberId: subscriber.id, endpoints: endpoints.map((e) => ({ id: e.id, url: e.url })), published, error }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
