/**
 * Reading OAuth parameters from a request: the query of a GET, the urlencoded body of a
 * POST. Duplicated parameters are an error (OAuth 2.1 §4.1.2.1, RFC 6749 §3.1: "parameters
 * … MUST NOT be included more than once"), and sizes are bounded.
 *
 * @module
 */
import { InvalidRequest } from '../oauth/errors.js';

/** Parameters of one request, each at most once. */
export type Params = ReadonlyMap<string, string>;

const MAX_FORM_BYTES = 64 * 1024;
const MAX_VALUE_LENGTH = 4096;

/** Turns URLSearchParams into single-valued parameters; a repeated one is `invalid_request`. */
export function singleValued(search: URLSearchParams): Params {
  const params = new Map<string, string>();
  for (const [key, value] of search) {
    if (params.has(key)) throw new InvalidRequest(`the ${key} parameter appears more than once`, { allowRedirect: false });
    if (value.length > MAX_VALUE_LENGTH) throw new InvalidRequest(`the ${key} parameter is too long`, { allowRedirect: false });
    params.set(key, value);
  }
  return params;
}

/** The body of a urlencoded POST (bounded). */
export async function formBody(request: Request): Promise<URLSearchParams> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new InvalidRequest('the request body must be application/x-www-form-urlencoded');
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_FORM_BYTES) throw new InvalidRequest('the request body is too large');
  const text = await request.text();
  if (text.length > MAX_FORM_BYTES) throw new InvalidRequest('the request body is too large');
  return new URLSearchParams(text);
}

/** The query of a GET or the form body of a POST. */
export async function requestParams(request: Request): Promise<Params> {
  if (request.method === 'POST') return singleValued(await formBody(request));
  return singleValued(new URL(request.url).searchParams);
}

/** A parameter, or undefined when absent or empty. */
export function optional(params: Params, name: string): string | undefined {
  const value = params.get(name);
  return value === undefined || value === '' ? undefined : value;
}

/** A required parameter; `invalid_request` naming it when missing. */
export function required(params: Params, name: string, options: { allowRedirect?: false } = {}): string {
  const value = optional(params, name);
  if (value === undefined) throw new InvalidRequest(`the ${name} parameter is missing`, options);
  return value;
}
