/**
 * Provider quirks the IdP can put on, so that flowgate's presets are tested against the
 * behaviour of the provider they are for:
 *
 * - discovery: off (GitHub has none), a different `issuer` at an alias (Entra's `common`
 *   states `…/{tenantid}/v2.0`), no claim of RFC 9207 `iss` support;
 * - authorization requests: recorded (to prove what reached the IdP), and a default scope
 *   when none is named (GitHub Apps take no scope);
 * - token responses: form-encoded, members removed or set, comma-separated scope (GitHub).
 *
 * @module
 */
import { DISCOVERY_ISSUER, type MountedRequest } from './mount.js';
import type { IdpMiddleware } from './middleware.js';
import type { UpstreamIdpStats, UpstreamIdpTokenResponse } from './types.js';

const DISCOVERY_PATHS = new Set(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']);

/** Discovery: served or not, with the alias's issuer, with or without RFC 9207 support. */
export function discoveryQuirks(options: { readonly enabled: boolean; readonly authorizationResponseIss: boolean }): IdpMiddleware {
  return async (ctx, next) => {
    if (!DISCOVERY_PATHS.has(ctx.path)) return void (await next());
    if (!options.enabled) {
      ctx.status = 404;
      ctx.type = 'application/json';
      ctx.body = JSON.stringify({ message: 'Not Found' });
      return;
    }
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.status !== 200 || typeof body !== 'object' || body === null) return;
    const issuer = (ctx.req as MountedRequest)[DISCOVERY_ISSUER];
    if (typeof issuer === 'string') body.issuer = issuer;
    if (!options.authorizationResponseIss) delete body.authorization_response_iss_parameter_supported;
  };
}

/** New authorization requests: recorded in `stats`, and given `defaultScope` when they name none. */
export function authorizationQuirks(options: {
  readonly path: string;
  readonly stats: UpstreamIdpStats;
  readonly defaultScope: string | undefined;
}): IdpMiddleware {
  return async (ctx, next) => {
    if (ctx.path !== options.path || (ctx.method !== 'GET' && ctx.method !== 'POST')) return void (await next());
    if (ctx.method === 'GET') {
      const query = new URLSearchParams(ctx.querystring);
      options.stats.authorizationRequests.push(Object.freeze(Object.fromEntries(query)));
      if (options.defaultScope !== undefined && !query.get('scope')) {
        query.set('scope', options.defaultScope);
        const req = ctx.req as MountedRequest;
        // Keep the mount path derivable (oidc-provider takes it from originalUrl minus url).
        const mount = req.originalUrl === undefined ? undefined : req.originalUrl.slice(0, req.originalUrl.indexOf(ctx.url));
        ctx.querystring = query.toString();
        if (mount !== undefined) req.originalUrl = mount + ctx.url;
      }
    }
    await next();
  };
}

/** Successful token responses rewritten as `options` says (see {@link UpstreamIdpTokenResponse}). */
export function tokenResponseQuirks(path: string, options: UpstreamIdpTokenResponse): IdpMiddleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== path) return void (await next());
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.status !== 200 || typeof body !== 'object' || body === null || typeof body.access_token !== 'string') return;
    const out: Record<string, unknown> = { ...body };
    for (const name of options.omit ?? []) delete out[name];
    Object.assign(out, options.set);
    if (options.scopeSeparator === ',' && typeof out.scope === 'string') out.scope = out.scope.split(' ').filter(Boolean).join(',');
    if (options.format === 'form') {
      ctx.type = 'application/x-www-form-urlencoded; charset=utf-8';
      ctx.body = new URLSearchParams(Object.entries(out).map(([k, v]): [string, string] => [k, String(v)])).toString();
    } else {
      ctx.body = out;
    }
  };
}
