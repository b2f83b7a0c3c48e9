import { createHash } from 'node:crypto';
import { digestAuthorization, digestResponse, formatNc, pickDigestChallenge, type DigestChallenge } from './digest-response';
import { MAX_CHALLENGES, parseWwwAuthenticate } from './www-authenticate';

// RFC 7616 section 3.9.1: the server offers SHA-256 first, then MD5, for the same nonce.
const RFC_CHALLENGES = [
  'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
];
const RFC_REQUEST = {
  username: 'Mufasa',
  password: 'Circle of Life',
  method: 'GET',
  uri: '/dir/index.html',
  nc: 1,
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
};

describe('RFC 7616 digest responses', () => {
  it('matches the SHA-256 example of section 3.9.1', () => {
    const challenge = pickDigestChallenge(parseWwwAuthenticate(RFC_CHALLENGES)) as DigestChallenge;
    expect(challenge.algorithm).toBe('SHA-256');
    expect(digestResponse({ ...RFC_REQUEST, challenge })).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('matches the MD5 example of section 3.9.1', () => {
    const [md5] = parseWwwAuthenticate(RFC_CHALLENGES[1]);
    const challenge = pickDigestChallenge([md5!]) as DigestChallenge;
    expect(challenge.algorithm).toBe('MD5');
    expect(digestResponse({ ...RFC_REQUEST, challenge })).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('writes every field the server needs into the Authorization header', () => {
    const challenge = pickDigestChallenge(parseWwwAuthenticate(RFC_CHALLENGES)) as DigestChallenge;
    const header = digestAuthorization({ ...RFC_REQUEST, challenge });
    expect(header).toBe(
      'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, ' +
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", ' +
        'qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
  });

  it('hashes the user name when the challenge asks for userhash', () => {
    const challenge: DigestChallenge = { realm: 'api', nonce: 'n', algorithm: 'SHA-256', stale: false, userhash: true };
    const header = digestAuthorization({ ...RFC_REQUEST, challenge });
    const hashed = createHash('sha256').update('Mufasa:api').digest('hex');
    expect(header).toContain(`username="${hashed}", userhash=true`);
    expect(header).not.toContain('Mufasa');
  });

  it('uses the -sess form of HA1 for MD5-sess', () => {
    const challenge: DigestChallenge = { realm: 'r', nonce: 'n', algorithm: 'MD5-sess', stale: false, userhash: false };
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const ha1 = md5(`${md5('Mufasa:r:Circle of Life')}:n:c`);
    const expected = md5(`${ha1}:n:00000001:c:auth:${md5('POST:/x')}`);
    expect(digestResponse({ ...RFC_REQUEST, method: 'POST', uri: '/x', cnonce: 'c', challenge })).toBe(expected);
  });

  it('counts nc in eight hex digits', () => {
    expect(formatNc(1)).toBe('00000001');
    expect(formatNc(255)).toBe('000000ff');
  });
});

describe('choosing a challenge', () => {
  it('takes the first digest challenge it supports, in the server order', () => {
    const header =
      'Basic realm="x", Digest realm="r", qop="auth", algorithm=SHA-512-256, nonce="a", Digest realm="r", qop="auth", algorithm=MD5, nonce="b"';
    expect(pickDigestChallenge(parseWwwAuthenticate(header))).toMatchObject({ algorithm: 'MD5', nonce: 'b' });
  });

  it('reads stale=true, case-insensitively', () => {
    const c = pickDigestChallenge(parseWwwAuthenticate('Digest realm="r", qop="auth", nonce="n", stale=TRUE'));
    expect(c).toMatchObject({ stale: true, algorithm: 'MD5' });
  });

  it('declines a challenge without qop=auth (RFC 2069) or with auth-int only', () => {
    expect(pickDigestChallenge(parseWwwAuthenticate('Digest realm="r", nonce="n"'))).toBeNull();
    expect(pickDigestChallenge(parseWwwAuthenticate('Digest realm="r", nonce="n", qop="auth-int"'))).toBeNull();
  });

  it('keeps quoted commas and escaped quotes inside a value', () => {
    const [c] = parseWwwAuthenticate('Digest realm="a, \\"b\\"", nonce="n", qop="auth"');
    expect(c?.params.realm).toBe('a, "b"');
  });

  it('ends on malformed input', () => {
    expect(() => parseWwwAuthenticate('=,,"""\\ Digest =="x')).not.toThrow();
    expect(parseWwwAuthenticate('')).toEqual([]);
  });

  it('does not answer a challenge whose realm, nonce or opaque is longer than 1,024 characters (kept per endpoint)', () => {
    const challenge = (nonce: string, opaque = 'o') => [
      { scheme: 'Digest', params: { realm: 'r', nonce, opaque, qop: 'auth', algorithm: 'SHA-256' } },
    ];
    expect(pickDigestChallenge(challenge('n'.repeat(1024)))).toMatchObject({ nonce: 'n'.repeat(1024) });
    expect(pickDigestChallenge(challenge('n'.repeat(1025)))).toBeNull();
    expect(pickDigestChallenge(challenge('n', 'o'.repeat(1025)))).toBeNull();
  });
});

describe('parseWwwAuthenticate on a header a receiver padded', () => {
  it('reads at most MAX_CHALLENGES challenges', () => {
    const padded = `${'a '.repeat(8000)}Digest realm="r", nonce="n"`;
    expect(parseWwwAuthenticate(padded)).toHaveLength(MAX_CHALLENGES);
    // A real header's challenges are all read.
    expect(parseWwwAuthenticate('Digest realm="a", nonce="1", Digest realm="b", nonce="2", Basic realm="c"')).toHaveLength(3);
  });
});
