/**
 * Which paths belong to flowgate — for mounting it next to an application's own routes
 * (an MCP server, a website) in one HTTP server.
 *
 * @module
 */
import { metadataPaths, ownResources, protectedResourcePath } from './endpoints/metadata.js';
import type { ServerSettings } from './settings.js';

/** Whether `url` is one of flowgate's endpoints under these settings. */
export function ownsPath(settings: ServerSettings, url: URL): boolean {
  const path = url.pathname;
  if (metadataPaths(settings).includes(path)) return true;
  if (ownResources(settings).some((r) => protectedResourcePath(r) === path)) return true;
  const base = new URL(settings.baseUrl).pathname.replace(/\/+$/, '');
  if (base && !path.startsWith(`${base}/`)) return false;
  const rest = path.slice(base.length);
  return ['/authorize', '/token', '/register', '/revoke', '/introspect', '/consent', '/.well-known/jwks.json', settings.callbackPath].includes(rest);
}
