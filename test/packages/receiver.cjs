// A webhook receiver as a user writes it in plain CommonJS, with nothing but @hookrelay/verify
// installed: one path per signature scheme, each behind the hookrelayWebhook middleware, in a bare
// node:http server. Prints {"port"} once listening, then one JSON line per request it handled.
const http = require('node:http');
const { hookrelayWebhook } = require('@hookrelay/verify');

const secrets = JSON.parse(process.env.SECRETS);
const routes = {
  '/hub-hex': hookrelayWebhook({ scheme: 'x-hub-signature', secret: secrets.hub }),
  '/hub-sha512': hookrelayWebhook({ scheme: 'x-hub-signature', secret: secrets.hub, algorithm: 'sha512' }),
  '/zenduty': hookrelayWebhook({ scheme: 'x-signature', secret: secrets.zenduty }),
  '/standard': hookrelayWebhook({ scheme: 'standard-webhooks', secret: secrets.standard }),
};

const server = http.createServer((req, res) => {
  const path = (req.url || '/').split('?')[0];
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
