/**
 * The caller as MCP servers expect it on `req.auth` (the MCP SDK's `AuthInfo` shape, which
 * `StreamableHTTPServerTransport` hands to tools as `extra.authInfo`), without importing the
 * SDK.
 *
 * @module
 */
import type { VerifiedAccess } from './verify-access-token.js';

/** The MCP SDK's `AuthInfo`, plus flowgate's extras. */
export interface FlowgateAuthInfo {
  readonly token: string;
  readonly clientId: string;
  readonly scopes: string[];
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  readonly resource: URL;
  readonly extra: { readonly subject: string; readonly grantId: string; readonly access: VerifiedAccess };
}

/** `AuthInfo` for a verified token. */
export function authInfoOf(token: string, access: VerifiedAccess): FlowgateAuthInfo {
  return {
    token,
    clientId: access.clientId,
    scopes: [...access.scopes],
    expiresAt: access.expiresAt,
    resource: new URL(access.resource),
    extra: { subject: access.subject, grantId: access.grantId, access },
  };
}

/** The bearer token of an `Authorization` header value. */
export function bearerOf(header: string | null | undefined): string {
  return /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';
}
