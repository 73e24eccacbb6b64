/**
 * Which IP addresses a metadata-document fetch may connect to (CIMD "SSRF"; security
 * invariants §1.15: never fetch a special-use address, RFC 6890).
 *
 * A small table of ranges, most specific first; the first range containing the address
 * decides. Each range either refuses (`special`), or looks at the IPv4 address an IPv6
 * transition address embeds (6to4, Teredo, NAT64) and refuses when that one is special.
 * IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible (`::a.b.c.d`) IPv6 addresses are
 * always refused: a DNS answer has no business containing one, and a socket opened to one
 * reaches the IPv4 address behind it. IPv6 outside global unicast (2000::/3) is refused
 * whatever it is; IPv4 outside the table is global.
 *
 * Addresses are parsed strictly (dotted decimal for IPv4, RFC 4291 text for IPv6, a zone
 * id ignored); anything that does not parse is refused.
 *
 * @module
 */
import { isIPv4, isIPv6 } from 'node:net';

/** How the table treats a range. */
type Action =
  | { readonly kind: 'special' }
  | { readonly kind: 'global' }
  /** Transition address: refused when any embedded IPv4 address is special. */
  | { readonly kind: 'embedded'; readonly extract: (value: bigint) => readonly bigint[] };

/** One row of the table. */
export interface AddressRange {
  readonly family: 4 | 6;
  /** CIDR notation, for people and for independent checks (tests build a `net.BlockList`). */
  readonly cidr: string;
  /** What the range is (shown in logs, never to the client). */
  readonly name: string;
  readonly action: Action['kind'];
}

/** The verdict on one address. */
export type AddressVerdict =
  | { readonly allowed: true; readonly family: 4 | 6; readonly range: string }
  | { readonly allowed: false; readonly family: 4 | 6 | 0; readonly range: string };

const SPECIAL: Action = { kind: 'special' };
const GLOBAL: Action = { kind: 'global' };

const V4_MASK = 0xffff_ffffn;

/** 6to4 (RFC 3056): 2002:AABB:CCDD::/48 embeds AA.BB.CC.DD in bits 16–47. */
const SIX_TO_FOUR: Action = { kind: 'embedded', extract: (v) => [(v >> 80n) & V4_MASK] };
/** Teredo (RFC 4380): the server's IPv4 in bits 32–63, the client's (inverted) in the last 32. */
const TEREDO: Action = { kind: 'embedded', extract: (v) => [(v >> 64n) & V4_MASK, (v & V4_MASK) ^ V4_MASK] };
/** NAT64 well-known prefix (RFC 6052): the IPv4 address in the last 32 bits. */
const NAT64: Action = { kind: 'embedded', extract: (v) => [v & V4_MASK] };

interface Row {
  readonly family: 4 | 6;
  readonly cidr: string;
  readonly name: string;
  readonly action: Action;
  readonly base: bigint;
  readonly bits: number;
}

const RAW_ROWS: ReadonlyArray<readonly [4 | 6, string, string, Action]> = [
  // IPv4 (IANA IPv4 Special-Purpose Address Registry, RFC 6890 and successors)
  [4, '0.0.0.0/8', 'unspecified / "this network" (RFC 791, RFC 1122)', SPECIAL],
  [4, '10.0.0.0/8', 'private (RFC 1918)', SPECIAL],
  [4, '100.64.0.0/10', 'shared address space, carrier-grade NAT (RFC 6598)', SPECIAL],
  [4, '127.0.0.0/8', 'loopback (RFC 1122)', SPECIAL],
  [4, '169.254.0.0/16', 'link-local, cloud metadata (RFC 3927)', SPECIAL],
  [4, '172.16.0.0/12', 'private (RFC 1918)', SPECIAL],
  [4, '192.0.0.0/24', 'IETF protocol assignments (RFC 6890)', SPECIAL],
  [4, '192.0.2.0/24', 'documentation TEST-NET-1 (RFC 5737)', SPECIAL],
  [4, '192.31.196.0/24', 'AS112-v4 (RFC 7535)', SPECIAL],
  [4, '192.52.193.0/24', 'AMT (RFC 7450)', SPECIAL],
  [4, '192.88.99.0/24', 'deprecated 6to4 relay anycast (RFC 7526)', SPECIAL],
  [4, '192.168.0.0/16', 'private (RFC 1918)', SPECIAL],
  [4, '192.175.48.0/24', 'direct delegation AS112 service (RFC 7534)', SPECIAL],
  [4, '198.18.0.0/15', 'benchmarking (RFC 2544)', SPECIAL],
  [4, '198.51.100.0/24', 'documentation TEST-NET-2 (RFC 5737)', SPECIAL],
  [4, '203.0.113.0/24', 'documentation TEST-NET-3 (RFC 5737)', SPECIAL],
  [4, '224.0.0.0/4', 'multicast (RFC 5771)', SPECIAL],
  [4, '240.0.0.0/4', 'reserved, limited broadcast (RFC 1112, RFC 919)', SPECIAL],
  [4, '0.0.0.0/0', 'global unicast', GLOBAL],
  // IPv6 (IANA IPv6 Special-Purpose Address Registry), most specific first
  [6, '::/128', 'unspecified (RFC 4291)', SPECIAL],
  [6, '::1/128', 'loopback (RFC 4291)', SPECIAL],
  [6, '::ffff:0:0/96', 'IPv4-mapped IPv6 (RFC 4291)', SPECIAL],
  [6, '::ffff:0:0:0/96', 'IPv4-translated IPv6 (RFC 2765)', SPECIAL],
  [6, '::/96', 'IPv4-compatible IPv6, deprecated (RFC 4291)', SPECIAL],
  [6, '64:ff9b:1::/48', 'local-use NAT64 (RFC 8215)', SPECIAL],
  [6, '64:ff9b::/96', 'NAT64 well-known prefix (RFC 6052)', NAT64],
  [6, '100::/64', 'discard-only (RFC 6666)', SPECIAL],
  [6, '2001::/32', 'Teredo (RFC 4380)', TEREDO],
  [6, '2001:db8::/32', 'documentation (RFC 3849)', SPECIAL],
  [6, '2001::/23', 'IETF protocol assignments, benchmarking, ORCHID (RFC 2928, RFC 5180, RFC 7343)', SPECIAL],
  [6, '2002::/16', '6to4 (RFC 3056)', SIX_TO_FOUR],
  [6, '3fff::/20', 'documentation (RFC 9637)', SPECIAL],
  [6, '5f00::/16', 'SRv6 SIDs (RFC 9602)', SPECIAL],
  [6, '2000::/3', 'global unicast', GLOBAL],
  [6, 'fc00::/7', 'unique local (RFC 4193)', SPECIAL],
  [6, 'fe80::/10', 'link-local (RFC 4291)', SPECIAL],
  [6, 'fec0::/10', 'site-local, deprecated (RFC 3879)', SPECIAL],
  [6, 'ff00::/8', 'multicast (RFC 4291)', SPECIAL],
  [6, '::/0', 'reserved by IETF (outside global unicast)', SPECIAL],
];

