/**
 * Validation of a fetched client ID metadata document (CIMD "Client Metadata"; RFC 7591 §2
 * fields; MCP 2025-11-25).
 *
 * - `client_id` must equal the URL the document was fetched from, character for character.
 * - `redirect_uris` is required and non-empty; every entry passes the same checks as a
 *   dynamic registration (`checkRedirectUriForRegistration`, https for a `web` client) and
 *   the operator's `registration.redirectPatterns`. One bad entry refuses the document.
 *   Wildcards are not a thing: a redirect URI is matched exactly, except the port of an
 *   http loopback URI (RFC 8252 §7.3).
 * - `token_endpoint_auth_method` is `none` (the default): flowgate does not accept client
 *   assertions, and shared secrets make no sense in a public document (`client_secret*`
 *   methods and a `client_secret` member are refused).
 * - `grant_types` (default `authorization_code`) must include `authorization_code`; only
 *   `authorization_code` and `refresh_token` are kept. `response_types` is `code`.
 * - `scope`, when present, is reduced to the scopes flowgate offers; if none is left the
 *   document is refused.
 *
 * @module
 */
import { z } from 'zod';
import type { ClientMetadata } from '../../machines/client-registration.js';
import { matchesAnyRedirectPattern } from '../oauth/redirect-patterns.js';
import { clientDisplayMembers } from '../oauth/https-url.js';
import { checkRedirectUriForRegistration } from '../oauth/redirect-uri.js';
import { parseScope } from '../oauth/scope.js';

/** The members flowgate reads; others are ignored (RFC 7591 §2: unknown members are ignored). */
const documentSchema = z.object({
  client_id: z.string(),
  redirect_uris: z.array(z.string().max(2048)).min(1).max(50),
  token_endpoint_auth_method: z.string().default('none'),
  grant_types: z.array(z.string()).default(['authorization_code']),
  response_types: z.array(z.string()).default(['code']),
  ...clientDisplayMembers,
  client_secret: z.unknown().optional(),
});

/** What a document is checked against. */
export interface DocumentPolicy {
  /** The scopes flowgate offers. */
  readonly offeredScopes: readonly string[];
  /** `registration.redirectPatterns`; empty = every URI passing the built-in checks. */
  readonly redirectPatterns: readonly string[];
}

/** The outcome of {@link validateMetadataDocument}. */
export type DocumentCheck = { readonly ok: true; readonly metadata: ClientMetadata } | { readonly ok: false; readonly reason: string };

function fail(reason: string): DocumentCheck {
  return { ok: false, reason };
}

/** Checks one redirect URI of a document (the rules of `POST /register`). */
export function documentRedirectProblem(uri: string, applicationType: 'native' | 'web', patterns: readonly string[]): string | undefined {
  const check = checkRedirectUriForRegistration(uri);
  if (!check.ok) return check.reason;
  if (applicationType === 'web' && !uri.startsWith('https://')) return 'a web client must use https redirect URIs';
  if (patterns.length > 0 && !matchesAnyRedirectPattern(uri, patterns)) return 'the redirect URI is not allowed by this server';
  return undefined;
}

/**
 * Validates a fetched document for the client id `url` and returns the metadata flowgate
 * records for the client.
 */
export function validateMetadataDocument(json: unknown, url: string, policy: DocumentPolicy): DocumentCheck {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('the document is not a JSON object');
  const parsed = documentSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(`${issue?.path.join('.') || 'the document'}: ${issue?.message ?? 'invalid'}`);
  }
  const doc = parsed.data;
  if (doc.client_id !== url) return fail('the document’s client_id is not the URL it was fetched from');
  if (doc.client_secret !== undefined) return fail('a metadata document must not contain a client_secret');
  if (doc.token_endpoint_auth_method !== 'none') {
    return fail(`token_endpoint_auth_method ${JSON.stringify(doc.token_endpoint_auth_method).slice(0, 40)} is not accepted (only none)`);
  }
  if (!doc.grant_types.includes('authorization_code')) return fail('grant_types must include authorization_code');
  if (!doc.response_types.every((t) => t === 'code')) return fail('response_types may only contain code');
  for (const uri of doc.redirect_uris) {
    const problem = documentRedirectProblem(uri, doc.application_type, policy.redirectPatterns);
    if (problem) return fail(`redirect_uris: ${problem}`);
  }
  let scope: string | undefined;
  if (doc.scope !== undefined) {
    let requested: string[];
    try {
      requested = parseScope(doc.scope);
    } catch {
      return fail('scope is not a valid scope string');
    }
    const kept = requested.filter((s) => policy.offeredScopes.includes(s));
    if (kept.length === 0) return fail('scope names no scope this server offers');
    scope = kept.join(' ');
  }
  const grantTypes = ['authorization_code', ...(doc.grant_types.includes('refresh_token') ? ['refresh_token'] : [])];
  return {
    ok: true,
    metadata: {
      redirect_uris: [...doc.redirect_uris],
      token_endpoint_auth_method: 'none',
      grant_types: grantTypes,
      response_types: ['code'],
      application_type: doc.application_type,
      ...(scope ? { scope } : {}),
      ...(doc.client_name ? { client_name: doc.client_name } : {}),
      ...(doc.client_uri ? { client_uri: doc.client_uri } : {}),
      ...(doc.logo_uri ? { logo_uri: doc.logo_uri } : {}),
      ...(doc.tos_uri ? { tos_uri: doc.tos_uri } : {}),
      ...(doc.policy_uri ? { policy_uri: doc.policy_uri } : {}),
      ...(doc.software_id ? { software_id: doc.software_id } : {}),
      ...(doc.software_version ? { software_version: doc.software_version } : {}),
    },
  };
}
