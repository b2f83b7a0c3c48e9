import { blockedAddressReason } from './blocked-address';

describe('blockedAddressReason', () => {
  describe('for IPv4 special-purpose ranges', () => {
    it.each([
      ['0.0.0.0', /unspecified/],
      ['0.255.1.2', /unspecified/],
      ['127.0.0.1', /loopback/],
      ['127.255.255.254', /loopback/],
      ['10.0.0.1', /private/],
      ['10.255.255.255', /private/],
      ['172.16.0.1', /private/],
      ['172.31.255.255', /private/],
      ['192.168.1.1', /private/],
      ['169.254.169.254', /link-local/],
      ['169.254.0.1', /link-local/],
      ['100.64.0.1', /carrier-grade NAT/],
      ['100.127.255.255', /carrier-grade NAT/],
      ['224.0.0.1', /multicast/],
      ['239.255.255.250', /multicast/],
      ['240.0.0.1', /reserved/],
      ['255.255.255.254', /reserved/],
      ['255.255.255.255', /broadcast/],
      // Documentation ranges (RFC 5737) and benchmarking (RFC 2544).
      ['192.0.2.1', /reserved or documentation/],
      ['198.51.100.7', /reserved or documentation/],
      ['203.0.113.9', /reserved or documentation/],
      ['198.18.0.1', /reserved or documentation/],
    ])('refuses %s', (ip, why) => {
      expect(blockedAddressReason(ip)).toMatch(why);
    });

    it.each(['93.184.216.34', '8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1', '223.255.255.255'])(
      'allows the public address %s, including the neighbours of blocked ranges',
      (ip) => {
        expect(blockedAddressReason(ip)).toBeNull();
      },
    );
  });

  describe('for IPv6 special-purpose ranges', () => {
    it.each([
      ['::', /unspecified/],
      ['::1', /loopback/],
      ['fc00::1', /unique local/],
      ['fd00::1', /unique local/],
      ['fd00:ec2::254', /unique local/], // AWS IMDS over IPv6
      ['fe80::1', /link-local/],
      ['febf:ffff::1', /link-local/],
      ['fe80::1%eth0', /link-local/],
      ['ff02::1', /multicast/],
      ['ff0e::1', /multicast/],
      ['2001:db8::1', /reserved or documentation/],
      ['2001::1', /Teredo/],
      ['100::1', /special-purpose \(discard\)/],
      ['fec0::1', /special-purpose \(deprecatedSiteLocal\)/],
      ['64:ff9b:1::a00:1', /local-use NAT64/],
      // The IPv4-compatible spelling of 127.0.0.1: ipaddr.js calls it unicast, we do not.
      ['::7f00:1', /outside global unicast/],
    ])('refuses %s', (ip, why) => {
      expect(blockedAddressReason(ip)).toMatch(why);
    });

    it.each(['2606:4700::1111', '2001:4860:4860::8888', '2a00:1450:4001:81b::200e'])('allows the public address %s', (ip) => {
      expect(blockedAddressReason(ip)).toBeNull();
    });
  });

  describe('for IPv6 forms that embed an IPv4 address', () => {
    it.each([
      ['::ffff:127.0.0.1', /IPv4-mapped for 127\.0\.0\.1, which is loopback/],
      ['::ffff:7f00:1', /IPv4-mapped for 127\.0\.0\.1, which is loopback/],
      ['::ffff:169.254.169.254', /IPv4-mapped for 169\.254\.169\.254, which is link-local/],
      ['::ffff:10.1.2.3', /IPv4-mapped for 10\.1\.2\.3, which is private/],
      ['::ffff:0.0.0.0', /IPv4-mapped for 0\.0\.0\.0, which is unspecified/],
      ['64:ff9b::7f00:1', /NAT64 for 127\.0\.0\.1, which is loopback/],
      ['64:ff9b::169.254.169.254', /NAT64 for 169\.254\.169\.254, which is link-local/],
      ['2002:7f00:1::', /6to4 for 127\.0\.0\.1, which is loopback/],
      ['2002:c0a8:101::1', /6to4 for 192\.168\.1\.1, which is private/],
    ])('judges %s by its IPv4 address', (ip, why) => {
      expect(blockedAddressReason(ip)).toMatch(why);
    });

    it.each(['::ffff:8.8.8.8', '::ffff:5db8:d822', '64:ff9b::808:808', '2002:808:808::1'])(
      'allows %s, whose IPv4 address is public',
      (ip) => {
        expect(blockedAddressReason(ip)).toBeNull();
      },
    );
  });

  describe('for strings that are not canonical IP literals', () => {
    // ipaddr.js would parse the first three as 127.0.0.1; Node would look them up as hostnames.
    it.each(['2130706433', '0177.0.0.1', '0x7f.1', 'localhost', '', '[::1]', '1.2.3.4.5', '::ffff:1.2.3'])('refuses %j', (ip) => {
      expect(blockedAddressReason(ip)).toMatch(/not a canonical IP address/);
    });
  });

  it('names the address in the reason so logs say what was refused', () => {
    expect(blockedAddressReason('169.254.169.254')).toBe(
      '169.254.169.254 is link-local, where cloud metadata services listen (169.254.169.254)',
    );
  });
});
