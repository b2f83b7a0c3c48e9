import { EVENT_TYPE_RE } from '../event-type';
import {
  CALL_EVENTS,
  eventTypeCatalogJson,
  eventTypeLabel,
  INCIDENT_EVENTS,
  INCOMING_MESSAGE_CHANNELS,
  listEventTypes,
  RECEIPT_STATUSES_BY_CHANNEL,
  validateEventPayload,
  OPERATIONAL_EVENTS,
} from './index';

function exampleOf(type: string): any {
  const info = listEventTypes().find((i) => i.type === type);
  if (!info) throw new Error(`no such type ${type}`);
  return structuredClone(info.example);
}

const types = listEventTypes().map((i) => i.type);

describe('listEventTypes', () => {
  it('holds one type per incident event, receipt status, incoming channel, call event and operational event', () => {
    const receipts = Object.values(RECEIPT_STATUSES_BY_CHANNEL).reduce((n, statuses) => n + statuses.length, 0);
    const expected = INCIDENT_EVENTS.length + receipts + INCOMING_MESSAGE_CHANNELS.length + CALL_EVENTS.length + OPERATIONAL_EVENTS.length;
    expect(expected).toBe(73);
    expect(types).toHaveLength(expected);
    expect(new Set(types).size).toBe(types.length);
  });

  it('includes the types receivers subscribe to by name', () => {
    for (const type of [
      'incident.resolved',
      'receipt.sms.undelivered',
      'receipt.email.complaint',
      'receipt.email.not_verified',
      'receipt.gbm.read',
      'receipt.applebusiness.submitted',
      'message.incoming.inapp',
      'call.disconnected',
    ]) {
      expect(types).toContain(type);
    }
    expect(types).not.toContain('receipt.applebusiness.delivered');
  });

  it('is sorted by type name and every name is a valid, non-custom event type', () => {
    expect(types).toEqual([...types].sort());
    for (const type of types) {
      expect(type).toMatch(EVENT_TYPE_RE);
      expect(type.startsWith('custom.')).toBe(false);
    }
  });

  it.each(listEventTypes().map((i) => [i.type, i] as const))('%s has a description and an example that passes', (_, info) => {
    expect(info.description.length).toBeGreaterThan(10);
    expect(info.schema.safeParse(info.example).success).toBe(true);
    expect(validateEventPayload(info.type, info.example)).toEqual({ ok: true });
  });
});

describe('validateEventPayload', () => {
  it('rejects an unknown type at path ["type"]', () => {
    const result = validateEventPayload('incident.exploded', {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]?.path).toEqual(['type']);
  });

  it('rejects a Zenduty body whose event_type disagrees with the type', () => {
    const body = exampleOf('incident.triggered');
    body.payload.event_type = 'resolved';
    const result = validateEventPayload('incident.triggered', body);
    expect(result).toEqual({
      ok: false,
      issues: [{ path: ['payload', 'payload', 'event_type'], message: expect.stringContaining('triggered') }],
    });
  });

  it('names the missing incident.unique_id', () => {
    const body = exampleOf('incident.acknowledged');
    delete body.payload.incident.unique_id;
    const result = validateEventPayload('incident.acknowledged', body);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).toEqual([['payload', 'payload', 'incident', 'unique_id']]);
  });

  it('keeps fields Zenduty adds later and accepts the nulls the guide shows', () => {
    const body = exampleOf('incident.triggered');
    body.payload.incident.new_vendor_field = { anything: true };
    body.payload.incident.assigned_to = null;
    body.payload.incident.priority = null;
    body.payload.delivered_by = 'zenduty-v3';
    expect(validateEventPayload('incident.triggered', body)).toEqual({ ok: true });
  });

  it('rejects an incident status outside 1..3', () => {
    const body = exampleOf('incident.resolved');
    body.payload.incident.status = 4;
    const result = validateEventPayload('incident.resolved', body);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]?.path).toEqual(['payload', 'payload', 'incident', 'status']);
  });

  describe('SMS receipts', () => {
    it.each(['Un-Delivered', 'UNDELIVERED', 'un_delivered'])('accepts deliveryStatus %s for receipt.sms.undelivered', (status) => {
      const body = exampleOf('receipt.sms.undelivered');
      body.deliveryInfoNotification.deliveryInfo.deliveryStatus = status;
      expect(validateEventPayload('receipt.sms.undelivered', body)).toEqual({ ok: true });
    });

    it('rejects a deliveryStatus that names another status', () => {
      const body = exampleOf('receipt.sms.delivered');
      body.deliveryInfoNotification.deliveryInfo.deliveryStatus = 'Failed';
      const result = validateEventPayload('receipt.sms.delivered', body);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.issues[0]?.path).toEqual(['payload', 'deliveryInfoNotification', 'deliveryInfo', 'deliveryStatus']);
      }
    });

    it('does not check deliveryStatus for channels whose wire values are undocumented', () => {
      const body = exampleOf('receipt.email.complaint');
      body.deliveryInfoNotification.deliveryInfo.deliveryStatus = 'COMPLAINED';
      expect(validateEventPayload('receipt.email.complaint', body)).toEqual({ ok: true });
    });
  });

  it('requires callId on call events', () => {
    const result = validateEventPayload('call.answered', { from: '+14155550123' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]?.path).toEqual(['payload', 'callId']);
  });

  describe('custom types', () => {
    it('accepts any JSON object', () => {
      expect(validateEventPayload('custom.order.paid', { orderId: 'ord_1', lines: [1, 2] })).toEqual({ ok: true });
      expect(validateEventPayload('custom.ping', {})).toEqual({ ok: true });
    });

    it.each([[[1, 2]], ['text'], [42], [null]])('rejects the payload %p at path ["payload"]', (payload) => {
      const result = validateEventPayload('custom.order.paid', payload);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.issues[0]?.path).toEqual(['payload']);
    });

    it.each(['custom', 'custom.', 'custom..paid', 'customer.created'])('rejects the type %s at path ["type"]', (type) => {
      const result = validateEventPayload(type, {});
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.issues.map((i) => i.path)).toEqual([['type']]);
    });
  });
});

