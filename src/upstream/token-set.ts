/**
 * From an oauth4webapi token response to an {@link UpstreamTokens}: the raw JSON object,
 * its expiry, whether it can be refreshed, and the granted scopes.
 *
 * @module
 */
import type * as oauth from 'oauth4webapi';
import type { JsonValue } from '../events/canonical-json.js';
import { parseScope } from './scopes.js';
import type { UpstreamTokenSet, UpstreamTokens } from './types.js';

/** Members a refresh response may omit that are kept from the previous token set. */
const KEPT_ON_REFRESH = ['refresh_token', 'id_token', 'scope'] as const;

/** A plain JSON copy (no `undefined`, no prototype surprises) of a token response. */
function plainJson(response: oauth.TokenEndpointResponse): Record<string, JsonValue> {
  return JSON.parse(JSON.stringify(response)) as Record<string, JsonValue>;
}

/**
 * The {@link UpstreamTokens} of a token response received for a request sent at
 * `sentAt` (epoch ms; counting from the request keeps the expiry conservative).
 * `previous` is the token set being refreshed: its refresh token, ID token and scope are
 * kept when the response does not replace them (an upstream that does not rotate refresh
 * tokens sends none back, RFC 6749 §6).
 */
export function toUpstreamTokens(
  response: oauth.TokenEndpointResponse,
  sentAt: number,
  requested: readonly string[],
  previous?: UpstreamTokenSet,
  /** Granted upstream scope names → configured names (a preset's translation). */
  translate: (granted: string[]) => string[] = (granted) => granted,
): UpstreamTokens {
  const tokenSet = plainJson(response);
  if (previous !== undefined) {
    for (const name of KEPT_ON_REFRESH) {
      if (tokenSet[name] === undefined && previous[name] !== undefined) tokenSet[name] = previous[name];
    }
  }
  const expiresIn = response.expires_in;
  const refreshToken = tokenSet.refresh_token;
  return {
    tokenSet: Object.freeze(tokenSet),
    expiresAt: typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn >= 0 ? sentAt + expiresIn * 1000 : null,
    refreshable: typeof refreshToken === 'string' && refreshToken.length > 0,
    grantedScopes: Object.freeze(translate(parseScope(tokenSet.scope) ?? [...requested])),
  };
}

/** The string member `name` of a token set, if it is a non-empty string. */
export function tokenOf(tokenSet: UpstreamTokenSet, name: 'access_token' | 'refresh_token' | 'id_token'): string | undefined {
  const value = tokenSet[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
