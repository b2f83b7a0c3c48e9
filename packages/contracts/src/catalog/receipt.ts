import { z } from 'zod';
import type { EventTypeInfo } from './event-type-info';

/**
 * Delivery-receipt statuses per Webex Connect channel, from the "Applicable Delivery Status" table
 * in reference/webex-connect-outbound-webhooks.txt (as summarised in CONTRACTS.md). Statuses are
 * lower snake case so they are valid type segments ("Not verified" -> not_verified). The guide's
 * voice rows "Trombone Connect"/"Trombone Releas" are left out: CONTRACTS.md does not list them
 * and the second is truncated in the guide, so we cannot name it reliably.
 */
export const RECEIPT_STATUSES_BY_CHANNEL = {
  sms: ['submitted', 'delivered', 'undelivered', 'failed', 'clicked'],
  voice: ['offered', 'accepted', 'answered', 'dropped', 'rejected', 'released', 'disconnected'],
  mms: ['submitted', 'delivered', 'failed'],
  messenger: ['submitted', 'delivered', 'read', 'failed'],
  whatsapp: ['submitted', 'delivered', 'read', 'failed'],
  push: ['submitted', 'delivered', 'read', 'failed'],
  rcs: ['submitted', 'delivered', 'read', 'failed'],
  /** Google Business Messages. */
  gbm: ['submitted', 'delivered', 'read', 'failed'],
  /** In-App Messaging / Live Chat. */
  inapp: ['submitted', 'delivered', 'read', 'failed', 'clicked'],
  email: ['submitted', 'delivered', 'not_verified', 'invalid', 'bounced', 'complaint', 'failed', 'read', 'clicked'],
  /** Apple Messages for Business. */
  applebusiness: ['submitted'],
  instagram: ['read', 'submitted', 'failed'],
} as const satisfies Record<string, readonly string[]>;

export type ReceiptChannel = keyof typeof RECEIPT_STATUSES_BY_CHANNEL;

/** `Un-Delivered`, `un_delivered` and `undelivered` all name the same status. */
function normalizeStatus(status: string): string {
  return status.toLowerCase().replace(/[-_]/g, '');
}

// Webex sends some numeric-looking fields as strings and the guide shows no types, so both forms pass.
const numberOrString = z.union([z.string(), z.number()]);

/**
 * `deliveryStatus` is checked against the type only for SMS: CONTRACTS.md names the SMS values
 * (Submitted, Delivered, Un-Delivered, Failed, Clicked); for other channels the guide names no
 * wire values, and guessing them would reject real receipts.
 */
function deliveryStatusSchema(channel: ReceiptChannel, status: string) {
  if (channel !== 'sms') return z.string();
  // JSON Schema cannot carry the refinement, so the catalog tells readers the rule in words.
  return z
    .string()
    .refine((value) => normalizeStatus(value) === normalizeStatus(status), {
      message: `deliveryStatus must name "${status}" for receipt.sms.${status}`,
    })
    .describe(`Must name "${status}"; case, "-" and "_" are ignored (Webex sends e.g. "Un-Delivered").`);
}

/**
 * Webex Connect's delivery receipt, `{deliveryInfoNotification: {deliveryInfo, carrier, subtid,
 * transid, callbackData, correlationid}}` (CONTRACTS.md). Loose throughout: the guide warns that
 * "enhancements are made to these payloads overtime" and asks receivers to stay flexible.
 */
export function receiptPayloadSchema(channel: ReceiptChannel, status: string) {
  return z.looseObject({
    deliveryInfoNotification: z.looseObject({
      deliveryInfo: z.looseObject({
        timeStamp: z.string(),
        Description: z.string().optional(),
        code: numberOrString,
        messageCount: numberOrString.optional(),
        deliveryChannel: z.string(),
        // Some channels put a structured reason here; SMS sends a string.
        additionalInfo: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
        destination: z.string(),
        destinationType: z.string().optional(),
        deliveryStatus: deliveryStatusSchema(channel, status),
      }),
      carrier: z.string().optional(),
      subtid: numberOrString.optional(),
      transid: numberOrString.optional(),
      callbackData: z.string().optional(),
      correlationid: z.string().optional(),
    }),
  });
}

