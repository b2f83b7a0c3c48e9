import { z } from 'zod';
import type { EventTypeInfo } from './event-type-info';

/**
 * Voice call events. `incoming` is the "Incoming calls" notification; the rest are the voice
 * statuses of reference/webex-connect-outbound-webhooks.txt (Offered ... Disconnected), which
 * Webex also forwards as "incoming call events".
 */
export const CALL_EVENTS = ['incoming', 'offered', 'accepted', 'answered', 'dropped', 'rejected', 'released', 'disconnected'] as const;
export type CallEvent = (typeof CALL_EVENTS)[number];

/**
 * **Hookrelay's own shape.** The Webex guide gives no body for call events (it defers to an API
 * reference we do not hold), so we require only what every call event must have to be useful, a
 * call id to correlate events of one call, and leave the rest open for publishers.
 */
export const callEventPayloadSchema = z.looseObject({
  callId: z.string().min(1),
  from: z.string().optional(),
  to: z.string().optional(),
});

const DESCRIPTIONS: Record<CallEvent, string> = {
  incoming: 'A customer is calling a Webex Connect number.',
  offered: 'A call was offered to the callee.',
  accepted: 'The callee accepted an offered call.',
  answered: 'The call was answered and media is flowing.',
  dropped: 'The call dropped before it could complete.',
  rejected: 'The callee rejected the call.',
  released: 'The call was released by the platform.',
  disconnected: 'A party hung up and the call ended.',
};

/** Extra fields an event of each kind typically carries; allowed because the schema is loose. */
const DETAILS: Partial<Record<CallEvent, Record<string, unknown>>> = {
  answered: { answeredAt: '2024-05-14T09:21:11.000Z' },
  dropped: { reason: 'network' },
  rejected: { reason: 'busy' },
  disconnected: { durationSeconds: 184, disconnectedBy: 'caller' },
};

export function callEventTypes(): EventTypeInfo[] {
  return CALL_EVENTS.map((event) => ({
    type: `call.${event}`,
    description: `${DESCRIPTIONS[event]} (Hookrelay's own payload shape: callId, from, to.)`,
    schema: callEventPayloadSchema,
    example: {
      callId: 'call_01HXZ8Q4M2K7T9V3B6N5R1C0D8',
      from: '+14155550123',
      to: '+14155550199',
      occurredAt: '2024-05-14T09:21:07.000Z',
      ...DETAILS[event],
    },
  }));
}
