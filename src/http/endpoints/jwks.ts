/**
 * `GET /.well-known/jwks.json` (RFC 7517 §5): the access-token signing keys a resource
 * server needs — the next key before it signs, retired keys until their tokens expired.
 *
 * @module
 */
import type { HttpDeps } from '../ports.js';
import { jsonResponse } from '../responses.js';

/** Handles a JWKS request. */
export async function jwks(_request: Request, deps: HttpDeps): Promise<Response> {
  return jsonResponse(await deps.keys.jwks(), 200, { headers: { 'Cache-Control': 'public, max-age=60' } });
}
