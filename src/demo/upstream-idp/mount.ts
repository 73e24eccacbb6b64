/**
 * Serves oidc-provider under a path prefix (Okta's `/oauth2/<id>`, Keycloak's
 * `/realms/<realm>`, Entra's `/<tenant>`), and answers discovery at more paths.
 *
 * oidc-provider builds its URLs from `req.originalUrl` minus `req.url` (its mount path), so
 * stripping the prefix from `req.url` and keeping the full path in `req.originalUrl` is all
 * it needs; the issuer is configured separately and may lie elsewhere (Entra).
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Set on a request that arrived at a discovery alias: the `issuer` the document must state, if another. */
export const DISCOVERY_ISSUER = Symbol('upstream-idp.discoveryIssuer');

/** The request as the mount sees it. */
export type MountedRequest = IncomingMessage & { originalUrl?: string; [DISCOVERY_ISSUER]?: string | null };

/** What {@link mountedHandler} needs. */
export interface MountOptions {
  /** `''` or a path such as `/oauth2/default` (no trailing slash). */
  readonly mountPath: string;
  readonly discoveryAliases: readonly { readonly path: string; readonly issuer?: string }[];
}

/** Checks and normalises a path option: absolute, no trailing slash (`''` for the root). */
export function normalisePath(name: string, value: string | undefined): string {
  if (value === undefined || value === '' || value === '/') return '';
  if (!/^\/[A-Za-z0-9\-._~/{}]*$/.test(value)) throw new TypeError(`${name} must be an absolute path, got ${JSON.stringify(value)}`);
  return value.replace(/\/+$/, '');
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ error: 'not_found' }));
}

/** Wraps oidc-provider's request handler with the mount path and discovery aliases. */
export function mountedHandler(
  options: MountOptions,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { mountPath } = options;
  return (req: MountedRequest, res) => {
    let url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const query = queryAt === -1 ? '' : url.slice(queryAt);
    const alias = options.discoveryAliases.find((a) => a.path === path);
    if (alias) {
      url = `${mountPath}/.well-known/openid-configuration${query}`;
      req[DISCOVERY_ISSUER] = alias.issuer ?? null;
    }
    if (mountPath !== '') {
      const inside = url === mountPath || url.startsWith(`${mountPath}/`) || url.startsWith(`${mountPath}?`);
      if (!inside) return notFound(res);
      req.originalUrl = url;
      url = url.slice(mountPath.length);
      if (!url.startsWith('/')) url = `/${url}`;
    }
    req.url = url;
    handler(req, res);
  };
}
