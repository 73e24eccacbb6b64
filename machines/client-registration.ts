/**
 * A client registration (fastmcp's ProxyDCRClient): a static client from configuration, a
 * dynamically registered one (RFC 7591) or a client ID metadata document (CIMD). It can be
 * refreshed (CIMD), marked used (throttled), expire when unused, or be deleted.
 *
 * @module
 */
import { assign, setup } from 'xstate';

/** Machine id, recorded with every event. */
export const CLIENT_REGISTRATION = 'client-registration';
/** Version of this definition. */
export const CLIENT_REGISTRATION_VERSION = '1';

/**
 * How a client came to exist: `static` (configuration), `dynamic` (RFC 7591 registration),
 * `metadata_document` (an https URL as client id, CIMD), `upstream_fallback` (the upstream
 * app's own client id, accepted with `clients.upstreamClientIdFallback`).
 */
export type ClientKind = 'static' | 'dynamic' | 'metadata_document' | 'upstream_fallback';

/** The RFC 7591 §2 metadata flowgate keeps (self-asserted for dynamic clients). */
export interface ClientMetadata {
  readonly redirect_uris: readonly string[];
  readonly token_endpoint_auth_method: 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  readonly grant_types: readonly string[];
  readonly response_types: readonly string[];
  readonly scope?: string;
  readonly client_name?: string;
  readonly client_uri?: string;
  readonly logo_uri?: string;
  readonly tos_uri?: string;
  readonly policy_uri?: string;
  readonly software_id?: string;
  readonly software_version?: string;
  readonly application_type?: 'native' | 'web';
  readonly jwks_uri?: string;
}

/** A client was registered. */
export interface ClientRegistered {
  readonly type: 'client.registered';
  readonly at: number;
  readonly clientId: string;
  readonly kind: ClientKind;
  readonly metadata: ClientMetadata;
  /** SHA-256 of the client secret for confidential clients; the secret itself is shown once. */
  readonly secretHash: string | null;
  /** The operator's redirect patterns in force at registration. */
  readonly allowedPatterns: readonly string[];
  /** Expire after this long without use; null = never. */
  readonly unusedTtlMs: number | null;
}

/** A client's metadata was fetched again (CIMD) or changed by configuration (static). */
export interface ClientMetadataRefreshed {
  readonly type: 'client.metadata_refreshed';
  readonly at: number;
  readonly metadata: ClientMetadata;
  readonly secretHash: string | null;
}

/** The client was used (recorded at most once per throttle period). */
export interface ClientUsed {
  readonly type: 'client.used';
  readonly at: number;
}

/** The client went unused for too long. */
export interface ClientExpired {
  readonly type: 'client.expired';
  readonly at: number;
}

/** An operator (or the client, RFC 7592) deleted the client. */
export interface ClientDeleted {
  readonly type: 'client.deleted';
  readonly at: number;
  readonly by: 'operator' | 'configuration';
}

/** Every event of a client registration. */
export type ClientRegistrationEvent =
  | ClientRegistered
  | ClientMetadataRefreshed
  | ClientUsed
  | ClientExpired
  | ClientDeleted;

/** What the machine remembers about a client. */
export interface ClientRegistrationContext {
  readonly clientId: string;
  readonly kind: ClientKind;
  readonly registeredAt: number;
  readonly lastUsedAt: number;
  readonly unusedTtlMs: number | null;
}

const EMPTY: ClientRegistrationContext = {
  clientId: '',
  kind: 'dynamic',
  registeredAt: 0,
  lastUsedAt: 0,
  unusedTtlMs: null,
};

type Ctx = { context: ClientRegistrationContext; event: ClientRegistrationEvent };

/** The client-registration machine, version 1. */
export const clientRegistrationMachine = setup({
  types: {
    context: {} as ClientRegistrationContext,
    events: {} as ClientRegistrationEvent,
  },
  guards: {
    laterUse: ({ context, event }: Ctx) => event.at > context.lastUsedAt,
    unusedTooLong: ({ context, event }: Ctx) =>
      context.unusedTtlMs !== null && event.at >= context.lastUsedAt + context.unusedTtlMs,
  },
  actions: {
    register: assign(({ event }) =>
      event.type === 'client.registered'
        ? {
            clientId: event.clientId,
            kind: event.kind,
            registeredAt: event.at,
            lastUsedAt: event.at,
            unusedTtlMs: event.unusedTtlMs,
          }
        : {},
    ),
    use: assign(({ event }) => ({ lastUsedAt: event.at })),
  },
}).createMachine({
  id: CLIENT_REGISTRATION,
  version: CLIENT_REGISTRATION_VERSION,
  context: EMPTY,
  initial: 'new',
  states: {
    new: {
      on: { 'client.registered': { target: 'active', actions: 'register' } },
    },
    active: {
      on: {
        'client.metadata_refreshed': { actions: 'use' },
        'client.used': { guard: 'laterUse', actions: 'use' },
        'client.expired': { target: 'expired', guard: 'unusedTooLong' },
        'client.deleted': { target: 'deleted' },
      },
    },
    expired: { type: 'final' },
    deleted: { type: 'final' },
  },
});
