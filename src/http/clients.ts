/**
 * Clients as the endpoints see them: lookup of an active client, and the redirect URI a
 * request may use (OAuth 2.1 §4.1.1: exact match with a registered one, except the port of
 * an http loopback URI; configured patterns only ever narrow this).
 *
 * `/authorize` looks clients up with {@link lookupClient}, which also knows the two kinds
 * that are not registered beforehand: metadata-document clients (an https URL as
 * `client_id`, fetched through `deps.cimd`) and, when the operator opted in, the upstream
 * app's own client id (fastmcp #3949), served by a synthesized public client whose
 * redirect URI must match the configured patterns. Both are recorded in the log on first
 * use, so `/token` finds them with {@link findActiveClient} like any other client.
 *
 * @module
 */
import type { Kysely } from 'kysely';
import type { ClientMetadata } from '../../machines/client-registration.js';
import { looksLikeUrl } from '../cimd/client-id.js';
import { findClient, type ClientRecord } from '../projections/clients.js';
import { matchesAnyRedirectPattern } from '../oauth/redirect-patterns.js';
import { checkRedirectUriForRegistration, redirectUriMatches } from '../oauth/redirect-uri.js';
import type { HttpDeps } from './ports.js';
import type { ServerSettings } from './settings.js';

/** An active client, or undefined (unknown, expired or deleted). */
export async function findActiveClient(db: Kysely<any>, clientId: string): Promise<ClientRecord | undefined> {
  const client = await findClient(db, clientId);
  return client?.status === 'active' ? client : undefined;
}

/**
 * How a client's redirect URI is chosen: `registered` (exact match with a registered URI,
 * loopback port aside) or `patterns` (the synthesized upstream-client-id client, which
 * registered nothing: the request must name a URI that matches the configured patterns).
 */
export type RedirectRule = 'registered' | 'patterns';

/** The outcome of {@link lookupClient}. */
export type ClientLookup =
  | { readonly ok: true; readonly client: ClientRecord; readonly redirectRule: RedirectRule }
  | { readonly ok: false; readonly problem: 'unknown' }
  | { readonly ok: false; readonly problem: 'metadata_document'; readonly reason: string };

/** The metadata of the client synthesized for the upstream app's client id: public, nothing registered. */
export const UPSTREAM_FALLBACK_METADATA: ClientMetadata = Object.freeze({
  redirect_uris: [],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  application_type: 'native',
});

/** True for the log's record of the synthesized upstream-client-id client. */
export function isUpstreamFallbackRecord(client: ClientRecord | undefined): boolean {
  return client !== undefined && client.kind === 'upstream_fallback';
}

const UNKNOWN: ClientLookup = Object.freeze({ ok: false, problem: 'unknown' });

async function upstreamFallbackClient(
  deps: Pick<HttpDeps, 'db' | 'engine' | 'settings'>,
  clientId: string,
  stored: ClientRecord | undefined,
): Promise<ClientLookup> {
  if (stored) {
    if (stored.status !== 'active') return UNKNOWN;
    return { ok: true, client: stored, redirectRule: isUpstreamFallbackRecord(stored) ? 'patterns' : 'registered' };
  }
  try {
    await deps.engine.execute({
      type: 'RegisterClient',
      clientId,
      kind: 'upstream_fallback',
      metadata: UPSTREAM_FALLBACK_METADATA,
      secretHash: null,
      allowedPatterns: deps.settings.registration.redirectPatterns,
    });
  } catch (error) {
    if (!(await findClient(deps.db, clientId))) throw error; // otherwise a concurrent request registered it
  }
  const registered = await findClient(deps.db, clientId);
  if (!registered || registered.status !== 'active') return UNKNOWN;
  return { ok: true, client: registered, redirectRule: 'patterns' };
}

/**
 * The client an authorization request names: a static or registered client; a
 * metadata-document client (fetched, validated and recorded when CIMD is on); or, with
 * `clients.upstreamClientIdFallback`, the synthesized client of the upstream app's id.
 * Metadata-document clients are not used for new flows while CIMD is off, nor the
 * synthesized client while the fallback is off, even if the log still has them.
 */