/** Parses dotted-decimal IPv4 (as `net.isIPv4` accepts it) to a number. */
function parseV4(text: string): bigint | undefined {
  if (!isIPv4(text)) return undefined;
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** Parses RFC 4291 IPv6 text (`::` compression, an embedded dotted quad) to a 128-bit number. */
function parseV6(text: string): bigint | undefined {
  if (!isIPv6(text)) return undefined;
  let body = text;
  const lastColon = body.lastIndexOf(':');
  const last = body.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = parseV4(last);
    if (v4 === undefined) return undefined;
    body = `${body.slice(0, lastColon + 1)}${((v4 >> 16n) & 0xffffn).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  let groups: string[];
  const double = body.indexOf('::');
  if (double >= 0) {
    const head = body.slice(0, double) === '' ? [] : body.slice(0, double).split(':');
    const rest = body.slice(double + 2) === '' ? [] : body.slice(double + 2).split(':');
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return undefined;
    groups = [...head, ...Array<string>(missing).fill('0'), ...rest];
  } else {
    groups = body.split(':');
  }
  if (groups.length !== 8) return undefined;
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  return value;
}

function parseCidr(family: 4 | 6, cidr: string): { base: bigint; bits: number } {
  const [address, length] = cidr.split('/') as [string, string];
  const value = family === 4 ? parseV4(address) : parseV6(address);
  if (value === undefined) throw new Error(`bad CIDR in the address table: ${cidr}`);
  return { base: value, bits: Number(length) };
}

const ROWS: readonly Row[] = RAW_ROWS.map(([family, cidr, name, action]) => ({ family, cidr, name, action, ...parseCidr(family, cidr) }));

/** The table, as data (for documentation and independent tests). */
export const ADDRESS_RANGES: readonly AddressRange[] = ROWS.map(({ family, cidr, name, action }) => ({ family, cidr, name, action: action.kind }));

function contains(row: Row, value: bigint): boolean {
  const width = row.family === 4 ? 32 : 128;
  const shift = BigInt(width - row.bits);
  return value >> shift === row.base >> shift;
}

function classifyValue(family: 4 | 6, value: bigint, depth: number): AddressVerdict {
  for (const row of ROWS) {
    if (row.family !== family || !contains(row, value)) continue;
    switch (row.action.kind) {
      case 'global':
        return { allowed: true, family, range: row.name };
      case 'special':
        return { allowed: false, family, range: row.name };
      case 'embedded': {
        if (depth > 0) return { allowed: false, family, range: row.name };
        for (const embedded of row.action.extract(value)) {
          const inner = classifyValue(4, embedded, depth + 1);
          if (!inner.allowed) return { allowed: false, family, range: `${row.name} embedding ${inner.range}` };
        }
        return { allowed: true, family, range: row.name };
      }
    }
  }
  return { allowed: false, family, range: 'not in the table' };
}

/**
 * Whether a fetch may connect to `address` (an IP literal as a resolver returns it; brackets
 * and a `%zone` are tolerated). Fails closed: anything unparsable is refused.
 *
 * @example
 * ```ts
 * classifyAddress('93.184.216.34').allowed;        // true
 * classifyAddress('::ffff:10.0.0.1').allowed;       // false (IPv4-mapped)
 * classifyAddress('2002:7f00:1::').allowed;         // false (6to4 embedding 127.0.0.1)
 * ```
 */
export function classifyAddress(address: string): AddressVerdict {
  if (typeof address !== 'string') return { allowed: false, family: 0, range: 'not an IP address' };
  let text = address.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const v4 = parseV4(text);
  if (v4 !== undefined) return classifyValue(4, v4, 0);
  const v6 = parseV6(text);
  if (v6 !== undefined) return classifyValue(6, v6, 0);
  return { allowed: false, family: 0, range: 'not an IP address' };
}

/** True when `address` is special-use (private, loopback, link-local, reserved, …) or not an address. */
export function isSpecialAddress(address: string): boolean {
  return !classifyAddress(address).allowed;
}

/** The 128-bit value of an IPv6 address, or the 32-bit value of an IPv4 one (for tests). */
export function addressValue(address: string): { family: 4 | 6; value: bigint } | undefined {
  const v4 = parseV4(address);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseV6(address);
  return v6 === undefined ? undefined : { family: 6, value: v6 };
}
