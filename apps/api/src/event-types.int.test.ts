import { TestReceiver } from '@hookrelay/testing';
import { request } from 'undici';
import { startApiHarness, type ApiHarness } from './api-harness';

// Issue 17: event types as API resources with JSON Schemas, and publishing validated against them.

const orderPaid = {
  type: 'order.paid',
  description: 'An order was paid in full.',
  schema: {
    type: 'object',
    required: ['orderId', 'amount'],
    properties: {
      orderId: { type: 'string', pattern: '^ord_[0-9a-z]+$' },
      amount: {
        type: 'object',
        required: ['value', 'currency'],
        properties: { value: { type: 'integer', minimum: 0 }, currency: { enum: ['EUR', 'USD'] } },
      },
      paidAt: { type: 'string', format: 'date-time' },
    },
  },
  examples: [
    { orderId: 'ord_84213', amount: { value: 4999, currency: 'EUR' }, paidAt: '2024-05-14T09:21:07.000Z' },
    { orderId: 'ord_1', amount: { value: 0, currency: 'USD' } },
  ],
};

describe('/v1/event-types', () => {
  let h: ApiHarness;
  let sub: { id: string; apiKey: string };
  let publisherKey: string;
  const events = () => `/v1/subscribers/${sub.id}/events`;

  beforeAll(async () => {
    h = await startApiHarness({ worker: false });
    sub = (await h.call('POST', '/v1/subscribers', { body: { name: 'Acme' } })).body;
    publisherKey = (await h.call('POST', '/v1/api-keys', { body: { role: 'publisher' } })).body.apiKey;
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A fresh type for one test, named after it so tests do not share state. */
  async function create(type: string, body: Record<string, unknown> = {}) {
    const res = await h.call('POST', '/v1/event-types', { body: { ...orderPaid, type, ...body } });
    expect([res.status, res.body?.error]).toEqual([201, undefined]);
    return res.body;
  }

  describe('creating and reading', () => {
    it('creates a type (201) and lists it with the built-in ones, keeping the fields clients had', async () => {
      const created = await create('order.paid');
      expect(created).toEqual({
        type: 'order.paid',
        description: 'An order was paid in full.',
        schema: orderPaid.schema,
        example: orderPaid.examples[0],
        examples: orderPaid.examples,
        deprecated: false,
        archived: false,
        builtIn: false,
        createdAt: expect.any(Number),
        updatedAt: created.createdAt,
      });
      // Any valid key reads, as before: a subscriber's portal lists it.
      const list = await h.call('GET', '/v1/event-types', { key: sub.apiKey });
      expect(list.status).toBe(200);
      const types = list.body.data.map((t: { type: string }) => t.type);
      expect(types).toEqual(expect.arrayContaining(['order.paid', 'incident.triggered', 'receipt.sms.delivered', 'custom.*']));
      expect(types).toEqual([...types].sort());
      expect(list.body.data.find((t: { type: string }) => t.type === 'incident.triggered')).toMatchObject({
        builtIn: true,
        deprecated: false,
        archived: false,
        schema: { type: 'object' },
        example: expect.any(Object),
      });
      expect((await h.call('GET', '/v1/event-types/order.paid', { key: publisherKey })).body).toEqual(created);
      expect((await h.call('GET', '/v1/event-types/incident.resolved', { key: sub.apiKey })).body).toMatchObject({
        type: 'incident.resolved',
        builtIn: true,
      });
    });

    it('filters by prefix', async () => {
      await create('invoice.overdue', { examples: [] });
      const res = await h.call('GET', '/v1/event-types?prefix=invoice.');
      expect(res.body.data.map((t: { type: string }) => t.type)).toEqual(['invoice.overdue']);
      expect(res.body.data[0]).toMatchObject({ example: null, examples: [] });
      expect(
        (await h.call('GET', '/v1/event-types?prefix=receipt.sms.')).body.data.every((t: { type: string }) =>
          t.type.startsWith('receipt.sms.'),
        ),
      ).toBe(true);
    });

    it('answers every caller of one catalog version the same listing, tagged so a repeat can revalidate it', async () => {
      const first = await h.call('GET', '/v1/event-types', { key: sub.apiKey });
      const again = await h.call('GET', '/v1/event-types', { key: publisherKey });
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const etag = first.headers.get('etag');
      expect(etag).toMatch(/^W\/".+"$/);
      expect([again.headers.get('etag'), again.body]).toEqual([etag, first.body]);
      // fetch turns a request with If-None-Match into one with Cache-Control: no-cache (the Fetch
      // standard's no-store mode), which is never answered 304: undici's request sends it as given.
      const revalidate = (path: string) =>
        request(`${h.baseUrl}${path}`, { headers: { authorization: `Bearer ${sub.apiKey}`, 'if-none-match': etag as string } });
      // HEAD: the headers of the same answer, no body.
      const head = await request(`${h.baseUrl}/v1/event-types`, { method: 'HEAD', headers: { authorization: `Bearer ${sub.apiKey}` } });
      expect([head.statusCode, head.headers.etag, head.headers['content-length'], await head.body.text()]).toEqual([
        200,
        etag,
        String(Buffer.byteLength(JSON.stringify(first.body))),
        '',
      ]);
      const revalidated = await revalidate('/v1/event-types');
      expect([revalidated.statusCode, await revalidated.body.text()]).toEqual([304, '']);
      // Another filter is another answer.
      const filtered = await revalidate('/v1/event-types?prefix=incident.');
      expect(filtered.statusCode).toBe(200);
      expect(filtered.headers.etag).not.toBe(etag);
      const typesOf = async (res: typeof filtered) =>
        ((await res.body.json()) as { data: Array<{ type: string }> }).data.map((t) => t.type);
      expect(await typesOf(filtered)).toEqual(['incident.acknowledged', 'incident.resolved', 'incident.triggered']);
      // A change to the catalog changes the answer and its tag.
      await create('listing.changed');
      const changed = await revalidate('/v1/event-types');
      expect(changed.statusCode).toBe(200);
      expect(changed.headers.etag).not.toBe(etag);
      expect(await typesOf(changed)).toContain('listing.changed');
    });

    it("answers one type with its bytes from the catalog version's listing, tagged, and its change with new ones", async () => {
      const created = await create('single.read');
      const first = await request(`${h.baseUrl}/v1/event-types/single.read`, { headers: { authorization: `Bearer ${sub.apiKey}` } });
      const etag = first.headers.etag as string;
      expect([first.statusCode, first.headers['content-type'], await first.body.json()]).toEqual([
        200,
        'application/json; charset=utf-8',
        created,
      ]);
      expect(etag).toMatch(/^W\/".+"$/);
      const revalidate = () =>
        request(`${h.baseUrl}/v1/event-types/single.read`, { headers: { authorization: `Bearer ${sub.apiKey}`, 'if-none-match': etag } });
      const unchanged = await revalidate();
      expect([unchanged.statusCode, await unchanged.body.text()]).toEqual([304, '']);
      // Another type's change leaves this one's answer as it was.
      await create('single.other');
      expect((await revalidate()).statusCode).toBe(304);
      // Its own change answers the new type.
      expect((await h.call('PATCH', '/v1/event-types/single.read', { body: { description: 'read once' } })).status).toBe(200);
      const changed = await revalidate();
      expect(changed.statusCode).toBe(200);
      expect(changed.headers.etag).not.toBe(etag);
      expect(await changed.body.json()).toMatchObject({ type: 'single.read', description: 'read once' });
    });

    it('answers 404 for a type nobody defined', async () => {
      expect((await h.call('GET', '/v1/event-types/nothing.here')).status).toBe(404);
      expect((await h.call('PATCH', '/v1/event-types/nothing.here', { body: { description: 'x' } })).status).toBe(404);
      expect((await h.call('DELETE', '/v1/event-types/nothing.here')).status).toBe(404);
    });

    it('takes any JSON object when created without a schema', async () => {
      const created = await create('user.deleted', { schema: undefined, examples: [{ userId: 'u1' }] });
      expect(created.schema).toEqual({ type: 'object' });
      expect((await h.call('POST', events(), { body: { type: 'user.deleted', payload: { anything: [1] } } })).status).toBe(202);
      expect((await h.call('POST', events(), { body: { type: 'user.deleted', payload: [1] } })).body.error.details).toEqual([
        { path: 'payload', message: 'must be object' },
      ]);
    });
  });

  describe('who may write', () => {
    it.each([
      ['POST', '/v1/event-types', { ...orderPaid, type: 'order.refunded' }],
      ['PATCH', '/v1/event-types/order.paid', { description: 'changed' }],
      ['DELETE', '/v1/event-types/order.paid', undefined],
    ])('answers 403 to %s with a subscriber or publisher key, and changes nothing', async (method, path, body) => {
      for (const key of [sub.apiKey, publisherKey]) {
        const res = await h.call(method, path, { key, body });
        expect([res.status, res.body.error.code]).toEqual([403, 'forbidden']);
      }
      expect((await h.call('GET', '/v1/event-types/order.refunded')).status).toBe(404);
      expect((await h.call('GET', '/v1/event-types/order.paid')).body).toMatchObject({
        description: 'An order was paid in full.',
        archived: false,
      });
    });
  });

  describe('conflicts', () => {
    it.each([['incident.triggered'], ['receipt.sms.delivered'], ['hookrelay.test'], ['custom.*']])(
      'answers 409 built_in to creating, changing or archiving %s',
      async (type) => {
        const path = `/v1/event-types/${encodeURIComponent(type)}`;
        for (const res of [
          await h.call('POST', '/v1/event-types', { body: { type, schema: { type: 'object' } } }),
          await h.call('PATCH', path, { body: { description: 'mine now' } }),
          await h.call('DELETE', path),
        ]) {
          if (type === 'custom.*' && res.status === 400) continue; // `*` is not a name POST accepts at all
          expect([res.status, res.body.error.code, res.body.error.message]).toEqual([409, 'built_in', expect.stringContaining(type)]);
        }
      },
    );

    // In any case (issue 20): `Endpoint.disabled` must not pass for an operator's own type.
    it.each([
      ['hookrelay.deploy'],
      ['endpoint.created'],
      ['incident.escalated'],
      ['receipt.fax.sent'],
      ['custom.order.paid'],
      ['source.jira.issue'],
      ['Endpoint.disabled'],
      ['INCIDENT.escalated'],
      ['Custom.order'],
      ['Source.jira'],
    ])('answers 409 reserved_namespace to %s', async (type) => {
      const res = await h.call('POST', '/v1/event-types', { body: { type } });
      expect([res.status, res.body.error.code, res.body.error.message]).toEqual([
        409,
        'reserved_namespace',
        expect.stringContaining(`"${type.split('.')[0]}."`),
      ]);
    });

    it('answers 409 event_type_exists to a name already defined', async () => {
      await create('shipment.sent');
      const again = await h.call('POST', '/v1/event-types', { body: { type: 'shipment.sent', description: 'other' } });
      expect([again.status, again.body.error.code, again.body.error.message]).toEqual([
        409,
        'event_type_exists',
        expect.stringContaining('shipment.sent'),
      ]);
      expect((await h.call('GET', '/v1/event-types/shipment.sent')).body.description).toBe(orderPaid.description);
    });
  });

  describe('bad schemas and examples (400, nothing stored)', () => {
    async function refused(body: Record<string, unknown>) {
      const type = `bad.t${Math.random().toString(36).slice(2, 8)}`;
      const res = await h.call('POST', '/v1/event-types', { body: { type, ...body } });
      expect([res.status, res.body.error.code]).toEqual([400, 'validation_failed']);
      expect((await h.call('GET', `/v1/event-types/${type}`)).status).toBe(404);
      return res.body.error.details as Array<{ path: string; message: string }>;
    }

    it('names each example that fails the schema and where', async () => {
      const details = await refused({
        schema: orderPaid.schema,
        examples: [orderPaid.examples[0], { orderId: 'ord_2', amount: { value: -5, currency: 'EUR' } }, { orderId: 'nope' }],
      });
      expect(details).toEqual([
        { path: 'examples.1.amount.value', message: 'must be >= 0' },
        { path: 'examples.2.amount', message: "must have required property 'amount'" },
        { path: 'examples.2.orderId', message: 'must match pattern "^ord_[0-9a-z]+$"' },
      ]);
    });

    it('refuses a remote $ref', async () => {
      expect(await refused({ schema: { properties: { a: { $ref: 'https://schemas.example.com/address.json' } } } })).toEqual([
        { path: 'schema.properties.a.$ref', message: expect.stringContaining('only references starting with # are allowed') },
      ]);
    });

    it('refuses a schema over 64 KB', async () => {
      const properties = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`field${i}`, { type: 'string', maxLength: 100 }]));
      expect(JSON.stringify({ properties }).length).toBeGreaterThan(65_536);
      expect(await refused({ schema: { properties } })).toEqual([
        { path: 'schema', message: expect.stringMatching(/bytes; a schema may be at most 65536 bytes \(64 KB\)$/) },
      ]);
    });

    it('refuses a catastrophic-backtracking pattern rather than let a payload meet it', async () => {
      const details = await refused({ schema: { type: 'object', properties: { sku: { type: 'string', pattern: '^([a-z]+)+$' } } } });
      expect(details).toEqual([
        { path: 'schema.properties.sku.pattern', message: expect.stringMatching(/exponential time on a crafted string/) },
      ]);
    });

    it("answers a schema that does not compile with the validator's reason", async () => {
      expect(await refused({ schema: { type: 'object', properties: { a: { type: 'strnig' } } } })).toEqual([
        {
          path: 'schema',
          message: expect.stringMatching(
            /^does not compile: schema is invalid: data\/properties\/a\/type must be equal to one of the allowed values/,
          ),
        },
      ]);
      expect(await refused({ schema: { type: 'object', requried: ['a'] } })).toEqual([
        { path: 'schema', message: 'does not compile: strict mode: unknown keyword: "requried"' },
      ]);
    });

    it('refuses a name that is not at least two dot-separated words', async () => {
      for (const type of ['orders', 'order..paid', 'order.*', 'order paid']) {
        const res = await h.call('POST', '/v1/event-types', { body: { type } });
        expect([res.status, res.body.error.details?.[0]?.path]).toEqual([400, 'type']);
      }
    });
  });

  describe('publishing against the catalog', () => {
    beforeAll(async () => {
      await create('payment.captured', { examples: [orderPaid.examples[0]] });
    });

    it('accepts a payload that passes the schema, and refuses one that fails with each path and message', async () => {
      expect(
        (await h.call('POST', events(), { key: publisherKey, body: { type: 'payment.captured', payload: orderPaid.examples[0] } })).status,
      ).toBe(202);
      const bad = await h.call('POST', events(), {
        key: publisherKey,
        body: { type: 'payment.captured', payload: { orderId: 'x', amount: { value: 1.5 } } },
      });
      expect(bad.status).toBe(400);
      // The same shape as a built-in type's failure.
      expect(bad.body.error).toEqual({
        code: 'validation_failed',
        message: expect.stringMatching(/^invalid event: payload\.orderId: must match pattern/),
        details: [
          { path: 'payload.orderId', message: 'must match pattern "^ord_[0-9a-z]+$"' },
          { path: 'payload.amount.currency', message: "must have required property 'currency'" },
          { path: 'payload.amount.value', message: 'must be integer' },
        ],
      });
      const builtIn = await h.call('POST', events(), { body: { type: 'incident.triggered', payload: {} } });
      expect(Object.keys(builtIn.body.error).sort()).toEqual(['code', 'details', 'message']);
      expect(builtIn.body.error.code).toBe('validation_failed');
    });

    it('keeps a batch all-or-nothing: one failing event refuses the batch and stores nothing', async () => {
      const before = await h.redis.keys(`${h.prefix}:ev:*`);
      const res = await h.call('POST', `${events()}/batch`, {
        body: {
          events: [
            { type: 'payment.captured', payload: orderPaid.examples[0] },
            { type: 'payment.captured', payload: { orderId: 'ord_1' } },
          ],
        },
      });
      expect([res.status, res.body.error.details]).toEqual([
        400,
        [{ path: 'events.1.payload.amount', message: "must have required property 'amount'" }],
      ]);
      expect(await h.redis.keys(`${h.prefix}:ev:*`)).toEqual(before);
    });

    it('keeps custom.* as it was: any JSON object, no schema', async () => {
      expect((await h.call('POST', events(), { body: { type: 'custom.anything.goes', payload: { a: 1 } } })).status).toBe(202);
      expect((await h.call('POST', events(), { body: { type: 'custom.anything.goes', payload: 'text' } })).status).toBe(400);
    });

    it('refuses an unknown type as before', async () => {
      const res = await h.call('POST', events(), { body: { type: 'payment.unheard', payload: {} } });
      expect([res.status, res.body.error.details]).toEqual([
        400,
        [{ path: 'type', message: expect.stringContaining('unknown event type "payment.unheard"') }],
      ]);
    });

    it('enforces a PATCH that adds a required property at once', async () => {
      await create('refund.issued', { examples: [] });
      const payload = { orderId: 'ord_9', amount: { value: 5, currency: 'EUR' } };
      expect((await h.call('POST', events(), { body: { type: 'refund.issued', payload } })).status).toBe(202);
      const schema = {
        ...orderPaid.schema,
        required: ['orderId', 'amount', 'reason'],
        properties: { ...orderPaid.schema.properties, reason: { type: 'string' } },
      };
      const patched = await h.call('PATCH', '/v1/event-types/refund.issued', { body: { schema } });
      expect([patched.status, patched.body.schema.required]).toEqual([200, ['orderId', 'amount', 'reason']]);
      expect((await h.call('POST', events(), { body: { type: 'refund.issued', payload } })).body.error.details).toEqual([
        { path: 'payload.reason', message: "must have required property 'reason'" },
      ]);
      expect((await h.call('POST', events(), { body: { type: 'refund.issued', payload: { ...payload, reason: 'damaged' } } })).status).toBe(
        202,
      );
    });

    it('refuses a schema change the stored examples fail, unless new examples come with it', async () => {
      await create('refund.denied');
      const schema = { type: 'object', required: ['denialCode'], properties: { denialCode: { type: 'string' } } };
      const res = await h.call('PATCH', '/v1/event-types/refund.denied', { body: { schema } });
      expect([res.status, res.body.error.details[0]]).toEqual([
        400,
        { path: 'examples.0.denialCode', message: "must have required property 'denialCode'" },
      ]);
      expect((await h.call('GET', '/v1/event-types/refund.denied')).body.schema).toEqual(orderPaid.schema);
      const both = await h.call('PATCH', '/v1/event-types/refund.denied', {
        body: { schema, examples: [{ denialCode: 'late' }], description: 'Refund refused.' },
      });
      expect(both.body).toMatchObject({
        schema,
        examples: [{ denialCode: 'late' }],
        example: { denialCode: 'late' },
        description: 'Refund refused.',
      });
      expect(both.body.updatedAt).toBeGreaterThanOrEqual(both.body.createdAt);
    });
  });

  describe('deprecating and archiving', () => {
    it('accepts a deprecated type with a Deprecation header and a link to it', async () => {
      await create('cart.abandoned', { examples: [] });
      const patched = await h.call('PATCH', '/v1/event-types/cart.abandoned', { body: { deprecated: true } });
      expect(patched.body.deprecated).toBe(true);
      const res = await h.call('POST', events(), { body: { type: 'cart.abandoned', payload: orderPaid.examples[0] } });
      expect(res.status).toBe(202);
      expect(res.headers.get('deprecation')).toMatch(/^@\d{10}$/);
      expect(Number(res.headers.get('deprecation')!.slice(1)) * 1000).toBeLessThanOrEqual(Date.now());
      expect(res.headers.get('link')).toBe('</v1/event-types/cart.abandoned>; rel="deprecation"; type="application/json"');
      const batch = await h.call('POST', `${events()}/batch`, {
        body: {
          events: [
            { type: 'custom.x', payload: {} },
            { type: 'cart.abandoned', payload: orderPaid.examples[0] },
          ],
        },
      });
      expect([batch.status, batch.headers.get('deprecation')]).toEqual([202, res.headers.get('deprecation')]);
      const current = await h.call('POST', events(), { body: { type: 'custom.x', payload: {} } });
      expect(current.headers.get('deprecation')).toBeNull();
      await h.call('PATCH', '/v1/event-types/cart.abandoned', { body: { deprecated: false } });
      expect(
        (await h.call('POST', events(), { body: { type: 'cart.abandoned', payload: orderPaid.examples[0] } })).headers.get('deprecation'),
      ).toBeNull();
    });

    it('archives on DELETE: hidden from the list, refused on publish with event_type_archived, restorable', async () => {
      await create('cart.expired');
      const archived = await h.call('DELETE', '/v1/event-types/cart.expired');
      expect([archived.status, archived.body.archived]).toEqual([200, true]);
      expect((await h.call('DELETE', '/v1/event-types/cart.expired')).body).toEqual(archived.body); // already archived: unchanged

      const res = await h.call('POST', events(), { body: { type: 'cart.expired', payload: orderPaid.examples[0] } });
      expect([res.status, res.body.error.code, res.body.error.details]).toEqual([
        400,
        'event_type_archived',
        [{ path: 'type', message: 'archived' }],
      ]);
      const batch = await h.call('POST', `${events()}/batch`, {
        body: {
          events: [
            { type: 'custom.x', payload: {} },
            { type: 'cart.expired', payload: orderPaid.examples[0] },
          ],
        },
      });
      expect([batch.status, batch.body.error.code, batch.body.error.details]).toEqual([
        400,
        'event_type_archived',
        [{ path: 'events.1.type', message: 'archived' }],
      ]);

      expect((await h.call('GET', '/v1/event-types')).body.data.some((t: { type: string }) => t.type === 'cart.expired')).toBe(false);
      expect(
        (await h.call('GET', '/v1/event-types?includeArchived=true')).body.data.find((t: { type: string }) => t.type === 'cart.expired'),
      ).toMatchObject({ archived: true });
      expect((await h.call('GET', '/v1/event-types/cart.expired')).body.archived).toBe(true);
      expect((await h.call('POST', '/v1/event-types', { body: { type: 'cart.expired' } })).body.error.code).toBe('event_type_exists');

      expect((await h.call('PATCH', '/v1/event-types/cart.expired', { body: { archived: false } })).body.archived).toBe(false);
      expect((await h.call('POST', events(), { body: { type: 'cart.expired', payload: orderPaid.examples[0] } })).status).toBe(202);
    });
  });

  describe('test sends', () => {
    let receiver: TestReceiver;
    let endpointId: string;
    beforeAll(async () => {
      receiver = await TestReceiver.start();
      endpointId = (await h.call('POST', `/v1/subscribers/${sub.id}/endpoints`, { key: sub.apiKey, body: { url: `${receiver.url}/hook` } }))
        .body.id;
    });
    afterAll(() => receiver?.close());

    it('sends a defined type with its first example as the payload', async () => {
      await create('order.shipped');
      const res = await h.call('POST', `/v1/subscribers/${sub.id}/endpoints/${endpointId}/test`, {
        key: sub.apiKey,
        body: { type: 'order.shipped' },
      });
      expect([res.status, res.body.attempt?.outcome]).toEqual([200, 'delivered']);
      const [request] = await receiver.waitForRequests(1);
      expect(request!.headers['x-hookrelay-event-type']).toBe('order.shipped');
      expect(JSON.parse(request!.body.toString())).toEqual(orderPaid.examples[0]);
    });

    it('refuses an archived type', async () => {
      await create('order.lost');
      await h.call('DELETE', '/v1/event-types/order.lost');
      const res = await h.call('POST', `/v1/subscribers/${sub.id}/endpoints/${endpointId}/test`, {
        key: sub.apiKey,
        body: { type: 'order.lost' },
      });
      expect([res.status, res.body.error.code]).toEqual([400, 'event_type_archived']);
    });
  });
});

