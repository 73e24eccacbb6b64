/**
 * The identity of a plain OAuth 2 (GitHub-like) sign-in, which has no ID token: the user
 * API (`upstream.userinfoEndpoint`, GitHub `GET /user`) called with the new access token
 * (RFC 6750 §2.1 `Authorization: Bearer`, which GitHub accepts besides `token`).
 *
 * - subject: `upstream.subjectField` of the response (default `id`), stringified; a
 *   missing or non-scalar value is a definitive `subject_missing`;
 * - claims: `login` as `preferred_username`, `name`, `email` (unverified);
 * - with `upstream.emailsEndpoint` and a granted scope that allows it (`user:email` or
 *   `user`), the primary *verified* address replaces `email`, with `email_verified: true`.
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

async function getJson(ctx: UpstreamContext, endpoint: string, accessToken: string): Promise<unknown> {
  try {
    const headers = new Headers({ accept: 'application/json' });
    const response = await oauth.protectedResourceRequest(accessToken, 'GET', new URL(endpoint), headers, null, ctx.http('userinfo'));
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
  const claims: Record<string, string | boolean> = {};
  if (typeof record.login === 'string' && record.login.length > 0) claims.preferred_username = record.login;
  if (typeof record.name === 'string' && record.name.length > 0) claims.name = record.name;
  if (typeof record.email === 'string' && record.email.length > 0) claims.email = record.email;
  const emails = ctx.config.emailsEndpoint;
  if (emails !== undefined && grantedScopes.some((s) => EMAIL_SCOPES.includes(s))) {
    const verified = primaryVerifiedEmail(await getJson(ctx, emails, accessToken));
    if (verified !== undefined) {
      claims.email = verified;
      claims.email_verified = true;
    }
  }
  return { subject, claims: Object.freeze(claims) };
}
