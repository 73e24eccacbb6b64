/**
 * Resource indicators (RFC 8707 §2; MCP authorization "Resource Parameter Implementation").
 *
 * A `resource` is an absolute URI without a fragment. It must name one of the configured
 * resources, compared with the only leniency MCP asks for: scheme and host are
 * case-insensitive, and one trailing slash is ignored. The *configured* spelling is what
 * flowgate records, so tokens always carry a canonical audience.
 *
 * @module
 */
import { InvalidTarget } from './errors.js';

const MAX_RESOURCE_LENGTH = 2048;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** `scheme://[userinfo@]host[:port]` then the rest, split so only scheme and host are lower-cased. */
const HIERARCHICAL = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)((?:[^/?#@]*@)?)(\[[^\]]*\]|[^/?#:]*)([^/?#]*)([^?#]*)(.*)$/s;

/**
 * RFC 8707 §2: validates a `resource` value (an absolute URI, no fragment, no whitespace or
 * control characters) and returns it unchanged; anything else throws `invalid_target`.
 */
export function parseResourceIndicator(value: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidTarget('resource must not be empty');
  if (value.length > MAX_RESOURCE_LENGTH) throw new InvalidTarget('resource is longer than 2048 characters');
  if (/[\p{Cc}\p{Cf}\s]/u.test(value)) throw new InvalidTarget('resource contains whitespace or a control character');
  if (!SCHEME.test(value)) throw new InvalidTarget('resource must be an absolute URI');
  if (value.includes('#')) throw new InvalidTarget('resource must not contain a fragment');
  try {
    new URL(value);
  } catch {
    throw new InvalidTarget('resource must be an absolute URI');
  }
  return value;
}

/** Lower-cases scheme and host and drops one trailing slash of the path; nothing else changes. */
function comparable(uri: string): string {
  const match = HIERARCHICAL.exec(uri);
  if (match === null) {
    const colon = uri.indexOf(':');
    return uri.slice(0, colon).toLowerCase() + uri.slice(colon);
  }
  const [scheme = '', userinfo = '', host = '', port = '', path = '', query = ''] = match.slice(1);
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  return `${scheme.toLowerCase()}${userinfo}${host.toLowerCase()}${port}${trimmed}${query}`;
}

/**
 * RFC 8707 §2 with MCP's "SHOULD accept" leniency: whether `requested` names the
 * `configured` resource, equal once scheme and host are lower-cased and one trailing slash
 * of the path is ignored. Path and query stay case-sensitive. An invalid `requested` value
 * never matches.
 *
 * @example
 * ```ts
 * resourceMatches('https://mcp.example.com/mcp', 'HTTPS://MCP.Example.com/mcp/'); // true
 * resourceMatches('https://mcp.example.com/mcp', 'https://mcp.example.com/MCP');   // false
 * ```
 */
export function resourceMatches(configured: string, requested: string): boolean {
  try {
    parseResourceIndicator(requested);
  } catch {
    return false;
  }
  return comparable(configured) === comparable(requested);
}

/**
 * RFC 8707 §2, §2.1: the resource a request is for, in its *configured* spelling. An absent
 * `resource` means `defaultResource` (MCP 2025-03-26 compatibility); an invalid or unknown
 * one throws `invalid_target`. The description never repeats the requested value.
 */
export function selectResource(requested: string | undefined, configured: readonly string[], defaultResource: string): string {
  if (requested === undefined) return defaultResource;
  parseResourceIndicator(requested);
  const found = configured.find((resource) => resourceMatches(resource, requested));
  if (found === undefined) throw new InvalidTarget('the requested resource is not served by this authorization server');
  return found;
}
