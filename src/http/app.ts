/**
 * The authorization server as one web-standard app (hono): the route table below is the
 * whole protocol surface. Handlers are plain `(Request, deps) → Response` functions, one file
 * per endpoint; this file only composes them, adds CORS where browsers call from other
 * origins (metadata, token, registration — never `/authorize`), and turns anything
 * unexpected into a generic error that reveals nothing.
 *
 * @module
 */
import { Hono, type Context } from 'hono';
import { oauthErrorResponse, ServerError } from '../oauth/errors.js';
import { upstreamCallback } from './endpoints/callback.js';
import { decideConsent, showConsent } from './endpoints/consent.js';
import { authorize } from './endpoints/authorize.js';
import { jwks } from './endpoints/jwks.js';
import { metadata, metadataPaths, ownResources, protectedResourceMetadata, protectedResourcePath } from './endpoints/metadata.js';
import { register } from './endpoints/register.js';
import { introspect } from './endpoints/introspect.js';
import { revoke } from './endpoints/revoke.js';
import { token, tokenMethodNotAllowed } from './endpoints/token.js';
import { errorPage } from './html/error-page.js';
import type { HttpDeps } from './ports.js';
import { corsPreflight, htmlResponse, jsonResponse, withCors } from './responses.js';

type Env = { Bindings: { incoming?: { socket?: { remoteAddress?: string } } } };

function socketAddress(c: Context<Env>): string | undefined {
  return c.env?.incoming?.socket?.remoteAddress;
}

/** The path prefix of the base URL ('' when the endpoints sit at the root). */
function basePath(baseUrl: string): string {
  const path = new URL(baseUrl).pathname.replace(/\/+$/, '');
  return path === '/' ? '' : path;
}

/** Routes whose errors are shown as HTML pages (browser navigations). */
const BROWSER_ROUTES = new Set(['/authorize', '/consent']);

/** Builds the app. */
export function createApp(deps: HttpDeps): Hono<Env> {
  const { settings } = deps;
  const app = new Hono<Env>();
  const base = basePath(settings.baseUrl);
  const cors = (handler: (c: Context<Env>) => Response | Promise<Response>) => async (c: Context<Env>) => withCors(await handler(c));

  for (const path of metadataPaths(settings)) {
    app.get(path, cors((c) => metadata(c.req.raw, deps)));
    app.options(path, () => corsPreflight('GET'));
  }
  for (const resource of ownResources(settings)) {
    const path = protectedResourcePath(resource);
    app.get(path, cors(() => jsonResponse(protectedResourceMetadata(settings, resource), 200, { headers: { 'Cache-Control': 'public, max-age=300' } })));
    app.options(path, () => corsPreflight('GET'));
  }
  app.get(`${base}/.well-known/jwks.json`, cors((c) => jwks(c.req.raw, deps)));
  app.options(`${base}/.well-known/jwks.json`, () => corsPreflight('GET'));

  app.get(`${base}/authorize`, (c) => authorize(c.req.raw, deps));
  app.post(`${base}/authorize`, (c) => authorize(c.req.raw, deps));
  app.get(`${base}/consent`, (c) => showConsent(c.req.raw, deps));
  app.post(`${base}/consent`, (c) => decideConsent(c.req.raw, deps));
  app.get(`${base}${settings.callbackPath}`, (c) => upstreamCallback(c.req.raw, deps));

  app.post(`${base}/token`, cors((c) => token(c.req.raw, deps)));
  app.options(`${base}/token`, () => corsPreflight('POST'));
  app.on(['GET', 'PUT', 'DELETE', 'PATCH'], `${base}/token`, cors(() => tokenMethodNotAllowed()));

  app.post(`${base}/revoke`, cors((c) => revoke(c.req.raw, deps)));
  app.options(`${base}/revoke`, () => corsPreflight('POST'));
  app.post(`${base}/introspect`, (c) => introspect(c.req.raw, deps));

  if (settings.registration.mode !== 'off') {
    app.post(`${base}/register`, cors((c) => register(c.req.raw, deps, socketAddress(c))));
    app.options(`${base}/register`, () => corsPreflight('POST'));
  }

  app.notFound(() => jsonResponse({ error: 'not_found', error_description: 'no such endpoint' }, 404));
  app.onError((error, c) => {
    deps.log.error({ err: { name: error.name, message: error.message, stack: error.stack }, path: c.req.path }, 'request failed');
    const route = c.req.path.slice(base.length);
    if (BROWSER_ROUTES.has(route) || route === settings.callbackPath) {
      return htmlResponse(errorPage('Something went wrong', 'The server could not complete this request. Try again from your application.', 'server_error'), 500);
    }
    return withCors(oauthErrorResponse(new ServerError()));
  });
  return app;
}
