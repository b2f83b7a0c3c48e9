// What both publishers do, written once: the endpoints (one per scheme and form) and the events.

/** One endpoint per signature scheme, each with the secret the receiver verifies with. */
function endpointsFor(receiverUrl, secrets) {
  return [
    { url: `${receiverUrl}/hub-hex`, signature: { scheme: 'x-hub-signature' }, secret: secrets.hub },
    { url: `${receiverUrl}/hub-sha512`, signature: { scheme: 'x-hub-signature', algorithm: 'sha512', prefix: true }, secret: secrets.hub },
    { url: `${receiverUrl}/zenduty`, signature: { scheme: 'x-signature' }, secret: secrets.zenduty },
    { url: `${receiverUrl}/standard`, signature: { scheme: 'standard-webhooks' }, secret: secrets.standard },
  ];
}

/** A built-in event (its catalog example) and a batch of two custom ones, one with non-ASCII text. */
async function publishAll(hookrelay, sid, label) {
  const catalog = await hookrelay.eventTypes();
  const incident = catalog.find((t) => t.type === 'incident.triggered');
  const one = await hookrelay.publish(sid, { type: 'incident.triggered', payload: incident.example, idempotencyKey: `${label}-incident` });
  const batch = await hookrelay.publishBatch(sid, [
    { type: 'custom.order.paid', payload: { orderId: `${label}-1`, note: 'Zoë ✓ 1.5e-7', amount: 12.5 } },
    { type: 'custom.order.shipped', payload: { orderId: `${label}-2`, lines: [{ sku: 'A', qty: 2 }] } },
  ]);
  return [one, ...batch].map((e) => ({ id: e.id, deliveries: e.deliveries.length }));
}

module.exports = { endpointsFor, publishAll };
