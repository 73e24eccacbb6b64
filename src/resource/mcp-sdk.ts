/**
 * The MCP TypeScript SDK adapter (`flowgate/mcp-sdk`): flowgate's access-token check as the
 * SDK's `OAuthTokenVerifier`, for `requireBearerAuth` from
 * `@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js`, and the mapping of a
 * {@link VerifiedAccess} to the SDK's `AuthInfo` (what tools see as `extra.authInfo`).
 *
 * This is the only module of flowgate that imports the SDK. `@modelcontextprotocol/sdk` is
 * an optional peer: install it in the MCP server that embeds flowgate (tested with 1.32).
 *
 * Failure mapping, which is what keeps MCP clients self-healing: a token flowgate refuses
 * (bad signature, wrong audience, expired, revoked, unknown `jti`, dead grant — any
 * flowgate `OAuthError` from `verify`) becomes the SDK's `InvalidTokenError`, so
 * `requireBearerAuth` answers `401` with `WWW-Authenticate: Bearer error="invalid_token"`
 * and the client refreshes or re-authorizes. A flowgate `insufficient_scope` becomes the
 * SDK's `InsufficientScopeError` (403). Anything else (the store is down, a bug) is
 * rethrown unchanged and answered `500`: telling a client to log in again would not help.
 *
 * @module
 */
import { InsufficientScopeError, InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { OAuthError } from '../oauth/errors.js';
import type { VerifiedAccess, VerifyOptions } from './verify-access-token.js';

/** A token check: flowgate's `verifyAccessToken` (`createFlowgate(…).verifyAccessToken`). */
export type VerifyAccessToken = (token: string, options: VerifyOptions) => Promise<VerifiedAccess>;

/** Options of {@link mcpTokenVerifier}. */
export interface McpTokenVerifierOptions {
  /**
   * The resource this MCP server is (its URL as configured in flowgate's
   * `server.resources`); tokens for any other resource are refused. Default: flowgate's
   * default resource (the first configured, or `<issuer>/mcp`).
   */
  readonly resource?: string;
}

/** What flowgate puts into `AuthInfo.extra`. */
export interface FlowgateAuthExtra {
  /** The user: the upstream subject (the token's `sub`). */
  readonly subject: string;
  /** The token family; `flowgate.upstreamTokens.accessToken(grantId)` gives the upstream access token. */
  readonly grantId: string;
  [key: string]: unknown;
}

/**
 * The SDK's `AuthInfo` for a token flowgate verified: `token`, `clientId`, `scopes`,
 * `expiresAt` (seconds since the epoch), `resource` (the token's audience, as a URL) and
 * `extra: { subject, grantId }`. Useful on its own when flowgate's `bearerGuard` does the
 * checking and an SDK transport needs the caller, e.g.
 * `transport.handleRequest(request, { authInfo: toAuthInfo(token, verdict.auth) })`.
 */
export function toAuthInfo(token: string, access: VerifiedAccess): AuthInfo & { extra: FlowgateAuthExtra } {
  return {
    token,
    clientId: access.clientId,
    scopes: [...access.scopes],
    expiresAt: access.expiresAt,
    resource: new URL(access.resource),
    extra: { subject: access.subject, grantId: access.grantId },
  };
}

/**
 * flowgate's token check as the MCP SDK's `OAuthTokenVerifier`.
 *
 * `verifyAccessToken(token)` resolves to the SDK's `AuthInfo` (see {@link toAuthInfo}) or
 * throws the SDK's `InvalidTokenError` for every token flowgate refuses, so
 * `requireBearerAuth` answers `401 invalid_token` (never `500`) and the client refreshes or
 * re-authorizes; see the module comment for the full mapping.
 *
 * @param verify flowgate's `verifyAccessToken` (or anything with its contract).
 * @param options `resource`: the resource this server is; default flowgate's default resource.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
 * import { createFlowgate } from 'flowgate';
 * import { mcpTokenVerifier } from 'flowgate/mcp-sdk';
 *
 * const flowgate = await createFlowgate(config); // server.issuer = 'https://mcp.example.com'
 * const resource = 'https://mcp.example.com/mcp';
 * const app = express();
 * app.post(
 *   '/mcp',
 *   requireBearerAuth({
 *     verifier: mcpTokenVerifier(flowgate.verifyAccessToken, { resource }),
 *     resourceMetadataUrl: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
 *     expectedResource: new URL(resource),
 *   }),
 *   (req, res) => transport.handleRequest(req, res, req.body), // tools see req.auth as extra.authInfo
 * );
 * ```
 */
export function mcpTokenVerifier(verify: VerifyAccessToken, options: McpTokenVerifierOptions = {}): OAuthTokenVerifier {
  const verifyOptions: VerifyOptions = options.resource === undefined ? {} : { resource: options.resource };
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      let access: VerifiedAccess;
      try {
        access = await verify(token, verifyOptions);
      } catch (error) {
        if (error instanceof OAuthError) {
          if (error.code === 'insufficient_scope') throw new InsufficientScopeError(error.description);
          throw new InvalidTokenError(error.code === 'invalid_token' ? error.description : 'the access token could not be verified');
        }
        throw error;
      }
      return toAuthInfo(token, access);
    },
  };
}
