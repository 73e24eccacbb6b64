/**
 * Client authentication at the token, revocation and introspection endpoints
 * (RFC 6749 §2.3): `client_secret_basic` (id and secret form-urlencoded before base64,
 * §2.3.1), `client_secret_post`, or `none` for public clients (`client_id` in the body).
 * One method per request; a public client presenting a secret, or a confidential one
 * presenting none, fails. Secrets are compared by their SHA-256, in constant time.
 *
 * @module
 */
import type { Kysely } from 'kysely';
import { constantTimeEqual, sha256Base64Url } from '../crypto/random.js';
import { InvalidClient, InvalidRequest } from '../oauth/errors.js';
import type { ClientRecord } from '../projections/clients.js';
import { findActiveClient } from './clients.js';
import type { Params } from './params.js';

/** The authenticated client and how it authenticated. */
export interface AuthenticatedClient {
  readonly client: ClientRecord;
  /** True when HTTP Basic was used (a 401 then carries `WWW-Authenticate: Basic`). */
  readonly usedBasic: boolean;
}

/** A failed client authentication, remembering whether Basic was attempted. */
export class ClientAuthError extends InvalidClient {
  constructor(readonly usedBasic: boolean, detail: string) {
    super('client authentication failed', { detail });
  }
}

function parseBasic(header: string | null): { id: string; secret: string } | undefined {
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new InvalidRequest('malformed HTTP Basic credentials');
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
  } catch {
    throw new InvalidRequest('malformed HTTP Basic credentials');
  }
}

/** Authenticates the client of a token-endpoint-style request. */
export async function authenticateClient(request: Request, form: Params, db: Kysely<any>): Promise<AuthenticatedClient> {
  const basic = parseBasic(request.headers.get('authorization'));
  const bodyId = form.get('client_id');
  const bodySecret = form.get('client_secret');
  if (basic && bodySecret !== undefined) throw new InvalidRequest('use one client authentication method, not two');
  if (basic && bodyId !== undefined && bodyId !== basic.id) throw new InvalidRequest('client_id does not match the HTTP Basic credentials');
  if (form.get('client_assertion') !== undefined) throw new ClientAuthError(Boolean(basic), 'client assertions are not accepted');
  const clientId = basic?.id ?? bodyId;
  if (!clientId) throw new ClientAuthError(false, 'no client identification');
  const client = await findActiveClient(db, clientId);
  if (!client) throw new ClientAuthError(Boolean(basic), 'unknown client');
  const secret = basic ? basic.secret : bodySecret;
  if (client.secretHash) {
    if (!secret || !constantTimeEqual(sha256Base64Url(secret), client.secretHash)) {
      throw new ClientAuthError(Boolean(basic), 'wrong or missing client secret');
    }
  } else if (secret) {
    throw new ClientAuthError(Boolean(basic), 'a public client presented a secret');
  }
  return { client, usedBasic: Boolean(basic) };
}
