// Test-only: an OAuth 2.0 token endpoint (client credentials grant) that counts its calls.
import type { ServerResponse } from 'node:http';
import type { ReceivedRequest } from '@hookrelay/testing';

export interface TokenServerOptions {
  clientId: string;
  clientSecret: string;
  /** expires_in of each token, seconds. @defaultValue 3600 */
  expiresInS?: number;
  /** Answer each token request after this long (so concurrent callers overlap). @defaultValue 50 */
  delayMs?: number;
}

/** Issues tok-1, tok-2, ... to a client that authenticates in the body or with Basic. */
export class TokenServer {
  /** Tokens issued, in order; its length is the number of successful token requests. */
  readonly issued: string[] = [];
  /** Form fields of every token request that reached the server. */
  readonly requests: Array<Record<string, string>> = [];
  /** Statuses to answer the next token requests with instead of a token. */
  readonly failures: number[] = [];

  constructor(private readonly options: TokenServerOptions) {}

  readonly reply = async (req: ReceivedRequest, res: ServerResponse): Promise<void> => {
    await new Promise((r) => setTimeout(r, this.options.delayMs ?? 50));
    const form = Object.fromEntries(new URLSearchParams(req.body.toString('utf8')));
    this.requests.push(form);
    const failure = this.failures.shift();
    if (failure !== undefined) return json(res, failure, { error: 'temporarily_unavailable' });
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded' || form.grant_type !== 'client_credentials') {
      return json(res, 400, { error: 'unsupported_grant_type' });
    }
    if (!this.clientAuthenticated(req, form)) return json(res, 401, { error: 'invalid_client' });
    const token = `tok-${this.issued.length + 1}`;
    this.issued.push(token);
    json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: this.options.expiresInS ?? 3600 });
  };

  /** RFC 6749 section 2.3.1: body parameters, or Basic over the form-encoded id and secret. */
  private clientAuthenticated(req: ReceivedRequest, form: Record<string, string>): boolean {
    const { clientId, clientSecret } = this.options;
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (basic) {
      const [id = '', secret = ''] = Buffer.from(basic, 'base64').toString('utf8').split(':');
      const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      return decode(id) === clientId && decode(secret) === clientSecret && form.client_secret === undefined;
    }
    return form.client_id === clientId && form.client_secret === clientSecret;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
