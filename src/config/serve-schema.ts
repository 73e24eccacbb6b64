/**
 * Running flowgate as a server (`flowgate serve`): where it listens, how it logs, and the
 * gateway routes that put any MCP server behind flowgate without code changes.
 *
 * @module
 */
import { z } from 'zod';

/** Where and how the server listens. */
export const serveSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1').describe('Interface to listen on. Bound to a loopback address, flowgate refuses requests whose Host is not its own (DNS-rebinding protection, `server.hostCheck`).'),
    port: z.number().int().min(0).max(65_535).default(8787).describe('TCP port (0 picks a free one).'),
    allowedHosts: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Extra `Host` header values `flowgate serve` accepts when the Host check is on (besides the issuer host, `server.allowedHosts`, and on a loopback bind 127.0.0.1 / localhost / [::1] with the port).',
      ),
    metrics: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Serve Prometheus `/metrics` (off: `/metrics` is 404).'),
        bearerToken: z
          .string()
          .min(32)
          .optional()
          .describe(
            'When set, `/metrics` answers only `Authorization: Bearer <token>` (Prometheus `authorization.credentials`) and 401 otherwise. At least 32 characters; keep it out of configuration files (`FLOWGATE_METRICS_TOKEN`).',
          ),
      })
      .prefault({})
      .describe('The `/metrics` endpoint.'),
    shutdownTimeoutMs: z.number().int().min(0).max(600_000).default(10_000).describe('How long SIGTERM/SIGINT waits for in-flight requests before closing connections.'),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('pino log level. Logs carry request ids and flow ids, never secrets, codes or tokens.'),
  })
  .describe('The HTTP server.');

/** One MCP server behind flowgate. */
export const gatewayRouteSchema = z.strictObject({
  resource: z.string().url().describe('The configured resource (`server.resources`) this route serves; its path on flowgate’s origin is where clients connect.'),
  target: z
    .string()
    .url()
    .refine((u) => /^https?:/.test(u), 'must be an http or https URL')
    .describe('The MCP server’s URL requests are forwarded to (streaming and SSE included).'),
  identity: z
    .enum(['headers', 'jwt'])
    .default('jwt')
    .describe(
      'How the caller is passed on: `jwt` — `X-Flowgate-Identity`, a 60-second JWT signed with flowgate’s access-token keys (`typ: flowgate-identity+jwt`, `aud` = the target), verifiable with flowgate’s JWKS; `headers` — `X-Flowgate-Subject`, `-Client-Id`, `-Scopes`, `-Timestamp` and an HMAC `X-Flowgate-Signature` with `gateway.identitySecret`.',
    ),
  forwardUpstreamToken: z
    .boolean()
    .default(false)
    .describe('Also pass the upstream access token in `X-Flowgate-Upstream-Token` (for MCP servers that call the upstream API themselves).'),
  requiredScopes: z.array(z.string()).default([]).describe('Scopes every forwarded request needs (403 `insufficient_scope` otherwise).'),
});

/** Gateway mode. */
export const gatewaySchema = z
  .strictObject({
    routes: z.array(gatewayRouteSchema).default([]).describe('MCP servers flowgate forwards authorized requests to.'),
    identitySecret: z
      .string()
      .min(32)
      .optional()
      .describe('HMAC key of the `headers` identity mode (at least 32 characters); shared with the MCP server.'),
    timeoutMs: z.number().int().min(1000).max(3_600_000).default(300_000).describe('Longest a forwarded request may take (streams included).'),
  })
  .describe('Gateway mode: flowgate in front of an MCP server of any language.');
