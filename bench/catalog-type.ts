import { benchPayload } from './bare';

/**
 * `BENCH_CATALOG_TYPE=1` (issue 17): the ingest phase publishes this operator-defined type, whose
 * JSON Schema names 20 properties, instead of `custom.bench`, so the single- and batch-publish
 * ratios show what validating against a compiled schema costs. Both sides carry the same payload
 * (today's three fields plus 17 more), so the ratio compares like with like.
 */
export const CATALOG_EVENT_TYPE = 'bench.order.paid';

const EXTRA = 17;

export function catalogSchema(): Record<string, unknown> {
  const extra = Object.fromEntries(
    Array.from({ length: EXTRA }, (_, i) => [
      `field${i}`,
      i % 3 === 0 ? { type: 'string', maxLength: 64 } : i % 3 === 1 ? { type: 'integer', minimum: 0 } : { type: 'boolean' },
    ]),
  );
  return {
    type: 'object',
    required: ['orderId', 'amount', 'seq'],
    properties: {
      orderId: { type: 'string', pattern: '^ord_[0-9]{8}$' },
      amount: {
        type: 'object',
        required: ['value', 'currency'],
        properties: { value: { type: 'integer', minimum: 0 }, currency: { enum: ['EUR', 'USD', 'GBP'] } },
      },
      seq: { type: 'integer', minimum: 0 },
      ...extra,
    },
  };
}

/** benchPayload plus a value for each of the other 17 properties: every one of the 20 is checked. */
export function catalogPayload(seq: number): Record<string, unknown> {
  const payload = benchPayload(seq);
  for (let i = 0; i < EXTRA; i++) payload[`field${i}`] = i % 3 === 0 ? `v${i}` : i % 3 === 1 ? i : true;
  return payload;
}
