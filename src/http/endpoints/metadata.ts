/**
 * Discovery documents.
 *
 * - RFC 8414 authorization server metadata at `/.well-known/oauth-authorization-server`
 *   with the issuer's path inserted (§3.1), and the same document at
 *   `/.well-known/openid-configuration` (inserted and appended forms) for clients that only
 *   try OIDC discovery.
 * - RFC 9728 protected resource metadata at `/.well-known/oauth-protected-resource<path>`
 *   for each configured resource on flowgate's own origin (§3.1).
 *
 * Both are consistent with each other and with the URLs they are served under (issuer =
 * the URL minus the well-known part; PRM `resource` = the configured resource).
 *
 * @module
 */
import type { HttpDeps } from '../ports.js';
import { jsonResponse } from '../responses.js';
import { endpointsOf, type ServerSettings } from '../settings.js';

/** The authorization server metadata document (RFC 8414 §2). */
export function authorizationServerMetadata(settings: ServerSettings, features: { readonly cimd?: boolean } = {}): Record<string, unknown> {
  const endpoints = endpointsOf(settings);
  return {
    issuer: settings.issuer,
    authorization_endpoint: endpoints.authorization,
    token_endpoint: endpoints.token,
    ...(settings.registration.mode === 'off' ? {} : { registration_endpoint: endpoints.registration }),
    revocation_endpoint: endpoints.revocation,
    introspection_endpoint: endpoints.introspection,
    jwks_uri: endpoints.jwks,
    scopes_supported: settings.scopes.map((s) => s.name),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    // MCP 2025-11-25: an https URL may be used as client_id (client ID metadata documents).
    ...(features.cimd ? { client_id_metadata_document_supported: true } : {}),
  };
}

/** The path part of the issuer ('' for an origin-only issuer). */
export function issuerPath(settings: ServerSettings): string {
  const path = new URL(settings.issuer).pathname;
  return path === '/' ? '' : path.replace(/\/+$/, '');
}

/** The well-known paths the metadata is served at. */
export function metadataPaths(settings: ServerSettings): string[] {
  const suffix = issuerPath(settings);
  const paths = [`/.well-known/oauth-authorization-server${suffix}`, `/.well-known/openid-configuration${suffix}`];
  if (suffix) paths.push(`${suffix}/.well-known/openid-configuration`);
  return paths;
}

/** Handles a metadata request. */
export function metadata(_request: Request, deps: HttpDeps): Response {
  return jsonResponse(authorizationServerMetadata(deps.settings, { cimd: deps.cimd !== undefined }), 200, { headers: { 'Cache-Control': 'public, max-age=300' } });
}

/** The protected resource metadata of one resource (RFC 9728 §2). */
export function protectedResourceMetadata(settings: ServerSettings, resource: string): Record<string, unknown> {
  const entry = settings.resources.find((r) => r.uri === resource);
  return {
    resource,
    authorization_servers: [settings.issuer],
    scopes_supported: entry?.scopes ?? [],
    bearer_methods_supported: ['header'],
    resource_name: 'MCP server',
  };
}

/** The well-known path of a resource's metadata on its own origin (RFC 9728 §3.1). */
export function protectedResourcePath(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  return `/.well-known/oauth-protected-resource${path}`;
}

/** The resources whose metadata flowgate serves (those on its own origin). */
export function ownResources(settings: ServerSettings): string[] {
  const origin = new URL(settings.baseUrl).origin;
  return settings.resources.map((r) => r.uri).filter((uri) => new URL(uri).origin === origin);
}