/**
 * How each channel appears in a receipt's example. `destinationType` is set only where CONTRACTS.md
 * shows it ("msisdn"); for the other channels the guide names no value, so the examples omit it.
 */
const CHANNEL_EXAMPLES: Record<ReceiptChannel, { label: string; destination: string; destinationType?: string }> = {
  sms: { label: 'SMS', destination: '14155550123', destinationType: 'msisdn' },
  voice: { label: 'Voice', destination: '14155550123', destinationType: 'msisdn' },
  mms: { label: 'MMS', destination: '14155550123', destinationType: 'msisdn' },
  messenger: { label: 'Messenger', destination: '5238861126235047' },
  whatsapp: { label: 'WhatsApp', destination: '14155550123', destinationType: 'msisdn' },
  push: { label: 'Push', destination: 'c1a6e0b4-5d2f-4f0e-9a51-0d3b7c2e8f41' },
  rcs: { label: 'RCS', destination: '14155550123', destinationType: 'msisdn' },
  gbm: { label: 'GBM', destination: 'b5f6e3a2-7c1d-4e8f-a9b0-1c2d3e4f5a6b' },
  inapp: { label: 'In-App', destination: 'user-48213' },
  email: { label: 'Email', destination: 'dana@example.com' },
  applebusiness: { label: 'Apple Messages for Business', destination: 'urn:mbid:AQAAY3Rj4mV9' },
  instagram: { label: 'Instagram', destination: '6712345098765432' },
};

/**
 * Codes 7500, 7501, 7208 and 7102 are the SMS codes CONTRACTS.md quotes. Other statuses reuse 7500
 * as a placeholder: the per-channel code table lives in Webex's API reference, which we do not hold.
 */
const STATUS_EXAMPLES: Record<string, { code: string; description: string; wireStatus: string }> = {
  submitted: { code: '7501', description: 'Submitted', wireStatus: 'Submitted' },
  delivered: { code: '7500', description: 'Delivered', wireStatus: 'Delivered' },
  undelivered: { code: '7208', description: 'Message expired', wireStatus: 'Un-Delivered' },
  failed: { code: '7102', description: 'Invalid destination address', wireStatus: 'Failed' },
};

function titleCase(status: string): string {
  return status
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

function receiptExample(channel: ReceiptChannel, status: string) {
  const where = CHANNEL_EXAMPLES[channel];
  const what = STATUS_EXAMPLES[status] ?? { code: '7500', description: titleCase(status), wireStatus: titleCase(status) };
  return {
    deliveryInfoNotification: {
      deliveryInfo: {
        timeStamp: '2024-05-14T09:21:07.000Z',
        Description: what.description,
        code: what.code,
        messageCount: 1,
        deliveryChannel: where.label,
        additionalInfo: '',
        destination: where.destination,
        ...(where.destinationType ? { destinationType: where.destinationType } : {}),
        deliveryStatus: what.wireStatus,
      },
      ...(channel === 'sms' ? { carrier: 'T-Mobile US' } : {}),
      subtid: '40201',
      transid: '9f4b0c52-3d1e-4c6a-8b77-2e5a1d0c9e13',
      callbackData: 'order-84213',
      correlationid: 'c0rr-5521',
    },
  };
}

const CHANNEL_NAMES: Record<ReceiptChannel, string> = {
  sms: 'SMS',
  voice: 'voice call',
  mms: 'MMS',
  messenger: 'Messenger',
  whatsapp: 'WhatsApp',
  push: 'push notification',
  rcs: 'RCS',
  gbm: 'Google Business Messages',
  inapp: 'in-app / live chat',
  email: 'email',
  applebusiness: 'Apple Messages for Business',
  instagram: 'Instagram',
};

export function receiptEventTypes(): EventTypeInfo[] {
  return Object.entries(RECEIPT_STATUSES_BY_CHANNEL).flatMap(([key, statuses]) => {
    const channel = key as ReceiptChannel;
    return statuses.map((status: string) => ({
      type: `receipt.${channel}.${status}`,
      description: `Webex Connect ${CHANNEL_NAMES[channel]} delivery receipt: status "${status.replaceAll('_', ' ')}".`,
      schema: receiptPayloadSchema(channel, status),
      example: receiptExample(channel, status),
    }));
  });
}
