/**
 * Validation of the upstream's authorization response, the callback's query (RFC 6749
 * §4.1.2), by oauth4webapi's `validateAuthResponse`:
 *
 * - `iss` (RFC 9207 §2.4): when present it must equal the issuer exactly, and it must be
 *   present when the metadata says the upstream sends it (the mix-up defence that fastmcp
 *   lacks, fastmcp-oauth-proxy.md §14 item 11);
 * - `state` must be the one flowgate sent (RFC 6749 §10.12);
 * - an `error` becomes an `authorization_error` carrying the upstream's code only.
 *
 * Failures are classified here into typed reasons (`issuer_mismatch`, `state_mismatch`);
 * the enforcement itself is oauth4webapi's.
 *
 * @module
 */
import * as oauth from 'oauth4webapi';
import { constantTimeEqual } from '../crypto/random.js';
import { toUpstreamError } from './classify.js';
import { UpstreamError } from './upstream-error.js';

/** The callback's query: a URL, or its parameters. */
export type CallbackInput =
  | { readonly callbackUrl: string | URL; readonly params?: undefined }
  | { readonly params: URLSearchParams | Readonly<Record<string, string>>; readonly callbackUrl?: undefined };

/** The callback's parameters, copied. */
export function callbackParams(input: CallbackInput): URLSearchParams {
  if (input.callbackUrl !== undefined) return new URLSearchParams(new URL(input.callbackUrl).searchParams);
  return new URLSearchParams(input.params as URLSearchParams | Record<string, string>);
}

function classify(error: unknown, as: oauth.AuthorizationServer, params: URLSearchParams, expectedState: string): UpstreamError {
  if (!(error instanceof oauth.OperationProcessingError)) return toUpstreamError(error, 'authorization');
  const iss = params.get('iss');
  if ((iss !== null && iss !== as.issuer) || (iss === null && as.authorization_response_iss_parameter_supported === true)) {
    return new UpstreamError({ reason: 'issuer_mismatch', operation: 'authorization', detail: 'the authorization response iss is not the issuer (RFC 9207)' });
  }
  const state = params.get('state');
  if (state === null || !constantTimeEqual(state, expectedState)) {
    return new UpstreamError({ reason: 'state_mismatch', operation: 'authorization', detail: 'the authorization response state is not the one sent' });
  }
  return toUpstreamError(error, 'authorization');
}

/**
 * The validated callback parameters, branded for oauth4webapi's code exchange. Throws an
 * {@link UpstreamError} (operation `authorization`).
 */
export function validateAuthorizationResponse(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  params: URLSearchParams,
  expectedState: string,
): URLSearchParams {
  if (expectedState.length === 0) throw new TypeError('exchangeCode: expectedState must not be empty');
  try {
    return oauth.validateAuthResponse(as, client, params, expectedState);
  } catch (error) {
    throw classify(error, as, params, expectedState);
  }
}
