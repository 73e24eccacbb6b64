/**
 * DNS-rebinding protection for a server bound to loopback (MCP TypeScript SDK
 * CVE-2025-66414): a page on `evil.example` whose name resolves to 127.0.0.1 reaches the
 * server with `Host: evil.example:<port>`; only flowgate's own host names are accepted.
 * A browser request that names an `Origin` must come from a loopback page (an MCP Inspector
 * on localhost), from the issuer's origin, or from an allowed host: a page elsewhere cannot
 * drive the local server even when its Host header looks right.
 *
 * @module
 */

const LOOPBACK_BINDS = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

/** Whether the server binds a loopback interface (only then is the Host check needed). */
export function isLoopbackBind(host: string): boolean {
  return LOOPBACK_BINDS.has(host) || host.startsWith('127.');
}

/** The `Host` values a loopback-bound server accepts. */
export function allowedHosts(options: { port: number; issuer: string; extra: readonly string[] }): Set<string> {
  const hosts = new Set<string>([`127.0.0.1:${options.port}`, `localhost:${options.port}`, `[::1]:${options.port}`]);
  hosts.add(new URL(options.issuer).host);
  for (const h of options.extra) hosts.add(h.toLowerCase());
  return hosts;
}

/** A 421 answer for a request with a foreign Host, or undefined when it is fine. */
export function checkHost(request: Request, allowed: ReadonlySet<string>): Response | undefined {
  const host = (request.headers.get('host') ?? new URL(request.url).host).toLowerCase();
  if (allowed.has(host)) return undefined;
  return new Response(JSON.stringify({ error: 'invalid_request', error_description: 'unexpected Host header' }), {
    status: 421,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  });
}

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A 403 answer for a browser request from a foreign `Origin`, or undefined when it is fine (or has none). */
export function checkOrigin(request: Request, allowed: ReadonlySet<string>): Response | undefined {
  const origin = request.headers.get('origin');
  if (origin === null) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    parsed = undefined;
  }
  if (parsed && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) {
    if (LOOPBACK_HOSTNAMES.has(parsed.hostname) || parsed.hostname.startsWith('127.')) return undefined;
    if (allowed.has(parsed.host.toLowerCase())) return undefined;
  }
  return new Response(JSON.stringify({ error: 'invalid_request', error_description: 'unexpected Origin header' }), {
    status: 403,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  });
}
