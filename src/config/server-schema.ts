/**
 * The authorization server's part of the configuration: identity, resources, scopes,
 * client registration, static clients and consent (RFC 8414, RFC 9728, RFC 7591).
 *
 * @module
 */
import { z } from 'zod';
import { parseRedirectPattern } from '../oauth/redirect-patterns.js';
import { checkRedirectUriForRegistration } from '../oauth/redirect-uri.js';

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** An absolute URL with no fragment, https unless on a loopback host. */
export function issuerProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.hash || value.includes('#')) return 'must not have a fragment';
  if (url.search) return 'must not have a query (RFC 8414 §2)';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return undefined;
  return 'must be https (http is allowed only on 127.0.0.1, [::1] or localhost)';
}

const httpsUrl = z.string().superRefine((value, ctx) => {
  const problem = issuerProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const scopeName = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a scope token (RFC 6749 §3.3)');

/** A scope flowgate offers, with the description the consent page shows. */
export const scopeSchema = z.strictObject({
  name: scopeName,
  description: z.string().min(1).max(200),
});

/** A configured MCP resource (RFC 8707, RFC 9728). */
export const resourceSchema = z.strictObject({
  uri: z
    .string()
    .superRefine((value, ctx) => {
      try {
        const url = new URL(value);
        if (url.hash || value.includes('#')) ctx.addIssue({ code: 'custom', message: 'must not have a fragment (RFC 8707 §2)' });
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be an absolute URI' });
      }
    })
    .describe('The resource identifier MCP clients send as `resource` and tokens carry as `aud`.'),
  scopes: z.array(scopeName).optional().describe('Scopes this resource advertises; default: every supported scope.'),
});

/** A client registered in configuration. */
export const staticClientSchema = z.strictObject({
  clientId: z.string().min(1).max(200).refine((id) => !/^https?:/i.test(id), 'must not look like a URL (reserved for metadata documents)'),
  clientSecret: z.string().min(16).optional().describe('Makes the client confidential; stored only as a hash.'),
  redirectUris: z
    .array(
      z.string().superRefine((uri, ctx) => {
        const check = checkRedirectUriForRegistration(uri);
        if (!check.ok) ctx.addIssue({ code: 'custom', message: check.reason });
      }),
    )
    .min(1),
  name: z.string().max(200).optional(),
  tokenEndpointAuthMethod: z.enum(['none', 'client_secret_basic', 'client_secret_post']).optional(),
  grantTypes: z.array(z.enum(['authorization_code', 'refresh_token'])).default(['authorization_code', 'refresh_token']),
  scope: z.string().optional(),
});

/** Dynamic client registration (RFC 7591). */
export const registrationSchema = z
  .strictObject({
    mode: z
      .enum(['open', 'token', 'off'])
      .default('open')
      .describe('`open`: anyone may register (MCP clients expect this); `token`: an initial access token is required; `off`: no registration endpoint.'),
    initialAccessTokens: z
      .array(z.string().min(16))
      .default([])
      .describe('Bearer tokens accepted by `/register` in `token` mode (RFC 7591 §3).'),
    redirectPatterns: z
      .array(
        z.string().superRefine((pattern, ctx) => {
          try {
            parseRedirectPattern(pattern);
          } catch (error) {
            ctx.addIssue({ code: 'custom', message: (error as Error).message });
          }
        }),
      )
      .default([])
      .describe(
        'Patterns that further restrict what may be registered (`*` port, `*.example.com` subdomains, path prefixes), e.g. `http://127.0.0.1:*`. Empty: every URI that passes the built-in checks.',
      ),
    maxRedirectUris: z.number().int().min(1).max(50).default(10).describe('Most redirect URIs one client may register.'),
    maxBodyBytes: z.number().int().min(1024).max(1_048_576).default(16_384).describe('Largest registration request accepted.'),
    ratePerHour: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(20)
      .describe('Registrations per client IP per hour, counted in memory per instance (bounded to 10,000 addresses).'),
  })
  .describe('Dynamic client registration.');

/** Consent (MCP security best practices: per-client consent before going upstream). */
export const consentSchema = z
  .strictObject({
    mode: z
      .enum(['always', 'remember', 'off'])
      .default('always')
      .describe(
        '`always`: show the consent page for every flow; `remember`: skip it for a client + redirect URI this browser approved, only on a direct or same-origin navigation (fails closed); `off`: never show it (unsafe; logged at start).',
      ),
    rememberDays: z.number().int().min(1).max(365).default(30).describe('How long a remembered approval lasts.'),
  })
  .describe('Consent.');

/** A resource server allowed to call the introspection endpoint (RFC 7662 §2.1). */
export const resourceServerSchema = z.strictObject({
  clientId: z.string().min(1).max(200),
  clientSecret: z.string().min(16).describe('Compared by its SHA-256 in constant time.'),
});

/** The authorization server's identity and surface. */
export const serverSchema = z
  .strictObject({
    issuer: httpsUrl
      .optional()
      .describe(
        'The authorization server identifier (RFC 8414 `issuer`, the `iss` of tokens and of authorization responses). https, or http on a loopback host. Default: `http://<serve.host>:<serve.port>`, the address `flowgate serve` listens on.',
      ),
    baseUrl: httpsUrl.optional().describe('Where the endpoints are served, when not under the issuer (default: the issuer).'),
    hostCheck: z
      .enum(['auto', 'on', 'off'])
      .default('auto')
      .describe(
        'DNS-rebinding protection (CVE-2025-66414) in `fetch` and on every route of `flowgate serve`: a request whose `Host` is not flowgate’s own gets 421, a browser request from a foreign `Origin` gets 403. `auto`: on when the issuer (or `baseUrl`) is a loopback URL (127.x, localhost, [::1]), when `server.allowedHosts` is not empty, or when `flowgate serve` binds a loopback address; off otherwise (a reverse proxy decides which names reach flowgate). `on`: always. `off`: never (your server checks `Host` itself).',
      ),
    allowedHosts: z
      .array(z.string().regex(/^[^\s/@?#]+$/, 'must be a Host header value (a name or address, with the port), not a URL'))
      .default([])
      .describe(
        '`Host` header values accepted besides the issuer’s and `baseUrl`’s host and, on a loopback issuer, 127.0.0.1 / localhost / [::1] with its port; with the port, as the header carries it (`"mcp.localtest.me:8787"`). Not empty: the check is on under `auto` whatever the issuer.',
      ),
    trustProxy: z
      .boolean()
      .default(false)
      .describe('Trust `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` (only behind a reverse proxy that sets them).'),
    resources: z
      .array(resourceSchema)
      .default([])
      .describe('The MCP resources flowgate issues tokens for; the first is the default. Empty: `<issuer>/mcp`.'),
    scopes: z
      .array(scopeSchema)
      .default([{ name: 'mcp:tools', description: 'Use the tools of the MCP server on your behalf' }])
      .describe('The scopes flowgate offers.'),
    defaultScopes: z.array(scopeName).default(['mcp:tools']).describe('Scopes granted when a request names none.'),
    introspectionClients: z
      .array(resourceServerSchema)
      .default([])
      .describe('Resource servers that may call `/introspect` (RFC 7662); self-registered clients never can.'),
  })
  .describe('The authorization server.');
