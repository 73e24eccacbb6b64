/**
 * The authorization server's resolved settings: the configuration with every derived value
 * computed once (endpoint URLs, the default resource, cookie names).
 *
 * @module
 */
import type { z } from 'zod';
import { sha256Base64Url } from '../crypto/random.js';
import type { consentSchema, registrationSchema, serverSchema, staticClientSchema } from '../config/server-schema.js';

/** A resource flowgate serves tokens for. */
export interface ResourceSetting {
  readonly uri: string;
  readonly scopes: readonly string[];
}

/** Everything the HTTP layer needs to know about itself. */
export interface ServerSettings {
  readonly issuer: string;
  /** Endpoints live under this URL (no trailing slash). */
  readonly baseUrl: string;
  readonly trustProxy: boolean;
  readonly resources: readonly ResourceSetting[];
  readonly defaultResource: string;
  readonly scopes: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  readonly defaultScopes: readonly string[];
  readonly registration: z.output<typeof registrationSchema>;
  readonly consent: z.output<typeof consentSchema>;
  readonly staticClients: ReadonlyArray<z.output<typeof staticClientSchema>>;
  /** The upstream callback path, under the base URL. */
  readonly callbackPath: string;
  /** True when the issuer is https: cookies get `Secure` and the `__Host-` prefix. */
  readonly secureCookies: boolean;
  readonly flowTtlMs: number;
  readonly upstreamScopes: readonly string[];
  /** Resource servers allowed to introspect, with the SHA-256 of their secrets. */
  readonly introspectionClients: ReadonlyArray<{ readonly clientId: string; readonly secretHash: string }>;
}

/** Endpoint URLs derived from the base URL. */
export interface Endpoints {
  readonly authorization: string;
  readonly token: string;
  readonly registration: string;
  readonly revocation: string;
  readonly introspection: string;
  readonly jwks: string;
  readonly consent: string;
  readonly callback: string;
}

/** The endpoint URLs of a server. */
export function endpointsOf(settings: Pick<ServerSettings, 'baseUrl' | 'callbackPath'>): Endpoints {
  const base = settings.baseUrl;
  return {
    authorization: `${base}/authorize`,
    token: `${base}/token`,
    registration: `${base}/register`,
    revocation: `${base}/revoke`,
    introspection: `${base}/introspect`,
    jwks: `${base}/.well-known/jwks.json`,
    consent: `${base}/consent`,
    callback: `${base}${settings.callbackPath}`,
  };
}

/** Resolves server settings from the configuration sections. */
export function resolveServerSettings(input: {
  server: z.output<typeof serverSchema>;
  /** The issuer when the configuration names none. */
  defaultIssuer: string;
  registration: z.output<typeof registrationSchema>;
  consent: z.output<typeof consentSchema>;
  staticClients: ReadonlyArray<z.output<typeof staticClientSchema>>;
  callbackPath: string;
  flowTtlMs: number;
  upstreamScopes: readonly string[];
}): ServerSettings {
  const issuer = (input.server.issuer ?? input.defaultIssuer).replace(/\/+$/, '');
  const baseUrl = (input.server.baseUrl ?? issuer).replace(/\/+$/, '');
  const allScopes = input.server.scopes.map((s) => s.name);
  const resources =
    input.server.resources.length > 0
      ? input.server.resources.map((r) => ({ uri: r.uri, scopes: r.scopes ?? allScopes }))
      : [{ uri: `${issuer}/mcp`, scopes: allScopes }];
  return {
    issuer,
    baseUrl,
    trustProxy: input.server.trustProxy,
    resources,
    defaultResource: resources[0]!.uri,
    scopes: input.server.scopes,
    defaultScopes: input.server.defaultScopes,
    registration: input.registration,
    consent: input.consent,
    staticClients: input.staticClients,
    callbackPath: input.callbackPath.startsWith('/') ? input.callbackPath : `/${input.callbackPath}`,
    secureCookies: issuer.startsWith('https:'),
    flowTtlMs: input.flowTtlMs,
    upstreamScopes: input.upstreamScopes,
    introspectionClients: input.server.introspectionClients.map((c) => ({ clientId: c.clientId, secretHash: sha256Base64Url(c.clientSecret) })),
  };
}
