/**
 * The upstream code exchange (RFC 6749 §4.1.3 with RFC 7636 §4.5): validate the
 * authorization response, redeem the code with flowgate's own PKCE verifier and client
 * authentication, validate the ID token (OIDC Core §3.1.3.7: `iss`, `aud` = client id,
 * `nonce`, `exp`, and its signature against the upstream JWKS), and find out who signed in.
 *
 * oauth4webapi checks the ID token's claims but, as OIDC Core §3.1.3.7 step 6 allows for a
 * token received over TLS, not its signature; `validateApplicationLevelSignature` adds it.
 *
 * With a preset's issuer rule (Entra `common`), the issuer the ID token must carry comes
 * from its own claims (`tid`) through the rule, which may refuse the token outright (a
 * tenant outside the allow-list); the verified claims must then lead to the same issuer,
 * and an RFC 9207 `iss` in the authorization response must be that issuer too.
 *
 * @module
 */
import * as oauth from 'oauth4webapi';
import { constantTimeEqual, sha256Base64Url } from '../crypto/random.js';
import { callbackParams, validateAuthorizationResponse, type CallbackInput } from './authorization-response.js';
import { toUpstreamError } from './classify.js';
import type { UpstreamContext } from './context.js';
import { confirmIssuer, metadataFor, unverifiedPayload } from './issuer-rule.js';
import { oidcIdentity } from './oidc-identity.js';
import { fromUpstreamScopes } from './scopes.js';
import { toUpstreamTokens } from './token-set.js';
import type { UpstreamIdentity, UpstreamSignIn } from './types.js';
import { UpstreamError } from './upstream-error.js';
import { userApiIdentity } from './user-api-identity.js';

/** Parameters of {@link exchangeCode} besides the callback itself. */
export interface ExchangeCodeOptions {
  /** The `state` flowgate sent upstream. */
  readonly expectedState: string;
  /** flowgate's own PKCE verifier for this flow (never the MCP client's). */
  readonly codeVerifier: string;
  /** The redirect URI sent in the authorization request (RFC 6749 §4.1.3). */
  readonly redirectUri: string;
  /** The nonce sent (OIDC). Either this or `nonceHash` is required for an `oidc` upstream. */
  readonly nonce?: string;
  /** SHA-256 (base64url) of the nonce sent, for callers that keep only the hash. */
  readonly nonceHash?: string;
  /** The scopes requested, the granted ones when the response has no `scope` (default the configured ones). */
  readonly scopes?: readonly string[];
}

/** Parameters of {@link exchangeCode}: the callback URL or its parameters, and the flow's secrets. */
export type ExchangeCodeParams = CallbackInput & ExchangeCodeOptions;

function idTokenNonce(body: unknown): string | undefined {
  const nonce = unverifiedPayload((body as { id_token?: unknown } | null)?.id_token).nonce;
  return typeof nonce === 'string' ? nonce : undefined;
}

/**
 * The nonce oauth4webapi must find in the ID token. With only its hash known, the ID
 * token's (still unverified) `nonce` is taken when its hash matches, and oauth4webapi then
 * checks it as usual; a mismatch is refused here.
 */
async function expectedNonce(response: Response, params: ExchangeCodeOptions): Promise<string> {
  if (params.nonce !== undefined) return params.nonce;
  if (params.nonceHash === undefined) throw new TypeError('exchangeCode: an oidc upstream needs nonce or nonceHash');
  const candidate = idTokenNonce(await response.clone().json().catch(() => null));
  if (candidate === undefined || !constantTimeEqual(sha256Base64Url(candidate), params.nonceHash)) {
    if (response.status !== 200) return params.nonceHash; // an error response: let oauth4webapi report it
    throw new UpstreamError({ reason: 'id_token_invalid', operation: 'exchange', detail: 'the ID token nonce is not the one sent' });
  }
  return candidate;
}

/** Exchanges the upstream's code (see the module documentation). Throws {@link UpstreamError}. */
export async function exchangeCode(ctx: UpstreamContext, params: ExchangeCodeParams): Promise<UpstreamSignIn> {
  const oidc = ctx.config.kind === 'oidc';
  if (oidc && params.nonce === undefined && params.nonceHash === undefined) {
    throw new TypeError('exchangeCode: an oidc upstream needs nonce or nonceHash');
  }
  const as = await ctx.metadata();
  const client = ctx.client();
  const query = callbackParams(params);
  const iss = query.get('iss');
  const authorizationAs = iss === null ? as : metadataFor(ctx, as, { iss }, 'authorization');
  const callback = validateAuthorizationResponse(authorizationAs, client, query, params.expectedState);

  const sentAt = ctx.clock();
  let response: Response;
  try {
    response = await oauth.authorizationCodeGrantRequest(as, client, ctx.clientAuth(), callback, params.redirectUri, params.codeVerifier, {
      ...ctx.http('exchange'),
      additionalParameters: ctx.config.extraTokenParams,
    });
  } catch (error) {
    throw toUpstreamError(error, 'exchange');
  }

  const copy = response.clone(); // to tell a bad ID token from another bad response
  let tokens: oauth.TokenEndpointResponse;
  let tokenAs = as;
  try {
    if (ctx.issuerRule !== undefined && response.status === 200) {
      const claims = unverifiedPayload(((await response.clone().json().catch(() => null)) as { id_token?: unknown } | null)?.id_token);
      if (claims.iss !== undefined) tokenAs = metadataFor(ctx, as, claims, 'exchange');
      if (iss !== null && tokenAs.issuer !== authorizationAs.issuer) {
        throw new UpstreamError({ reason: 'issuer_mismatch', operation: 'exchange', detail: 'the ID token issuer is not the authorization response iss' });
      }
    }
    tokens = await oauth.processAuthorizationCodeResponse(tokenAs, client, response, {
      expectedNonce: oidc ? await expectedNonce(response, params) : oauth.expectNoNonce,
      requireIdToken: oidc,
    });
    if (tokens.id_token !== undefined) {
      await oauth.validateApplicationLevelSignature(tokenAs, response, { ...ctx.http('exchange'), [oauth.jwksCache]: ctx.jwksCache });
      confirmIssuer(ctx, as, tokenAs, oauth.getValidatedIdTokenClaims(tokens) ?? {}, 'exchange');
    }
  } catch (error) {
    const body = (response.status === 200 ? await copy.json().catch(() => null) : null) as Record<string, unknown> | null;
    // A bad or (for OIDC) missing ID token in an otherwise usable response.
    const idTokenFailed = typeof body?.id_token === 'string' || (oidc && typeof body?.access_token === 'string');
    throw toUpstreamError(error, 'exchange', idTokenFailed ? 'id_token_invalid' : 'invalid_response');
  }

  const result = toUpstreamTokens(tokens, sentAt, params.scopes ?? ctx.scopes, undefined, (granted) => fromUpstreamScopes(ctx.preset, ctx.config, granted));
  const identity: UpstreamIdentity = oidc
    ? await oidcIdentity(ctx, tokenAs, tokens)
    : await userApiIdentity(ctx, tokens.access_token, result.grantedScopes);
  return { ...result, ...identity };
}
