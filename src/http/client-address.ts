/**
 * The public view of a request: the client's address (for per-IP limits) and the URL it
 * was sent to. `X-Forwarded-*` is believed only when `trustProxy` is set.
 *
 * @module
 */

/** The client's IP address: the first `X-Forwarded-For` hop behind a trusted proxy, else the socket's. */
export function clientAddress(request: Request, trustProxy: boolean, socketAddress: string | undefined): string {
  if (trustProxy) {
    const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  return socketAddress ?? 'unknown';
}
