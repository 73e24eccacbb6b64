/**
 * The two network operations a metadata-document fetch needs, as injectable functions:
 * name resolution and one HTTPS request to an address that was already validated.
 *
 * The defaults use `node:dns` and `node:https`. {@link systemConnect} opens the TCP
 * connection to the validated IP address itself (so a second DNS answer can never be
 * used: no rebinding between the check and the connection), sends the hostname as TLS SNI
 * and as the `Host` header, verifies the certificate against the hostname, never reuses a
 * pooled connection, and refuses to look any name up.
 *
 * @module
 */
import { lookup } from 'node:dns/promises';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** One address a name resolved to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address it has. */
export type Resolve = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** Where and what {@link Connect} fetches. */
export interface ConnectTarget {
  /** The validated IP address to connect to; never a name. */
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
  /** TLS server name (SNI) and the name the certificate must carry; `undefined` for an IP-literal URL. */
  readonly servername: string | undefined;
  /** The `Host` header: the URL's host (with a non-default port). */
  readonly host: string;
  /** Path and query of the URL. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Aborted when the fetch's time is up. */
  readonly signal: AbortSignal;
}

/** A response whose body has not been read yet. */
export interface ConnectResponse {
  readonly status: number;
  /** Header values by lowercase name. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: AsyncIterable<Uint8Array>;
  /** Stops reading and closes the connection. */
  destroy(): void;
}

/** Sends one GET to `target.address` (never following redirects). */
export type Connect = (target: ConnectTarget) => Promise<ConnectResponse>;

/** The system resolver (`getaddrinfo`, so `/etc/hosts` counts), every address. */
export const systemResolve: Resolve = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

function headerRecord(message: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Options of {@link createSystemConnect}. */
export interface SystemConnectOptions {
  /** Extra trusted CA certificates (tests on loopback); default: Node's bundled roots. */
  readonly ca?: string | readonly string[];
}

/** Builds the default connector (see the module description). */
export function createSystemConnect(options: SystemConnectOptions = {}): Connect {
  return (target) =>
    new Promise<ConnectResponse>((resolve, reject) => {
      if (isIP(target.address) === 0) {
        reject(new Error('refusing to connect to something that is not an IP address'));
        return;
      }
      const req = httpsRequest({
        host: target.address,
        family: target.family,
        port: target.port,
        path: target.path,
        method: 'GET',
        servername: target.servername ?? '',
        headers: { ...target.headers, host: target.host },
        agent: false,
        signal: target.signal,
        minVersion: 'TLSv1.2',
        ...(options.ca ? { ca: options.ca as string | string[] } : {}),
        // The address is an IP literal, so Node never resolves; should it ever try, refuse.
        lookup: ((_hostname: string, _opts: unknown, callback: (error: Error | null, address: string, family: number) => void) =>
          callback(new Error('name resolution is not allowed here'), '', 0)) as never,
      });
      req.once('error', reject);
      req.once('response', (res) => {
        resolve({
          status: res.statusCode ?? 0,
          headers: headerRecord(res),
          body: res,
          destroy: () => {
            res.destroy();
            req.destroy();
          },
        });
      });
      req.end();
    });
}

/** The default connector, trusting Node's bundled CA roots. */
export const systemConnect: Connect = createSystemConnect();
