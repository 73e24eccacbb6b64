/**
 * Adapts flowgate's keyring and upstream client to the ports the HTTP layer declares.
 *
 * @module
 */
import type { Keyring } from '../keys/keyring.js';
import { ServerError, type OAuthError } from '../oauth/errors.js';
import { clientErrorFor, clientErrorForAuthorizationError } from '../upstream/client-error.js';
import type { UpstreamClient } from '../upstream/upstream-client.js';
import { UpstreamError } from '../upstream/upstream-error.js';
import type { KeysPort, UpstreamPort } from './ports.js';

/** The keyring as a {@link KeysPort}. */
export function keysPort(keyring: Keyring): KeysPort {
  return {
    jwks: () => keyring.jwks(),
    async cookieKeys() {
      const keys = await keyring.cookieKey();
      return { signing: keys.active.secret, verifying: keys.verification.map((k) => k.secret) };
    },
  };
}

/** The upstream client as an {@link UpstreamPort}. */
export function upstreamPort(client: UpstreamClient): UpstreamPort {
  return {
    // The configured or preset name ("GitHub" …), else the issuer's host: the client decides.
    displayName: client.displayName,
    authorizationUrl: (input) => client.authorizationUrl(input),
    async signIn(input) {
      const result = await client.exchangeCode({
        callbackUrl: input.callbackUrl,
        expectedState: input.expectedState,
        codeVerifier: input.codeVerifier,
        redirectUri: input.redirectUri,
        ...(input.nonceHash ? { nonceHash: input.nonceHash } : {}),
      });
      return {
        subject: result.subject,
        claims: result.claims,
        tokenSet: result.tokenSet,
        expiresAt: result.expiresAt,
        refreshable: result.refreshable,
      };
    },
    clientError(error: unknown): OAuthError {
      if (error instanceof UpstreamError) return clientErrorFor(error);
      return new ServerError('the identity provider could not complete the sign-in', { cause: error });
    },
    authorizationErrorCode: (error) => clientErrorForAuthorizationError(error).code,
  };
}
