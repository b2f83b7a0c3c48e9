/** One challenge of a WWW-Authenticate header: its scheme and auth-params (names lower-cased). */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/**
 * Challenges read from one header at most: a receiver offers a few (Digest with two algorithms,
 * Basic). A 16 KiB header of `a a a ...` made 8,000 challenge objects a 401 (an audit's probe).
 */
export const MAX_CHALLENGES = 20;

/**
 * Parses WWW-Authenticate (RFC 9110 section 11.6.1): challenges separated by commas, each a scheme
 * followed by `name=value` pairs whose values are tokens or quoted strings (with `\` escapes).
 * A receiver may send several challenges in one header or in several headers; both arrive here.
 * Anything malformed is skipped a character at a time, so the loop always ends. Values are copies,
 * not slices of the header: V8 keeps a whole string alive behind any slice of 13 or more
 * characters, and a Digest session keeps its nonce per endpoint (16 KiB held for a 1 KiB nonce).
 */
export function parseWwwAuthenticate(header: string | string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(', ') : header;
  const challenges: AuthChallenge[] = [];
  let current: AuthChallenge | undefined;
  let i = 0;

  const readToken = (): string => {
    const start = i;
    while (i < text.length && TOKEN_CHAR.test(text[i] as string)) i++;
    return text.slice(start, i);
  };
  const skipSpaces = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const readQuoted = (): string => {
    let out = '';
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\' && i + 1 < text.length) i++;
      out += text[i];
      i++;
    }
    i++; // closing quote
    return out;
  };

  while (i < text.length) {
    while (i < text.length && (text[i] === ',' || text[i] === ' ' || text[i] === '\t')) i++;
    const token = readToken();
    if (!token) {
      if (i < text.length) i++;
      continue;
    }
    skipSpaces();
    if (text[i] === '=') {
      i++;
      // token68 padding (`abc==`) lands here as a nameless value; harmless, and skipped.
      while (text[i] === '=') i++;
      skipSpaces();
      const value = text[i] === '"' ? readQuoted() : readToken();
      if (current) current.params[token.toLowerCase()] = Buffer.from(value, 'latin1').toString('latin1');
    } else {
      if (challenges.length === MAX_CHALLENGES) break;
      current = { scheme: token, params: {} };
      challenges.push(current);
    }
  }
  return challenges;
}
