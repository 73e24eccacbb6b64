/**
 * DNS-rebinding protection for a server bound to loopback (MCP TypeScript SDK
 * CVE-2025-66414): a page on `evil.example` whose name resolves to 127.0.0.1 reaches the
 * server with `Host: evil.example:<port>`; only flowgate's own host names are accepted.
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
