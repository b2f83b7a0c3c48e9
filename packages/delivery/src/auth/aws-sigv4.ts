import aws4 from 'aws4';
import type { EndpointAuth } from '@hookrelay/contracts';
import type { OutboundRequest } from '../send';

type SigV4Auth = Extract<EndpointAuth, { type: 'aws-sigv4' }>;

/** SigV4's timestamp form, e.g. 20260102T030405Z (ISO 8601 basic, UTC, whole seconds). */
export function amzDate(nowMs: number): string {
  return new Date(nowMs).toISOString().replace(/[:-]|\.\d{3}/g, '');
}

/**
 * Signs the request with AWS Signature Version 4 through the `aws4` library. It must run last:
 * the signature covers the body and every header present (Hookrelay's, the endpoint's custom
 * ones, the webhook signature), so nothing may be added afterwards. Host and Content-Length are
 * set here, to exactly what undici will send, so the receiver sees the signed values.
 */
export function signAwsSigV4(request: OutboundRequest, auth: SigV4Auth, nowMs: number): OutboundRequest {
  const url = new URL(request.url);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  headers.host = url.host;
  headers['content-length'] = String(Buffer.byteLength(request.body));
  headers['x-amz-date'] = amzDate(nowMs);
  delete headers.authorization;

  const signed = aws4.sign(
    {
      host: url.host,
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      body: request.body,
      headers,
      service: auth.service,
      region: auth.region,
    },
    {
      accessKeyId: auth.accessKeyId,
      secretAccessKey: auth.secretAccessKey,
      ...(auth.sessionToken ? { sessionToken: auth.sessionToken } : {}),
    },
  );
  // aws4 adds Authorization and X-Amz-Security-Token in its own case; keep one spelling per name.
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers ?? {})) if (value !== undefined) out[name.toLowerCase()] = String(value);
  return { ...request, headers: out };
}
