/**
 * Client registrations (RFC 7591; fastmcp's ProxyDCRClient): register a dynamic or
 * metadata-document client, keep a static client from configuration in step, record use
 * (throttled), refresh metadata, delete, and expire unused clients.
 *
 * @module
 */
import type {
  ClientKind,
  ClientMetadata,
  ClientRegistrationContext,
} from '../../../machines/client-registration.js';
import { canonicalJson, type JsonValue } from '../../events/canonical-json.js';
import { findClient } from '../../projections/clients.js';
import { StreamNotFoundError } from '../errors.js';
import type { CommandHandler } from './types.js';

/** The stream id of a client. */
export function clientStream(clientId: string): string {
  return `client:${clientId}`;
}

function metadataJson(metadata: ClientMetadata): Record<string, JsonValue> {
  return JSON.parse(JSON.stringify(metadata)) as Record<string, JsonValue>;
}

/** Register a new client. */
export interface RegisterClient {
  readonly type: 'RegisterClient';
  /** Omit to let flowgate choose a random, unguessable id (RFC 7591 §3.2.1). */
  readonly clientId?: string;
  readonly kind: Exclude<ClientKind, 'static'>;
  readonly metadata: ClientMetadata;
  readonly secretHash: string | null;
  readonly allowedPatterns: readonly string[];
}

/** The `RegisterClient` handler. */
export const registerClient: CommandHandler<RegisterClient, { readonly clientId: string; readonly registeredAt: number }> = {
  retryOnConflict: false,
  async decide(session, command, context) {
    const clientId = command.clientId ?? context.random.id();
    const stream = await session.load(clientStream(clientId));
    session.emit(stream.streamId, 'client.registered', {
      clientId,
      kind: command.kind,
      metadata: metadataJson(command.metadata),
      secretHash: command.secretHash,
      allowedPatterns: [...command.allowedPatterns],
      // Only registrations expire for want of use: a metadata-document client mirrors a document
      // its owner controls, the upstream fallback client is configuration; an expired one could
      // never come back (deleting it is the operator's way to block it).
      unusedTtlMs: command.kind === 'dynamic' ? context.settings.clientUnusedTtlMs : null,
    });
    return { clientId, registeredAt: session.now };
  },
};

/** Make the log agree with a static client from configuration. */
export interface SyncStaticClient {
  readonly type: 'SyncStaticClient';
  readonly clientId: string;
  readonly metadata: ClientMetadata;
  readonly secretHash: string | null;
}

/** The `SyncStaticClient` handler: registers it, or records changed metadata; otherwise nothing. */
export const syncStaticClient: CommandHandler<SyncStaticClient, { readonly changed: boolean }> = {
  retryOnConflict: true,
  async decide(session, command, context) {
    const stream = await session.load<ClientRegistrationContext>(clientStream(command.clientId));
    if (!stream.exists) {
      session.emit(stream.streamId, 'client.registered', {
        clientId: command.clientId,
        kind: 'static',
        metadata: metadataJson(command.metadata),
        secretHash: command.secretHash,
        allowedPatterns: [],
        unusedTtlMs: null,
      });
      return { changed: true };
    }
    const current = await findClient(context.db, command.clientId);
    const same =
      current !== undefined &&
      canonicalJson(current.metadata) === canonicalJson(metadataJson(command.metadata)) &&
      current.secretHash === command.secretHash;
    if (same || stream.state !== 'active') return { changed: false };
    session.emit(stream.streamId, 'client.metadata_refreshed', {
      metadata: metadataJson(command.metadata),
      secretHash: command.secretHash,
    });
    return { changed: true };
  },
};

/** Record that a client was used (at most once per `clientTouchIntervalMs`). */
export interface TouchClient {
  readonly type: 'TouchClient';
  readonly clientId: string;
}

/** The `TouchClient` handler. */
export const touchClient: CommandHandler<TouchClient, void> = {
  retryOnConflict: false,
  async decide(session, command, context) {
    const stream = await session.load<ClientRegistrationContext>(clientStream(command.clientId));
    if (stream.state !== 'active') return;
    if (session.now - stream.context.lastUsedAt < context.settings.clientTouchIntervalMs) return;
    session.emit(stream.streamId, 'client.used', {});
  },
};

/** Replace a metadata-document client's metadata after a fetch. */
export interface RefreshClientMetadata {
  readonly type: 'RefreshClientMetadata';
  readonly clientId: string;
  readonly metadata: ClientMetadata;
}

/** The `RefreshClientMetadata` handler. */
export const refreshClientMetadata: CommandHandler<RefreshClientMetadata, void> = {
  retryOnConflict: true,
  async decide(session, command) {
    const stream = await session.load(clientStream(command.clientId));
    if (!stream.exists) throw new StreamNotFoundError(stream.streamId);
    session.emit(stream.streamId, 'client.metadata_refreshed', { metadata: metadataJson(command.metadata), secretHash: null });
  },
};

/** Delete a client (operator). */
export interface DeleteClient {
  readonly type: 'DeleteClient';
  readonly clientId: string;
}

/** The `DeleteClient` handler. */
export const deleteClient: CommandHandler<DeleteClient, { readonly deleted: boolean }> = {
  retryOnConflict: true,
  async decide(session, command) {
    const stream = await session.load(clientStream(command.clientId));
    if (stream.state !== 'active') return { deleted: false };
    session.emit(stream.streamId, 'client.deleted', { by: 'operator' });
    return { deleted: true };
  },
};

/** Expire a client that went unused too long (sweeper). */
export interface ExpireClient {
  readonly type: 'ExpireClient';
  readonly clientId: string;
}

/** The `ExpireClient` handler: expires it when its machine agrees, otherwise does nothing. */
export const expireClient: CommandHandler<ExpireClient, { readonly expired: boolean }> = {
  retryOnConflict: true,
  async decide(session, command) {
    const stream = await session.load(clientStream(command.clientId));
    if (!stream.exists || !session.accepts(stream.streamId, 'client.expired', {})) return { expired: false };
    session.emit(stream.streamId, 'client.expired', {});
    return { expired: true };
  },
};