export async function lookupClient(
  deps: Pick<HttpDeps, 'db' | 'engine' | 'settings' | 'cimd' | 'upstreamClientIdFallback'>,
  clientId: string,
): Promise<ClientLookup> {
  const stored = await findClient(deps.db, clientId);
  if (stored?.kind === 'static') return stored.status === 'active' ? { ok: true, client: stored, redirectRule: 'registered' } : UNKNOWN;
  if (deps.upstreamClientIdFallback !== undefined && clientId === deps.upstreamClientIdFallback) {
    return upstreamFallbackClient(deps, clientId, stored);
  }
  if (isUpstreamFallbackRecord(stored)) return UNKNOWN;
  if (looksLikeUrl(clientId) || stored?.kind === 'metadata_document') {
    if (!deps.cimd || !deps.cimd.handles(clientId)) return UNKNOWN;
    const resolved = await deps.cimd.resolve(clientId);
    if (resolved.ok) return { ok: true, client: resolved.client, redirectRule: 'registered' };
    if (resolved.problem === 'invalid_id') return UNKNOWN;
    // Only what the document itself got wrong is worth telling; network details stay in the log.
    const reason =
      resolved.problem === 'invalid_document'
        ? `its metadata document is not acceptable: ${resolved.reason}`
        : resolved.problem === 'inactive'
          ? resolved.reason
          : 'its metadata document could not be fetched';
    return { ok: false, problem: 'metadata_document', reason };
  }
  return stored?.status === 'active' ? { ok: true, client: stored, redirectRule: 'registered' } : UNKNOWN;
}

/** The outcome of checking a requested redirect URI. */
export type RedirectResolution = { readonly ok: true; readonly uri: string } | { readonly ok: false; readonly reason: string };

/**
 * The redirect URI to use for `client`: the requested one when it matches a registered
 * URI (byte-equal, or an http loopback URI differing only in its port), the only
 * registered one when none was requested. Dynamic and metadata-document clients must also
 * match the operator's current patterns (a registration is judged by today's configuration,
 * fastmcp #3771). With `rule` `patterns`, only the patterns decide.
 */
export function resolveRedirectUri(
  client: ClientRecord,
  requested: string | undefined,
  settings: Pick<ServerSettings, 'registration'>,
  rule: RedirectRule = 'registered',
): RedirectResolution {
  const patterns = settings.registration.redirectPatterns;
  if (rule === 'patterns') {
    // The synthesized upstream-client-id client registered nothing: the patterns are the whole rule.
    if (requested === undefined) return { ok: false, reason: 'redirect_uri is required for this client' };
    const hygiene = checkRedirectUriForRegistration(requested);
    if (!hygiene.ok) return { ok: false, reason: hygiene.reason };
    if (patterns.length === 0 || !matchesAnyRedirectPattern(requested, patterns)) {
      return { ok: false, reason: 'redirect_uri is not allowed by this server' };
    }
    return { ok: true, uri: requested };
  }
  const registered = client.metadata.redirect_uris;
  let uri: string;
  if (requested === undefined) {
    if (registered.length !== 1) return { ok: false, reason: 'redirect_uri is required: the client registered several' };
    uri = registered[0]!;
  } else {
    if (!registered.some((r) => redirectUriMatches(r, requested))) {
      return { ok: false, reason: 'redirect_uri is not registered for this client' };
    }
    uri = requested;
  }
  const hygiene = checkRedirectUriForRegistration(uri);
  if (!hygiene.ok) return { ok: false, reason: hygiene.reason };
  if (client.kind !== 'static' && patterns.length > 0 && !matchesAnyRedirectPattern(uri, patterns)) {
    return { ok: false, reason: 'redirect_uri is not allowed by this server' };
  }
  return { ok: true, uri };
}

/**
 * The client's redirect URI with response parameters appended (OAuth 2.1 §4.1.2,
 * RFC 9207 §2): the registered query is kept byte for byte, except that a parameter it
 * already names (an `iss` in a registered URI, say) takes flowgate's value in place, so
 * each response parameter appears exactly once.
 */
export function clientRedirect(redirectUri: string, params: Readonly<Record<string, string | null | undefined>>): string {
  const hash = redirectUri.indexOf('#');
  let base = hash >= 0 ? redirectUri.slice(0, hash) : redirectUri;
  const entries = Object.entries(params).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
  if (entries.length === 0) return base;
  // A registered query may already carry one of these names (say `iss`): its first occurrence
  // gets flowgate's value in place, later ones go, and every other byte stays (RFC 9207 §2:
  // one `iss`; fastmcp's replace_query_param).
  const question = base.indexOf('?');
  const pending: Array<[string, string]> = [];
  if (question >= 0) {
    const segments: Array<string | null> = base.slice(question + 1).split('&');
    for (const [key, value] of entries) {
      const matches = segments.flatMap((segment, index) => (segment !== null && segment !== '' && rawKey(segment) === key ? [index] : []));
      if (matches.length === 0) {
        pending.push([key, value]);
        continue;
      }
      segments[matches[0]!] = `${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
      for (const index of matches.slice(1)) segments[index] = null;
    }
    base = `${base.slice(0, question)}?${segments.filter((segment) => segment !== null).join('&')}`;
  } else {
    pending.push(...entries);
  }
  if (pending.length === 0) return base;
  const pairs = pending.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  const separator = base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?';
  return `${base}${separator}${pairs.join('&')}`;
}

/** The decoded name of one `name=value` query segment (undecodable names never match). */
function rawKey(segment: string): string | undefined {
  const name = segment.split('=')[0]!;
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
