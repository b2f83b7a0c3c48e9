// The same receiver as receiver.cjs, as an ES module: @hookrelay/verify's ESM build, used through
// verifyWebhook (for frameworks other than express) on one path and the middleware on the others.
import http from 'node:http';
import { hookrelayWebhook, verifyWebhook, WebhookVerificationError } from '@hookrelay/verify';

const secrets = JSON.parse(process.env.SECRETS);
const routes = {
  '/hub-hex': hookrelayWebhook({ scheme: 'x-hub-signature', secret: secrets.hub }),
  '/hub-sha512': hookrelayWebhook({ scheme: 'x-hub-signature', secret: secrets.hub, algorithm: 'sha512' }),
  '/zenduty': hookrelayWebhook({ scheme: 'x-signature', secret: secrets.zenduty }),
};

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req
      .on('data', (c) => chunks.push(c))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', reject);
  });
}

const server = http.createServer(async (req, res) => {
  const path = (req.url || '/').split('?')[0];
  if (path === '/standard') {
    try {
      const event = verifyWebhook(
        { scheme: 'standard-webhooks', secret: secrets.standard },
        { body: await readBody(req), headers: req.headers },
      );
      console.log(
        JSON.stringify({
          path,
          verified: true,
          eventId: event.eventId,
          eventType: event.eventType,
          attempt: event.attempt,
          payload: event.payload,
        }),
      );
      return res.writeHead(204).end();
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      console.log(JSON.stringify({ path, rejected: 401 }));
      return res.writeHead(401).end(err.code);
    }
  }
  const verify = routes[path];
  if (!verify) return res.writeHead(404).end();
  res.on('finish', () => {
    if (res.statusCode >= 400) console.log(JSON.stringify({ path, rejected: res.statusCode }));
  });
  verify(req, res, (err) => {
    if (err) return res.writeHead(500).end(String(err));
    const { eventId, eventType, attempt } = req.hookrelay;
    console.log(JSON.stringify({ path, verified: true, eventId, eventType, attempt, payload: req.body }));
    res.writeHead(204).end();
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
