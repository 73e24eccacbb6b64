/**
 * The upstream's authorization server metadata: discovered for `oidc` (OpenID Connect
 * Discovery 1.0 §4, falling back to RFC 8414 §3), built from the configured endpoints for
 * `oauth2` (GitHub has no metadata document). Configured endpoints override discovered
 * ones.
 *
 * Pinning (security-invariants.md item 19, RFC 8414 §3.3): the discovered `issuer` must be
 * *identical* to the configured one. oauth4webapi compares the two after URL normalisation
 * (`https://idp` equals `https://idp/`), so the exact string comparison is made here too.
 * A preset's issuer rule replaces that comparison where the provider documents another
 * one (Entra's `common` states the template `…/{tenantid}/v2.0`); the document is still
 * fetched from the configured issuer. Every endpoint in use must be https, or http on a
 * loopback host.
 *
 * @module
 */
import * as oauth from 'oauth4webapi';
import type { UpstreamConfig } from '../config/schema.js';
import { toUpstreamError } from './classify.js';
import { allLoopback, isLoopbackHost, upstreamUrlProblem } from './loopback.js';
import type { IssuerRule } from './providers/index.js';
import { UpstreamError } from './upstream-error.js';

/** HTTP options for oauth4webapi calls, given whether plain http may be used. */
export type HttpOptionsFor = (allowInsecure: boolean) => oauth.HttpRequestOptions<'GET'>;

/** Metadata ready for use, and whether oauth4webapi may talk plain http (all loopback). */
export interface ResolvedMetadata {
  readonly as: oauth.AuthorizationServer;
  readonly allowInsecure: boolean;
}

/** The metadata members flowgate uses, in the order they are checked. */
const ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint', 'revocation_endpoint'] as const;

/**
 * The issuer of an `oauth2` upstream: the configured one, or the origin of its
 * authorization endpoint (what an RFC 9207 `iss` would be for GitHub-like hosts).
 */
export function oauth2Issuer(config: UpstreamConfig): string {
  return config.issuer ?? new URL(config.authorizationEndpoint!).origin;
}

function overrides(config: UpstreamConfig): Partial<Record<(typeof ENDPOINTS)[number], string>> {
  return {
    ...(config.authorizationEndpoint === undefined ? {} : { authorization_endpoint: config.authorizationEndpoint }),
    ...(config.tokenEndpoint === undefined ? {} : { token_endpoint: config.tokenEndpoint }),
    ...(config.jwksUri === undefined ? {} : { jwks_uri: config.jwksUri }),
    ...(config.userinfoEndpoint === undefined ? {} : { userinfo_endpoint: config.userinfoEndpoint }),
    ...(config.revocationEndpoint === undefined ? {} : { revocation_endpoint: config.revocationEndpoint }),
  };
}

/** A 4xx other than 408/429: "no document here", so the RFC 8414 location is tried. */
function isAbsent(response: Response): boolean {
  return response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
}

/** The `issuer` a discovery response states, if it is a string (read before validation). */
async function statedIssuer(response: Response): Promise<string | undefined> {
  const body = (await response.clone().json().catch(() => null)) as { issuer?: unknown } | null;
  return typeof body?.issuer === 'string' && URL.canParse(body.issuer) ? body.issuer : undefined;
}

async function discover(issuer: string, http: oauth.HttpRequestOptions<'GET'>, rule: IssuerRule | undefined): Promise<oauth.AuthorizationServer> {
  const configured = new URL(issuer);
  let response = await oauth.discoveryRequest(configured, { ...http, algorithm: 'oidc' });
  if (isAbsent(response)) {
    await response.body?.cancel();
    response = await oauth.discoveryRequest(configured, { ...http, algorithm: 'oauth2' });
  }
  let expected = configured;
  let expectedString = issuer;
  if (rule !== undefined && response.status === 200) {
    // The rule decides which issuer is right; oauth4webapi then checks the document as usual.
    const stated = await statedIssuer(response);
    if (stated === undefined || !rule.acceptsDiscovered(stated)) {
      throw new UpstreamError({ reason: 'issuer_mismatch', operation: 'discovery', detail: 'the discovered issuer is not the one this provider documents' });
    }
    expected = new URL(stated);
    expectedString = stated;
  }
  let as: oauth.AuthorizationServer;
  try {
    as = await oauth.processDiscoveryResponse(expected, response);
  } catch (error) {
    if (error instanceof oauth.OperationProcessingError && error.code === oauth.JSON_ATTRIBUTE_COMPARISON) {
      throw new UpstreamError({ reason: 'issuer_mismatch', operation: 'discovery', detail: 'the discovered issuer is not the configured one' });
    }
    throw toUpstreamError(error, 'discovery');
  }
  // RFC 8414 §3.3 / OIDC Discovery §4.3: identical, not merely equivalent after normalisation.
  if (as.issuer !== expectedString) {
    throw new UpstreamError({ reason: 'issuer_mismatch', operation: 'discovery', detail: 'the discovered issuer is not identical to the configured one' });
  }
  return as;
}

function checkEndpoints(as: oauth.AuthorizationServer, kind: UpstreamConfig['kind']): string[] {
  const required = kind === 'oidc' ? ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] : ['authorization_endpoint', 'token_endpoint'];
  const urls: string[] = [];
  for (const name of ENDPOINTS) {
    const value = as[name];
    if (value === undefined) {
      if (required.includes(name)) {
        throw new UpstreamError({ reason: 'misconfigured', operation: 'discovery', detail: `the upstream metadata has no ${name}` });
      }
      continue;
    }
    const problem = typeof value === 'string' ? upstreamUrlProblem(value) : 'must be a URL';
    if (problem !== undefined) {
      throw new UpstreamError({ reason: 'misconfigured', operation: 'discovery', detail: `${name} ${problem}` });
    }
    urls.push(value);
  }
  return urls;
}

/**
 * Resolves the metadata of an upstream (see the module documentation). Throws an
 * {@link UpstreamError} (operation `discovery`): `issuer_mismatch`, `misconfigured`, or a
 * transient failure of the discovery request.
 */
export async function resolveMetadata(config: UpstreamConfig, httpFor: HttpOptionsFor, rule?: IssuerRule): Promise<ResolvedMetadata> {
  let base: oauth.AuthorizationServer;
  if (config.kind === 'oidc') {
    const issuer = config.issuer!;
    const problem = upstreamUrlProblem(issuer);
    if (problem !== undefined) throw new UpstreamError({ reason: 'misconfigured', operation: 'discovery', detail: `issuer ${problem}` });
    try {
      base = await discover(issuer, httpFor(isLoopbackHost(new URL(issuer).hostname)), rule);
    } catch (error) {
      throw toUpstreamError(error, 'discovery');
    }
  } else {
    // No discovery; no claim that the upstream sends RFC 9207 `iss` (GitHub does not).
    base = { issuer: oauth2Issuer(config), authorization_response_iss_parameter_supported: false };
  }
  const as: oauth.AuthorizationServer = { ...base, ...overrides(config) };
  const urls = checkEndpoints(as, config.kind);
  return { as, allowInsecure: allLoopback([as.issuer, ...urls]) };
}
