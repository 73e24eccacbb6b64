/**
 * Clients as the endpoints see them: lookup of an active client, and the redirect URI a
 * request may use (OAuth 2.1 §4.1.1: exact match with a registered one, except the port of
 * an http loopback URI; configured patterns only ever narrow this).
 *
 * @module
 */
import type { Kysely } from 'kysely';
import { findClient, type ClientRecord } from '../projections/clients.js';
import { matchesAnyRedirectPattern } from '../oauth/redirect-patterns.js';
import { checkRedirectUriForRegistration, redirectUriMatches } from '../oauth/redirect-uri.js';
import type { ServerSettings } from './settings.js';

/** An active client, or undefined (unknown, expired or deleted). */
export async function findActiveClient(db: Kysely<any>, clientId: string): Promise<ClientRecord | undefined> {
  const client = await findClient(db, clientId);
  return client?.status === 'active' ? client : undefined;
}

/** The outcome of checking a requested redirect URI. */
export type RedirectResolution = { readonly ok: true; readonly uri: string } | { readonly ok: false; readonly reason: string };

/**
 * The redirect URI to use for `client`: the requested one when it matches a registered
 * URI (byte-equal, or an http loopback URI differing only in its port), the only
 * registered one when none was requested. Dynamic clients must also match the operator's
 * current patterns (a registration is judged by today's configuration, fastmcp #3771).
 */
export function resolveRedirectUri(
  client: ClientRecord,
  requested: string | undefined,
  settings: Pick<ServerSettings, 'registration'>,
): RedirectResolution {
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
  const patterns = settings.registration.redirectPatterns;
  if (client.kind === 'dynamic' && patterns.length > 0 && !matchesAnyRedirectPattern(uri, patterns)) {
    return { ok: false, reason: 'redirect_uri is not allowed by this server' };
  }
  return { ok: true, uri };
}

/**
 * The client's redirect URI with response parameters appended (OAuth 2.1 §4.1.2,
 * RFC 9207 §2): the registered query is kept byte for byte and each parameter appears once.
 */
export function clientRedirect(redirectUri: string, params: Readonly<Record<string, string | null | undefined>>): string {
  const hash = redirectUri.indexOf('#');
  const base = hash >= 0 ? redirectUri.slice(0, hash) : redirectUri;
  const pairs = Object.entries(params)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  if (pairs.length === 0) return base;
  const separator = base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?';
  return `${base}${separator}${pairs.join('&')}`;
}
