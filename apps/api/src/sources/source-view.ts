import type { Source, SourceVerification } from './source-input';

/**
 * What the API shows of a verification: built from an allow-list, so secrets (HMAC and signing
 * secrets, auth tokens, passwords, verify tokens, expected header values) are write-only and a field added later stays hidden
 * until someone decides it is safe to show.
 */
export function publicVerificationView(v: SourceVerification) {
  switch (v.type) {
    case 'none':
      return { type: v.type };
    case 'header':
      return { type: v.type, headerNames: Object.keys(v.headers), configured: true };
    case 'hmac':
      return {
        type: v.type,
        header: v.header,
        algorithm: v.algorithm,
        encoding: v.encoding,
        ...(v.prefix !== undefined ? { prefix: v.prefix } : {}),
        configured: true,
      };
    case 'stripe':
    case 'standard-webhooks':
      return { type: v.type, toleranceSeconds: v.toleranceSeconds, configured: true };
    case 'slack':
      return { type: v.type, configured: true };
    case 'basic':
      return { type: v.type, username: v.username, configured: true };
    case 'github':
    case 'twilio':
    case 'pagerduty':
    case 'facebook':
    case 'twitter':
    case 'shopify':
      return { type: v.type, configured: true };
    case 'zendesk':
      return { type: v.type, toleranceSeconds: v.toleranceSeconds, configured: true };
    case 'sendgrid':
      // The verification key is public (it only checks signatures): shown so it can be compared with SendGrid's settings.
      return { type: v.type, publicKey: v.publicKey, toleranceSeconds: v.toleranceSeconds, splitEvents: v.splitEvents, configured: true };
  }
}

/** The ingest path for a token; callers put their own origin in front of it. */
export function ingestPath(token: string): string {
  return `/in/${token}`;
}

export interface SourceViewOptions {
  /** Some of the source's secrets could not be decrypted (a listing shows it all the same). */
  secretUnreadable?: boolean;
  /**
   * The caller is a read-only portal session: the ingest URL is a credential (holding it is what
   * lets a sender publish), so a session that may not change anything is not shown it.
   */
  hideIngestUrl?: boolean;
}

/** A source as the API shows it. The ingest URL is shown: holding it is what lets a sender call it. */
export function sourceView(source: Source, verifiedAt: number | null, options: SourceViewOptions = {}) {
  // A listed source whose token could not be decrypted has none (SourceStore.list): no URL to show.
  const token = options.hideIngestUrl ? null : (source.token as string | null);
  return {
    id: source.id,
    subscriberId: source.subscriberId,
    name: source.name,
    status: verifiedAt === null ? ('unverified' as const) : ('verified' as const),
    verifiedAt,
    ingestUrl: token === null ? null : ingestPath(token),
    ...(options.hideIngestUrl ? { ingestUrlHidden: true } : {}),
    ...(options.secretUnreadable ? { secretUnreadable: true } : {}),
    eventType: source.eventType,
    verification: publicVerificationView(source.verification),
    matches: source.matches,
    format: source.format,
    rateLimit: source.rateLimit,
    dedupe: source.dedupe ?? null,
    createdAt: source.createdAt,
    updatedAt: source.updatedAt,
  };
}
