/**
 * The identity of a plain OAuth 2 (GitHub-like) sign-in, which has no ID token: the user
 * API (`upstream.userinfoEndpoint`, GitHub `GET /user`) called with the new access token
 * (RFC 6750 §2.1 `Authorization: Bearer`, which GitHub accepts besides `token`).
 *
 * - subject: `upstream.subjectField` of the response (default `id`), stringified; a
 *   missing or non-scalar value is a definitive `subject_missing`;
 * - claims: the preset's mapping, else `preferred_username` (or GitHub's `login`), `name`,
 *   `email` (unverified);
 * - with `upstream.emailsEndpoint` and a granted scope that allows it (`user:email` or
 *   `user`), the primary *verified* address replaces `email`, with `email_verified: true`.
 *   A preset with `emails: 'permitted'` (GitHub Apps, which have permissions rather than
 *   scopes) always asks, and takes a 403 or 404 as "no address".
 *
 * @module
 */
import * as oauth from 'oauth4webapi';
import { statusError, toUpstreamError } from './classify.js';
import type { UpstreamContext } from './context.js';
import type { UpstreamIdentity } from './types.js';
import { UpstreamError } from './upstream-error.js';

/** GitHub scopes that allow reading a user's e-mail addresses. */
const EMAIL_SCOPES = ['user:email', 'user'];

/** Statuses by which a GitHub App's token says "no permission for this API". */
const NOT_PERMITTED = new Set([403, 404]);

async function getJson(ctx: UpstreamContext, endpoint: string, accessToken: string, refusalMeansNone = false): Promise<unknown> {
  try {
    const headers = new Headers({ accept: 'application/json' });
    const response = await oauth.protectedResourceRequest(accessToken, 'GET', new URL(endpoint), headers, null, ctx.http('userinfo'));
    if (refusalMeansNone && NOT_PERMITTED.has(response.status)) {
      await response.body?.cancel();
      return undefined;
    }
    if (response.status !== 200) throw statusError(response.status, undefined, 'userinfo', 'the user API refused the request');
    return await response.json();
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new UpstreamError({ reason: 'invalid_response', operation: 'userinfo', detail: 'the user API did not answer JSON' });
    }
    throw toUpstreamError(error, 'userinfo');
  }
}

function subjectOf(user: Record<string, unknown>, field: string): string {
  const value = Object.hasOwn(user, field) ? user[field] : undefined;
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw new UpstreamError({ reason: 'subject_missing', operation: 'userinfo', detail: `the user API response has no usable "${field}"` });
}

function primaryVerifiedEmail(list: unknown): string | undefined {
  if (!Array.isArray(list)) return undefined;
  const entry = list.find(
    (e: unknown): e is { email: string } =>
      typeof e === 'object' && e !== null &&
      (e as { primary?: unknown }).primary === true &&
      (e as { verified?: unknown }).verified === true &&
      typeof (e as { email?: unknown }).email === 'string',
  );
  return entry?.email;
}

/** Claims of a user API answer without a preset mapping: OIDC names, or GitHub's `login`. */
function defaultClaims(user: Readonly<Record<string, unknown>>): Record<string, string | boolean> {
  const claims: Record<string, string | boolean> = {};
  const username = typeof user.preferred_username === 'string' && user.preferred_username.length > 0 ? user.preferred_username : user.login;
  if (typeof username === 'string' && username.length > 0) claims.preferred_username = username;
  if (typeof user.name === 'string' && user.name.length > 0) claims.name = user.name;
  if (typeof user.email === 'string' && user.email.length > 0) claims.email = user.email;
  return claims;
}

/** Subject and claims from the user API (see the module documentation). */
export async function userApiIdentity(
  ctx: UpstreamContext,
  accessToken: string,
  grantedScopes: readonly string[],
): Promise<UpstreamIdentity> {
  const user = await getJson(ctx, ctx.config.userinfoEndpoint!, accessToken);
  if (typeof user !== 'object' || user === null || Array.isArray(user)) {
    throw new UpstreamError({ reason: 'invalid_response', operation: 'userinfo', detail: 'the user API answered something other than an object' });
  }
  const record = user as Record<string, unknown>;
  const subject = subjectOf(record, ctx.config.subjectField);
  const claims: Record<string, string | boolean> = ctx.preset?.identity?.claims?.(record) ?? defaultClaims(record);
  const emails = ctx.config.emailsEndpoint;
  const permitted = ctx.preset?.emails === 'permitted';
  if (emails !== undefined && (permitted || grantedScopes.some((s) => EMAIL_SCOPES.includes(s)))) {
    const verified = primaryVerifiedEmail(await getJson(ctx, emails, accessToken, permitted));
    if (verified !== undefined) {
      claims.email = verified;
      claims.email_verified = true;
    }
  }
  return { subject, claims: Object.freeze(claims) };
}
