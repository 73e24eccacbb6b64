/**
 * Loads oidc-provider lazily. It is a devDependency of flowgate: nothing in the core
 * imports it, and a production install (`npm install --omit=dev`) does not have it.
 *
 * @module
 */
import type * as OidcProviderModule from 'oidc-provider';

/** The oidc-provider module namespace. */
export type OidcProviderModuleType = typeof OidcProviderModule;

let loading: Promise<OidcProviderModuleType> | undefined;

/**
 * Imports oidc-provider once per process, or throws an error that says how to install it.
 * Importing prints oidc-provider's Node 20 warning; call it with the quiet filter held.
 */
export async function loadOidcProvider(): Promise<OidcProviderModuleType> {
  loading ??= import('oidc-provider').catch((cause: unknown) => {
    loading = undefined;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new Error(
      'The demo upstream IdP needs the "oidc-provider" package, a devDependency of flowgate that is not installed ' +
        `(${reason}). Install the dev dependencies with \`npm install --include=dev\`, ` +
        'or add it with `npm install oidc-provider`.',
      { cause },
    );
  });
  return loading;
}
