/**
 * What every upstream operation needs, assembled once by {@link UpstreamClient}: the
 * configuration, the (lazily resolved) metadata, oauth4webapi's client and client
 * authentication, HTTP options and the clock.
 *
 * @module
 * @internal
 */
import * as oauth from 'oauth4webapi';
import type { UpstreamConfig } from '../config/schema.js';
import { privateKeyJwt } from './client-assertion.js';
import type { IssuerRule, UpstreamPreset } from './providers/index.js';
import type { UpstreamOperation } from './upstream-error.js';

/** The context of one upstream operation. */
export interface UpstreamContext {
  readonly config: UpstreamConfig;
  /** The configured preset's hooks, if any. */
  readonly preset: UpstreamPreset | undefined;
  /** The preset's issuer rule for this configuration, when the issuer is not one fixed string. */
  readonly issuerRule: IssuerRule | undefined;
  /** oauth4webapi's JWKS cache, shared by every metadata object of this client. */
  readonly jwksCache: oauth.JWKSCacheInput;
  /** The scopes requested upstream (configured, or the kind's default), as configured (before translation). */
  readonly scopes: readonly string[];
  /** Epoch milliseconds. */
  readonly clock: () => number;
  /** The metadata (discovered once, then cached). */
  metadata(): Promise<oauth.AuthorizationServer>;
  /** oauth4webapi HTTP options for an operation: `customFetch` and `allowInsecureRequests`. */
  http(operation: UpstreamOperation): oauth.HttpRequestOptions<string, any>;
  /** oauth4webapi's client metadata, with its clock aligned to {@link clock}. */
  client(): oauth.Client;
  /** The configured client authentication (RFC 6749 §2.3.1). */
  clientAuth(): oauth.ClientAuth;
}

/**
 * oauth4webapi reads `Date.now()`; `clockSkew` (seconds) shifts it, which is how an
 * injected clock reaches its JWT `exp`/`iat`/`nbf` checks.
 */
export function clockSkewSeconds(clock: () => number): number {
  const skew = Math.round((clock() - Date.now()) / 1000);
  return Number.isFinite(skew) ? skew : 0;
}

/** `application/x-www-form-urlencoded` encoding of one value (WHATWG URL §5.2). */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/**
 * RFC 6749 §2.3.1 HTTP Basic: id and secret form-encoded, then base64. oauth4webapi's
 * `ClientSecretBasic` also percent-encodes `-`, `.`, `_` (HTML 4.01's "every
 * non-alphanumeric"), which upstreams that do not decode the credentials (many) refuse for
 * ids like `1234-abc.apps.googleusercontent.com`. The WHATWG encoding leaves `*-._` and
 * alphanumerics alone, so typical ids and secrets go as they are, and decoding servers
 * still read the same value.
 */
function clientSecretBasic(clientSecret: string): oauth.ClientAuth {
  return (_as, client, _body, headers) => {
    const credentials = `${formEncode(client.client_id)}:${formEncode(clientSecret)}`;
    headers.set('authorization', `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`);
  };
}

/** RFC 6749 §2.3.1 client authentication as configured. */
export function clientAuthentication(config: UpstreamConfig): oauth.ClientAuth {
  switch (config.clientAuthMethod) {
    case 'client_secret_basic':
      return clientSecretBasic(config.clientSecret!);
    case 'client_secret_post':
      return oauth.ClientSecretPost(config.clientSecret!);
    case 'none':
      return oauth.None();
    case 'private_key_jwt':
      return privateKeyJwt(config.clientAssertion!);
  }
}
