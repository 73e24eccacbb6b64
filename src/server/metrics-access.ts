/**
 * Who may read `/metrics`. By default anyone who reaches it (bind it privately); with
 * `serve.metrics.bearerToken` set, only a request carrying that token as a bearer
 * credential (RFC 6750 §2.1), which is what Prometheus sends for
 * `authorization: { credentials: … }`.
 *
 * @module
 */
import { constantTimeEqual } from '../crypto/random.js';

const REALM = 'realm="flowgate metrics"';

function unauthorized(challenge: string, description: string): Response {
  return new Response(JSON.stringify({ error: 'invalid_token', error_description: description }), {
    status: 401,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'WWW-Authenticate': challenge },
  });
}

/**
 * A 401 answer (RFC 6750 §3) when `token` is configured and the request does not carry it,
 * or undefined when the request may read the metrics.
 */
export function checkMetricsAuthorization(request: Request, token: string | undefined): Response | undefined {
  if (token === undefined) return undefined;
  const header = request.headers.get('authorization');
  if (header === null) return unauthorized(`Bearer ${REALM}`, 'the metrics endpoint needs a bearer token');
  const match = /^Bearer +(\S+)\s*$/i.exec(header);
  if (match && constantTimeEqual(match[1]!, token)) return undefined;
  return unauthorized(`Bearer ${REALM}, error="invalid_token"`, 'the bearer token is not the metrics token');
}
