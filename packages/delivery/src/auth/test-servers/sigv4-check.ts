// Test-only: how a receiver behind AWS SigV4 checks a request, by signing it again with aws4.
import aws4 from 'aws4';
import type { ReceivedRequest } from '@hookrelay/testing';

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Recomputes the signature from what arrived: the same host header, path, body, x-amz-date and
 * the headers the Authorization names in SignedHeaders, and compares the Authorization headers.
 * Anything changed in transit (body, a signed header, the path) makes them differ.
 */
export function sigV4Matches(req: ReceivedRequest, creds: SigV4Credentials, region: string, service: string): boolean {
  const authorization = req.headers.authorization;
  const signedNames = /SignedHeaders=([^,\s]+)/.exec(authorization ?? '')?.[1]?.split(';');
  if (!authorization || !signedNames || !req.headers['x-amz-date']) return false;
  const headers: Record<string, string> = {};
  for (const name of signedNames) {
    const value = req.headers[name];
    if (value === undefined) return false;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const signed = aws4.sign(
    { host: req.headers.host, path: req.url, method: req.method, body: req.body.toString('utf8'), headers, service, region },
    creds,
  );
  return signed.headers?.Authorization === authorization;
}
