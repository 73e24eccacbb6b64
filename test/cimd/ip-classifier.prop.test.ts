/**
 * The special-address classifier behind every metadata-document fetch (CIMD "SSRF";
 * security invariants §1.15, §2.A item 5): example rows per class, then properties against
 * an oracle written here independently of the classifier's table (node's `net.BlockList`
 * for prefix matching, the transition formats decoded by hand).
 *
 * Protections checked by hand (each failed with its rule removed, then restored):
 * - the `100.64.0.0/10` row deleted → "refuses every address of each special IPv4 range"
 *   and the oracle property fail (CGNAT accepted);
 * - the 6to4 row turned into `global` → the 6to4 property fails;
 * - the Teredo extractor reading only the server address → the Teredo property fails
 *   (client 127.0.0.1 accepted);
 * - the IPv4-mapped row removed (so `::ffff:…` fell to "reserved") still refused — so the
 *   mapped property also checks the *reason*, and fails with the row removed.
 */
import fc from 'fast-check';
import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ADDRESS_RANGES, addressValue, classifyAddress } from '../../src/cimd/ip-classifier.js';

/** The special IPv4 ranges, as the brief and RFC 6890's registry list them (independent of the table). */
const SPECIAL_V4: ReadonlyArray<readonly [string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'CGNAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.31.196.0', 24, 'AS112'],
  ['192.52.193.0', 24, 'AMT'],
  ['192.88.99.0', 24, '6to4 relay'],
  ['192.168.0.0', 16, 'private'],
  ['192.175.48.0', 24, 'AS112'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
/** Special IPv6 ranges inside global unicast 2000::/3, other than the transition formats. */
const SPECIAL_V6_IN_GLOBAL: ReadonlyArray<readonly [string, number]> = [
  ['2001:db8::', 32],
  ['2001::', 23],
  ['3fff::', 20],
  ['5f00::', 16],
];

const v4Specials = new BlockList();
for (const [net, bits] of SPECIAL_V4) v4Specials.addSubnet(net, bits, 'ipv4');
const v6Specials = new BlockList();
for (const [net, bits] of SPECIAL_V6_IN_GLOBAL) v6Specials.addSubnet(net, bits, 'ipv6');

const MASK32 = 0xffff_ffffn;

function v4Text(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
}
function v6Text(value: bigint, style: 'full' | 'short' | 'upper' = 'short'): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  if (style === 'full') return groups.map((g) => g.padStart(4, '0')).join(':');
  if (style === 'upper') return groups.join(':').toUpperCase();
  // Compress the longest run of zero groups (length ≥ 2) like RFC 5952.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

const oracleV4Special = (value: bigint) => v4Specials.check(v4Text(value), 'ipv4');

/** The independent IPv6 oracle: true when the address must be refused. */
function oracleV6Special(value: bigint): boolean {
  const top16 = value >> 112n;
  if (top16 === 0x2002n) return oracleV4Special((value >> 80n) & MASK32);
  if (value >> 96n === 0x2001_0000n) return oracleV4Special((value >> 64n) & MASK32) || oracleV4Special((value & MASK32) ^ MASK32);
  if (value >> 32n === 0x0064_ff9b_0000_0000_0000_0000n) return oracleV4Special(value & MASK32);
  if (v6Specials.check(v6Text(value, 'full'), 'ipv6')) return true;
  return value >> 125n !== 1n; // outside 2000::/3
}

const v4 = fc.bigInt({ min: 0n, max: MASK32 });
const v6 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
/** IPv6 values concentrated on the prefixes where rules change. */
const interestingV6 = fc.oneof(
  v6,
  fc.tuple(fc.constantFrom(0x2002n, 0x2001n, 0x3fffn, 0x5f00n, 0x2000n, 0x3ffen, 0xfc00n, 0xfe80n, 0xff02n, 0x64n, 0x0n, 0x100n), v6).map(([top, rest]) => (top << 112n) | (rest & ((1n << 112n) - 1n))),
  fc.tuple(v4, v4).map(([server, client]) => (0x2001_0000n << 96n) | (server << 64n) | client),
  fc.tuple(v4, fc.bigInt({ min: 0n, max: (1n << 80n) - 1n })).map(([embedded, rest]) => (0x2002n << 112n) | (embedded << 80n) | rest),
  v4.map((embedded) => (0x0064_ff9b_0000_0000_0000_0000n << 32n) | embedded),
);

describe('special-address classifier: examples', () => {
  it.each([
    ['93.184.216.34', true],
    ['8.8.8.8', true],
    ['100.63.255.255', true],
    ['100.128.0.0', true],
    ['2606:4700:4700::1111', true],
    ['10.0.0.1', false],
    ['172.31.255.255', false],
    ['192.168.1.1', false],
    ['127.0.0.1', false],
    ['127.255.255.254', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['100.127.255.255', false],
    ['0.0.0.0', false],
    ['224.0.0.251', false],
    ['255.255.255.255', false],
    ['192.0.2.7', false],
    ['198.18.0.1', false],
    ['::', false],
    ['::1', false],
    ['fe80::1', false],
    ['fe80::1%eth0', false],
    ['fd12:3456::1', false],
    ['ff02::fb', false],
    ['2001:db8::1', false],
    ['::ffff:8.8.8.8', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:7f00:1', false],
    ['::127.0.0.1', false],
    ['2002:c0a8:0101::1', false],
    ['2002:0808:0808::1', true],
    ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', true],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', false],
    ['2001:0:7f00:1::1', false],
    ['64:ff9b::8.8.8.8', true],
    ['64:ff9b::a9fe:a9fe', false],
    ['64:ff9b:1::1', false],
    ['[::1]', false],
    ['localhost', false],
    ['127.1', false],
    ['0x7f.0.0.1', false],
    ['2130706433', false],
    ['017700000001', false],
    ['', false],
  ])('%s → allowed %s', (address, allowed) => {
    expect(classifyAddress(address).allowed).toBe(allowed);
  });

  it('names the range that refused an address, including what a transition address embeds', () => {
    expect(classifyAddress('169.254.169.254').range).toMatch(/link-local/);
    expect(classifyAddress('100.64.0.1').range).toMatch(/carrier-grade NAT/);
    expect(classifyAddress('::ffff:10.0.0.1').range).toMatch(/IPv4-mapped/);
    expect(classifyAddress('2002:0a00:0001::').range).toMatch(/6to4.*private/);
    expect(classifyAddress('64:ff9b::7f00:1').range).toMatch(/NAT64.*loopback/);
  });

  it('has a well-formed table: every row parses, most specific rows first within a family', () => {
    for (const row of ADDRESS_RANGES) {
      const [address, bits] = row.cidr.split('/');
      expect(addressValue(address!)?.family).toBe(row.family);
      expect(Number(bits)).toBeLessThanOrEqual(row.family === 4 ? 32 : 128);
    }
    expect(ADDRESS_RANGES.filter((r) => r.family === 4).at(-1)!.cidr).toBe('0.0.0.0/0');
    expect(ADDRESS_RANGES.filter((r) => r.family === 6).at(-1)!.cidr).toBe('::/0');
  });
});

describe('special-address classifier: properties', () => {
  it('refuses every address of each special IPv4 range', () => {
    for (const [base, bits] of SPECIAL_V4) {
      const start = addressValue(base)!.value;
      const size = 1n << BigInt(32 - bits);
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: size - 1n }), (offset) => !classifyAddress(v4Text(start + offset)).allowed),
        { numRuns: 200 },
      );
    }
  });

  it('agrees with the independent oracle on every IPv4 address', () => {
    fc.assert(
      fc.property(v4, (value) => classifyAddress(v4Text(value)).allowed === !oracleV4Special(value)),
      { numRuns: 20_000 },
    );
  });

  it('agrees with the independent oracle on IPv6, 6to4, Teredo and NAT64 included', () => {
    fc.assert(
      fc.property(interestingV6, (value) => classifyAddress(v6Text(value)).allowed === !oracleV6Special(value)),
      { numRuns: 20_000 },
    );
  });

  it('6to4 and NAT64 are refused exactly when the embedded IPv4 address is special; Teredo when either is', () => {
    fc.assert(
      fc.property(v4, v4, (a, b) => {
        const sixToFour = classifyAddress(v6Text((0x2002n << 112n) | (a << 80n) | 1n)).allowed;
        const nat64 = classifyAddress(v6Text((0x0064_ff9b_0000_0000_0000_0000n << 32n) | a)).allowed;
        const teredo = classifyAddress(v6Text((0x2001_0000n << 96n) | (a << 64n) | (b ^ MASK32))).allowed;
        return sixToFour === !oracleV4Special(a) && nat64 === !oracleV4Special(a) && teredo === !(oracleV4Special(a) || oracleV4Special(b));
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses every IPv4-mapped and IPv4-compatible IPv6 address, whatever it embeds, as mapped/compatible', () => {
    fc.assert(
      fc.property(v4, (a) => {
        const mappedDotted = classifyAddress(`::ffff:${v4Text(a)}`);
        const mappedHex = classifyAddress(v6Text((0xffffn << 32n) | a));
        const compatible = classifyAddress(`::${v4Text(a)}`);
        return (
          !mappedDotted.allowed &&
          /IPv4-mapped/.test(mappedDotted.range) &&
          !mappedHex.allowed &&
          /IPv4-mapped/.test(mappedHex.range) &&
          !compatible.allowed
        );
      }),
      { numRuns: 3000 },
    );
  });

  it('gives one verdict for every spelling of an IPv6 address', () => {
    fc.assert(
      fc.property(interestingV6, (value) => {
        const verdicts = (['full', 'short', 'upper'] as const).map((style) => classifyAddress(v6Text(value, style)).allowed);
        verdicts.push(classifyAddress(`[${v6Text(value)}]`).allowed);
        return verdicts.every((v) => v === verdicts[0]);
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws, and refuses whatever is not an IP address', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        const verdict = classifyAddress(text);
        return addressValue(text.replace(/^\[|\]$/g, '').replace(/%.*$/, '')) !== undefined || !verdict.allowed;
      }),
      { numRuns: 5000 },
    );
  });
});
