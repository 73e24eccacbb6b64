/**
 * Token policies of real providers the IdP can emulate: Google's refresh-token rule and a
 * strict `private_key_jwt` audience (Okta, Entra: the token endpoint; Auth0: the issuer).
 *
 * @module
 */
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * Google issues a refresh token only for `access_type=offline`, and then only the first time
 * a user authorizes the client, unless the request also says `prompt=consent`.
 * Decided when the code is issued, applied when it is redeemed.
 */
export class GoogleOfflinePolicy {
  /** Authorization code → whether its exchange gets a refresh token. */
  readonly #codes = new Map<string, boolean>();
  /** `accountId client_id` pairs that already received a refresh token. */
  readonly #authorized = new Set<string>();

  /** oidc-provider's `authorization.success` listener. */
  readonly onAuthorized = (ctx: KoaContextWithOIDC, out: { code?: string }): void => {
    if (typeof out.code !== 'string') return;
    const params = ctx.oidc.params ?? {};
    const offline = params.access_type === 'offline';
    const consent = typeof params.prompt === 'string' && params.prompt.split(' ').includes('consent');
    const key = `${ctx.oidc.session?.accountId ?? ''} ${ctx.oidc.client?.clientId ?? ''}`;
    const issue = offline && (consent || !this.#authorized.has(key));
    if (issue) this.#authorized.add(key);
    this.#codes.set(out.code, issue);
  };

  /** Whether the code being redeemed in `ctx` gets a refresh token (each code is looked up once). */
  readonly issues = (ctx: KoaContextWithOIDC): boolean => {
    const code = ctx.oidc.params?.code;
    if (typeof code !== 'string') return false;
    const issue = this.#codes.get(code) === true;
    this.#codes.delete(code);
    return issue;
  };
}

/** The one `aud` a client assertion may carry; anything else is refused with `error`. */
export function strictAssertionAudience(
  expected: 'issuer' | 'token_endpoint',
  error: (message: string) => Error,
): (ctx: KoaContextWithOIDC, claims: Record<string, unknown>) => void {
  return (ctx, claims) => {
    const audience = expected === 'issuer' ? ctx.oidc.issuer : ctx.oidc.urlFor('token');
    if (claims.aud !== audience) {
      throw error(`audience (aud) must be exactly the ${expected === 'issuer' ? 'issuer identifier' : 'token endpoint URL'}`);
    }
  };
}
