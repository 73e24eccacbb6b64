/**
 * What a provider preset is: data (defaults for the `upstream` section, computed from a
 * few preset options such as `tenant` or `domain`) plus small hooks for what data cannot
 * say: scope translation, identity extraction, issuer rules.
 *
 * @module
 */
import type { UpstreamConfig, UpstreamSection } from '../../config/schema.js';

/** The presets, by the name `upstream.preset` takes. */
export type UpstreamPresetName = 'github' | 'github-app' | 'google' | 'entra' | 'auth0' | 'okta' | 'keycloak' | 'oidc' | 'oauth2';

/** Options of the `upstream` section that only some presets read. */
export type PresetOption =
  | 'domain'
  | 'authorizationServerId'
  | 'baseUrl'
  | 'realm'
  | 'tenant'
  | 'allowedTenants'
  | 'audience'
  | 'scopePrefix';

/** Every {@link PresetOption}, in the order they are documented. */
export const PRESET_OPTIONS: readonly PresetOption[] = Object.freeze([
  'domain',
  'authorizationServerId',
  'baseUrl',
  'realm',
  'tenant',
  'allowedTenants',
  'audience',
  'scopePrefix',
]);

/**
 * What a preset fills in when the section leaves it out. Explicit values always win;
 * extra parameters are merged key by key (explicit keys win), and the reserved-parameter
 * rule applies to the merged result, so a preset can never set a core parameter either.
 */
export interface PresetDefaults {
  readonly displayName?: string;
  readonly issuer?: string;
  readonly authorizationEndpoint?: string;
  readonly tokenEndpoint?: string;
  readonly userinfoEndpoint?: string;
  readonly emailsEndpoint?: string;
  readonly revocationEndpoint?: string;
  readonly subjectField?: string;
  readonly clientAuthMethod?: UpstreamConfig['clientAuthMethod'];
  readonly scopes?: readonly string[];
  readonly extraAuthorizeParams?: Readonly<Record<string, string>>;
  readonly extraTokenParams?: Readonly<Record<string, string>>;
  /** `aud` of `private_key_jwt` assertions (RFC 7523 §3). */
  readonly assertionAudience?: 'token_endpoint' | 'issuer';
}

/** A configuration problem found by a preset (path relative to the `upstream` section). */
export interface PresetProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Scope names as configured (flowgate's side) and as the upstream knows them, e.g. Entra's
 * `api://<app>/access_as_user` for `access_as_user`.
 */
export interface ScopeTranslation {
  /** Configured names → what is sent in the authorization request. */
  toUpstream(scopes: readonly string[], config: UpstreamConfig): string[];
  /** A token response's `scope` → configured names. */
  fromUpstream(scopes: readonly string[], config: UpstreamConfig): string[];
}

/**
 * How an upstream's issuer is checked when it is not one fixed string (Entra's `common`:
 * `https://login.microsoftonline.com/{tenantid}/v2.0`, with the signed-in user's tenant).
 */
export interface IssuerRule {
  /** Whether a discovered `issuer` is the right one (instead of identical to the configured issuer). */
  acceptsDiscovered(issuer: string): boolean;
  /**
   * The exact issuer a response must carry, given what it claims: an ID token's (not yet
   * verified) claims, or `{ iss }` of an RFC 9207 authorization response. The caller then
   * checks `iss` against it as usual, and the signature, and checks again once the claims
   * are verified. `refused` (a private reason) for a response that cannot be accepted at
   * all, such as a tenant outside the allow-list.
   */
  expected(claims: Readonly<Record<string, unknown>>, discovered: string): { readonly issuer: string } | { readonly refused: string };
}

/** Subject and claims from an ID token's claims or a user API response. */
export interface IdentityHook {
  /** Claims to add to (or replace in) the standard ones (OIDC Core §5.1 names). */
  claims?(source: Readonly<Record<string, unknown>>): Record<string, string | boolean>;
}

/** A provider preset (see the module documentation). One file each in this folder. */
export interface UpstreamPreset {
  readonly name: UpstreamPresetName;
  readonly kind: 'oidc' | 'oauth2';
  /** The provider's name on the consent page; absent: the issuer's host. */
  readonly displayName?: string;
  /** The preset options it reads; any other one is refused. */
  readonly options: readonly PresetOption[];
  /** The preset options it cannot do without. */
  readonly requiredOptions?: readonly PresetOption[];
  /** Defaults computed from the section (never throws; {@link check} reports bad options). */
  defaults(section: UpstreamSection): PresetDefaults;
  /** Problems with the preset's options, or with explicit values it cannot work with. */
  check?(section: UpstreamSection): PresetProblem[];
  readonly scopes?: ScopeTranslation;
  /** An issuer rule for this configuration, when exact equality is not the rule. */
  issuerRule?(config: UpstreamConfig): IssuerRule | undefined;
  readonly identity?: IdentityHook;
  /**
   * `oauth2` only: when the e-mail API is called. `scoped` (default): when a granted scope
   * allows it (GitHub OAuth apps: `user:email`, `user`). `permitted`: always, and a 403 or
   * 404 means "no permission" rather than a failure (GitHub Apps have permissions, not scopes).
   */
  readonly emails?: 'scoped' | 'permitted';
  /**
   * `oidc` only: complete missing claims from the UserInfo endpoint (default true). Entra's
   * UserInfo lives at Microsoft Graph and refuses access tokens issued for another API.
   */
  readonly userinfo?: boolean;
}
