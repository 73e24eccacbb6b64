/**
 * The public view of a request: the client's address (for per-IP limits) and the URL it
 * was sent to. `X-Forwarded-*` is believed only when `trustProxy` is set.
 *
 * @module
 */

/**
 * The client's IP address. Behind a trusted proxy it is the right-most `X-Forwarded-For`
 * entry: the one the proxy itself appended (RFC 7239 §5.2 semantics for the de-facto
 * header). Entries to its left were sent by the client and prove nothing, so a client
 * cannot pick its own rate-limit bucket by sending the header. Without `trustProxy`, or
 * without the header, the socket's address.
 */
export function clientAddress(request: Request, trustProxy: boolean, socketAddress: string | undefined): string {
  if (trustProxy) {
    const hops = request.headers.get('x-forwarded-for')?.split(',') ?? [];
    const nearest = hops.at(-1)?.trim();
    if (nearest) return nearest;
  }
  return socketAddress ?? 'unknown';
}
