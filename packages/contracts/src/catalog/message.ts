import { z } from 'zod';
import type { EventTypeInfo } from './event-type-info';

/**
 * Channels whose incoming messages Webex Connect forwards ("Incoming calls and messages from
 * customers across channels", reference/webex-connect-outbound-webhooks.txt). Voice is not here:
 * incoming calls are `call.incoming`.
 */
export const INCOMING_MESSAGE_CHANNELS = ['sms', 'mms', 'whatsapp', 'messenger', 'email', 'rcs', 'inapp'] as const;
export type IncomingMessageChannel = (typeof INCOMING_MESSAGE_CHANNELS)[number];

// Webex sends counters and epoch times as strings in some payloads and numbers in others.
const numberOrString = z.union([z.string(), z.number()]);

/**
 * SMS carries text only. The richer channels can carry media, buttons or an email body, and the
 * guide warns that "the payloads vary for each message type ... and each channel", so there
 * `message` may also be an object.
 */
function messageBodySchema(channel: IncomingMessageChannel) {
  if (channel === 'sms') return z.string();
  return z.union([z.string(), z.record(z.string(), z.unknown())]);
}

/**
 * Webex's incoming-message body, with the field names CONTRACTS.md lists for incoming SMS
 * (`Channel`, `da`, `oa`, `message`, ...): `da` is the address the customer wrote to (our number
 * or inbox), `oa` the customer's own. Loose, because the guide asks receivers to stay flexible as
 * Webex adds fields; `Channel` is not cross-checked with the type since its spelling per channel
 * is not documented in our copy.
 */
export function incomingMessagePayloadSchema(channel: IncomingMessageChannel) {
  return z.looseObject({
    Channel: z.string(),
    da: z.string(),
    oa: z.string(),
    message: messageBodySchema(channel),
    messageCount: numberOrString.optional(),
    tid: numberOrString.optional(),
    datetime: z.string().optional(),
    ts: numberOrString.optional(),
    message_source: z.string().optional(),
    x_networkid: z.string().optional(),
  });
}

/** Addresses and a first message that fit each channel. */
const EXAMPLES: Record<IncomingMessageChannel, { da: string; oa: string; message: string | Record<string, unknown> }> = {
  sms: { da: '14155550199', oa: '14155550123', message: 'STOP' },
  mms: {
    da: '14155550199',
    oa: '14155550123',
    message: { text: 'Damaged on arrival', media: [{ contentType: 'image/jpeg', url: 'https://media.example.com/m/8812.jpg' }] },
  },
  whatsapp: { da: '14155550199', oa: '447700900123', message: 'Where is my order #84213?' },
  messenger: { da: '104857293847561', oa: '5238861126235047', message: 'Hi, can I change my delivery address?' },
  email: {
    da: 'support@shop.example.com',
    oa: 'dana@example.com',
    message: { subject: 'Refund for order 84213', text: 'Hello, the parcel never arrived.' },
  },
  rcs: { da: 'shop_example_agent', oa: '14155550123', message: 'Yes, book the 10:00 slot' },
  inapp: { da: 'c1a6e0b4-5d2f-4f0e-9a51-0d3b7c2e8f41', oa: 'user-48213', message: 'Talk to an agent' },
};

function incomingMessageExample(channel: IncomingMessageChannel) {
  return {
    Channel: channel,
    ...EXAMPLES[channel],
    messageCount: '1',
    tid: '7311904288119',
    datetime: '2024-05-14 09:21:07',
    ts: '1715678467',
    message_source: channel === 'sms' ? 'longcode' : 'api',
    ...(channel === 'sms' || channel === 'mms' ? { x_networkid: '310260' } : {}),
  };
}

const CHANNEL_NAMES: Record<IncomingMessageChannel, string> = {
  sms: 'an SMS',
  mms: 'an MMS',
  whatsapp: 'a WhatsApp message',
  messenger: 'a Messenger message',
  email: 'an email',
  rcs: 'an RCS message',
  inapp: 'an in-app / live chat message',
};

export function incomingMessageEventTypes(): EventTypeInfo[] {
  return INCOMING_MESSAGE_CHANNELS.map((channel) => ({
    type: `message.incoming.${channel}`,
    description: `A customer sent ${CHANNEL_NAMES[channel]} to a Webex Connect number or asset.`,
    schema: incomingMessagePayloadSchema(channel),
    example: incomingMessageExample(channel),
  }));
}