describe('eventTypeCatalogJson', () => {
  const catalog = eventTypeCatalogJson() as ReadonlyArray<{
    type: string;
    description: string;
    schema: any;
    example: unknown;
    examples: unknown[];
    builtIn: boolean;
    deprecated: boolean;
    archived: boolean;
  }>;

  it('lists every built-in type plus custom.*, as plain JSON', () => {
    expect(catalog.map((e) => e.type)).toEqual([...types, 'custom.*']);
    expect(JSON.parse(JSON.stringify(catalog))).toEqual(catalog);
  });

  it('marks each entry built in, current, with its one example also as the list of examples', () => {
    for (const entry of catalog) {
      expect({
        type: entry.type,
        builtIn: entry.builtIn,
        deprecated: entry.deprecated,
        archived: entry.archived,
        examples: entry.examples,
      }).toEqual({
        type: entry.type,
        builtIn: true,
        deprecated: false,
        archived: false,
        examples: [entry.example],
      });
    }
  });

  it('gives each type a JSON Schema object with its required fields', () => {
    const incident = catalog.find((e) => e.type === 'incident.triggered')!;
    expect(incident.schema.type).toBe('object');
    expect(incident.schema.required).toEqual(['payload']);
    const inner = incident.schema.properties.payload;
    expect(inner.required).toEqual(['event_type', 'incident']);
    expect(inner.properties.event_type.const).toBe('triggered');
    expect(inner.properties.incident.required).toEqual(expect.arrayContaining(['incident_number', 'status', 'unique_id', 'title']));
    const sms = catalog.find((e) => e.type === 'receipt.sms.undelivered')!;
    const deliveryInfo = sms.schema.properties.deliveryInfoNotification.properties.deliveryInfo;
    expect(deliveryInfo.required).toEqual(expect.arrayContaining(['timeStamp', 'code', 'destination', 'deliveryStatus']));
    expect(deliveryInfo.properties.deliveryStatus.description).toContain('undelivered');
    const custom = catalog.find((e) => e.type === 'custom.*')!;
    expect(custom.schema.type).toBe('object');
  });

  it('is computed once and cannot be changed by a caller', () => {
    expect(eventTypeCatalogJson()).toBe(catalog);
    expect(Object.isFrozen(catalog)).toBe(true);
    expect(Object.isFrozen(catalog[0]?.schema)).toBe(true);
  });
});

describe('eventTypeLabel', () => {
  it.each([
    ['receipt.sms.delivered', 'receipt.sms.delivered'],
    ['incident.resolved', 'incident.resolved'],
    ['custom.order.paid', 'custom'],
    ['custom', 'unknown'],
    ['receipt.sms.exploded', 'unknown'],
    ['', 'unknown'],
  ])('labels %p as %p', (type, label) => {
    expect(eventTypeLabel(type)).toBe(label);
  });
});
