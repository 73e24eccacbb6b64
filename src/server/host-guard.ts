/**
 * DNS-rebinding protection for a server bound to loopback (MCP TypeScript SDK
 * CVE-2025-66414): a page on `evil.example` whose name resolves to 127.0.0.1 reaches the
 * server with `Host: evil.example:<port>`; only flowgate's own host names are accepted.
 * A browser request that names an `Origin` must come from a loopback page (an MCP Inspector
 * on localhost), from the issuer's origin, or from an allowed host: a page elsewhere cannot
 * drive the local server even when its Host header looks right.
 *
 * `createFlowgate().fetch` applies the check itself (`server.hostCheck`: by default when the
 * issuer is a loopback URL), so an application that mounts flowgate in its own loopback
 * server is covered too; `flowgate serve` applies it to all its routes.
 *
 * @module
 */

const LOOPBACK_BINDS = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

/** Whether the server binds a loopback interface (only then is the Host check needed). */
export function isLoopbackBind(host: string): boolean {
  return LOOPBACK_BINDS.has(host) || host.startsWith('127.');
}

/** Whether a URL names a loopback host: 127.x, localhost or [::1]. */
export function isLoopbackUrl(url: string): boolean {
  return isLoopbackBind(new URL(url).hostname);
}

/**
 * The `Host` values accepted: the host (with its port) of each of flowgate's own URLs (issuer,
 * base URL), 127.0.0.1, localhost and [::1] on each of `loopbackPorts` (`''`: no port, the
 * scheme's default), and the `extra` values.
 */
export function allowedHosts(options: { urls: readonly string[]; loopbackPorts: readonly string[]; extra: readonly string[] }): Set<string> {
  const hosts = new Set<string>();
  for (const port of options.loopbackPorts) {
    const suffix = port === '' ? '' : `:${port}`;
    for (const name of ['127.0.0.1', 'localhost', '[::1]']) hosts.add(`${name}${suffix}`);
  }
  for (const url of options.urls) hosts.add(new URL(url).host);
  for (const h of options.extra) hosts.add(h.toLowerCase());
  return hosts;
}

/** What decides the check (`server.hostCheck`, src/config/server-schema.ts). */
export interface HostCheckOptions {
  readonly mode: 'auto' | 'on' | 'off';
  readonly issuer: string;
  readonly baseUrl: string;
  /** `server.allowedHosts`. */
  readonly extra: readonly string[];
  /** The socket the server is bound to, when known (`flowgate serve`), and `serve.allowedHosts`. */
  readonly listen?: { readonly host: string; readonly port: number; readonly extra: readonly string[] };
}

/**
 * The `Host` values to check requests against, or undefined when the check is off. `auto` turns
 * it on for a loopback issuer (or base URL), for a non-empty `extra` list, and for a loopback
 * bind; `on` always; `off` never. Loopback names are accepted with the port of a loopback
 * issuer (or base URL) and with the port of a loopback bind.
 */
export function resolveHostCheck(options: HostCheckOptions): ReadonlySet<string> | undefined {
  if (options.mode === 'off') return undefined;
  const urls = [options.issuer, options.baseUrl];
  const loopbackPorts = urls.filter(isLoopbackUrl).map((url) => new URL(url).port);
  const listen = options.listen;
  const loopbackBind = listen !== undefined && isLoopbackBind(listen.host);
  if (loopbackBind) loopbackPorts.push(String(listen.port));
  if (options.mode === 'auto' && loopbackPorts.length === 0 && options.extra.length === 0) return undefined;
  return allowedHosts({ urls, loopbackPorts, extra: [...options.extra, ...(listen?.extra ?? [])] });
}

/** The 421 or 403 answer of {@link checkHost} then {@link checkOrigin}, or undefined when the request may go on. */
export function checkRequest(request: Request, allowed: ReadonlySet<string>): Response | undefined {
  return checkHost(request, allowed) ?? checkOrigin(request, allowed);
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
