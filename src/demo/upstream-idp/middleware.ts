/**
 * Types shared by the IdP's Koa middlewares (mounted with `provider.use`, before
 * oidc-provider's own router).
 *
 * @module
 */
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** The Koa context oidc-provider hands to `provider.use` middlewares. */
export type IdpContext = KoaContextWithOIDC;

/** Calls the rest of the middleware chain. */
export type IdpNext = () => Promise<unknown>;

/** A Koa middleware of the IdP. */
export type IdpMiddleware = (ctx: IdpContext, next: IdpNext) => Promise<void>;

/** An oidc-provider instance. */
export type ProviderInstance = Provider;

/** Sends a 303 See Other to `location`. */
export function seeOther(ctx: IdpContext, location: string): void {
  ctx.status = 303;
  ctx.redirect(location);
}

/** Sends JSON with `Cache-Control: no-store`. */
export function sendJson(ctx: IdpContext, status: number, body: unknown): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(body);
}
