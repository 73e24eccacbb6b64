/**
 * Applies a preset's {@link IssuerRule} where the upstream's issuer is not one fixed string
 * (Entra's `common`): the metadata to validate a response against carries the issuer that
 * response must have, which oauth4webapi then compares with `iss` exactly as usual.
 *
 * @module
 * @internal
 */
import type * as oauth from 'oauth4webapi';
import type { UpstreamContext } from './context.js';
import { UpstreamError, type UpstreamOperation } from './upstream-error.js';

/** The (unverified) payload of a compact JWS, or an empty object when it is not one. */
export function unverifiedPayload(jwt: unknown): Readonly<Record<string, unknown>> {
  if (typeof jwt !== 'string') return {};
  try {
    const payload: unknown = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The metadata a response claiming `claims` is validated against: `as` itself without a
 * rule, else `as` with the issuer the rule expects. Throws `issuer_mismatch` when the rule
 * refuses the response outright.
 */
export function metadataFor(
  ctx: UpstreamContext,
  as: oauth.AuthorizationServer,
  claims: Readonly<Record<string, unknown>>,
  operation: UpstreamOperation,
): oauth.AuthorizationServer {
  const rule = ctx.issuerRule;
  if (rule === undefined) return as;
  const expected = rule.expected(claims, as.issuer);
  if ('refused' in expected) throw new UpstreamError({ reason: 'issuer_mismatch', operation, detail: expected.refused });
  return expected.issuer === as.issuer ? as : { ...as, issuer: expected.issuer };
}

/**
 * After validation: the verified claims must lead to the same issuer the unverified ones
 * did (for Entra, the signed `tid` is the one the issuer was derived from).
 */
export function confirmIssuer(
  ctx: UpstreamContext,
  as: oauth.AuthorizationServer,
  used: oauth.AuthorizationServer,
  verified: Readonly<Record<string, unknown>>,
  operation: UpstreamOperation,
): void {
  if (ctx.issuerRule === undefined) return;
  if (metadataFor(ctx, as, verified, operation).issuer !== used.issuer) {
    throw new UpstreamError({ reason: 'issuer_mismatch', operation, detail: 'the verified ID token names another issuer than it claimed' });
  }
}