describe('HOOKRELAY_BUILTIN_CATALOG=false', () => {
  let h: ApiHarness;
  let sid: string;
  beforeAll(async () => {
    h = await startApiHarness({ worker: false, builtInCatalog: false });
    sid = (await h.call('POST', '/v1/subscribers', { body: { name: 'Acme' } })).body.id;
  });
  afterAll(async () => {
    await h?.close();
  });

  it("hides the Webex Connect and Zenduty types from listing and publishing, and keeps Hookrelay's own", async () => {
    const types = (await h.call('GET', '/v1/event-types')).body.data.map((t: { type: string }) => t.type);
    expect(types).toEqual(['custom.*', 'endpoint.disabled', 'hookrelay.test']);
    expect((await h.call('GET', '/v1/event-types/incident.triggered')).status).toBe(404);
    const res = await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'receipt.sms.delivered', payload: {} } });
    expect([res.status, res.body.error.details[0].message]).toEqual([
      400,
      expect.stringContaining('unknown event type "receipt.sms.delivered"'),
    ]);
    // Their namespaces stay reserved, so switching the catalog back on can never clash.
    expect((await h.call('POST', '/v1/event-types', { body: { type: 'incident.opened' } })).body.error.code).toBe('reserved_namespace');
    expect((await h.call('POST', '/v1/event-types', { body: { type: 'ticket.opened', examples: [{}] } })).status).toBe(201);
    expect((await h.call('POST', `/v1/subscribers/${sid}/events`, { body: { type: 'ticket.opened', payload: {} } })).status).toBe(202);
  });
});
