import { DEFAULT_DEDUPE_WINDOW_SECONDS, type SourceDedupe, type SourceFormat, type SourceVerification } from './source-input';

export type VerificationType = SourceVerification['type'];

/** What a verification type fills in when the source leaves it out. */
export interface ProviderDefaults {
  /** Stored as the source's `eventType`; absent: the source must name one. */
  eventType?: string;
  /** A header the sender sets once per delivery and repeats on its retries. */
  dedupe?: SourceDedupe;
  format: SourceFormat;
}

/**
 * Each vendor's defaults, from what it sends (CONTRACTS.md "Senders a workflow engine's webhook
 * task accepts"):
 * - GitHub names the event in `X-GitHub-Event` and most bodies carry an `action`
 *   (`github.pull_request.opened`; a push has none: `github.push`); `X-GitHub-Delivery` repeats on
 *   a redelivery.
 * - Shopify names the topic in `X-Shopify-Topic` (`orders/create` -> `shopify.orders.create`);
 *   `X-Shopify-Webhook-Id` repeats on a retry.
 * - PagerDuty v3 bodies carry `event.event_type` (`incident.triggered`); Meta's carry `object`
 *   (`page`, `instagram`); SendGrid events carry `event` (`delivered`, `bounce`).
 * - Twilio posts forms (its JSON webhooks set `format: "json"`).
 * - Zendesk, Twitter and Twilio bodies have no field naming their kind that holds across products,
 *   so their default is one fixed type the source can replace with a template.
 */
export function providerDefaults(v: SourceVerification): ProviderDefaults {
  switch (v.type) {
    case 'github':
      return {
        eventType: 'github.{header:X-GitHub-Event}.{$.action?}',
        dedupe: { header: 'x-github-delivery', windowSeconds: DEFAULT_DEDUPE_WINDOW_SECONDS },
        format: 'json',
      };
    case 'shopify':
      return {
        eventType: 'shopify.{header:X-Shopify-Topic}',
        dedupe: { header: 'x-shopify-webhook-id', windowSeconds: DEFAULT_DEDUPE_WINDOW_SECONDS },
        format: 'json',
      };
    case 'pagerduty':
      return { eventType: 'pagerduty.{$.event.event_type}', format: 'json' };
    case 'facebook':
      return { eventType: 'facebook.{$.object}', format: 'json' };
    case 'sendgrid':
      return { eventType: v.splitEvents ? 'sendgrid.{$.event}' : 'source.sendgrid.batch', format: 'json' };
    case 'twilio':
      return { eventType: 'source.twilio', format: 'form' };
    case 'zendesk':
      return { eventType: 'source.zendesk', format: 'json' };
    case 'twitter':
      return { eventType: 'source.twitter', format: 'json' };
    case 'stripe':
      return { eventType: 'stripe.{$.type}', format: 'json' };
    case 'slack':
      return { eventType: 'slack.{$.event.type}', format: 'json' };
    case 'none':
    case 'header':
    case 'hmac':
    case 'standard-webhooks':
    case 'basic':
      return { format: 'json' };
  }
}

/** Types whose check needs HOOKRELAY_PUBLIC_URL: Twilio signs the full URL it called. */
export function needsPublicUrl(v: SourceVerification): boolean {
  return v.type === 'twilio';
}
