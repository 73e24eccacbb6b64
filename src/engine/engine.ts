/**
 * The engine: `execute(command)` as in docs/architecture.md. A command handler loads the
 * streams it needs, folds them through their machines with xstate's pure transition, emits
 * events the machines accept (anything else is refused with a typed error naming the state
 * and the event), and the engine appends them with expected versions — every stream of the
 * command in one transaction, projections included. On a `ConcurrencyError` the command is
 * decided again from fresh state when that is safe (its handler says so).
 *
 * @module
 */
import { newCommandId } from '../events/ids.js';
import { findOverdueFlows } from '../projections/transactions.js';
import { findExpiredCodes } from '../projections/client-codes.js';
import { findOverdueGrants } from '../projections/grants.js';
import { findUnusedClients } from '../projections/clients.js';
import { ConcurrencyError } from '../store/errors.js';
import type { EventStore } from '../store/event-store.js';
import type { StoredEvent } from '../store/types.js';
import { cryptoRandom, type AccessTokenSigner, type EngineContext, type Random } from './context.js';
import { HANDLERS, type Command, type CommandResult } from './commands/index.js';
import { CommitThenThrow } from './commands/types.js';
import { Session } from './session.js';
import { StreamCache } from './stream-cache.js';
import type { EngineSettings } from './settings.js';
import type { Vault } from '../crypto/vault.js';

const MAX_ATTEMPTS = 8;

/** What an engine is built from. */
export interface EngineOptions {
  readonly store: EventStore;
  readonly vault: Vault;
  readonly settings: EngineSettings;
  readonly signer: AccessTokenSigner;
  readonly upstreamIssuer: string;
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly clock?: () => number;
  readonly random?: Random;
  /** Called after every committed append (metrics, logs); must not throw. */
  readonly onCommitted?: (events: readonly StoredEvent[]) => void;
  /**
   * The correlation id of the work in progress (`flowgate serve` gives its request id), put
   * in the metadata of every event a command writes unless the execution names its own; so
   * an auditor can find every event one HTTP request caused. Default: the command id.
   */
  readonly correlationIdOf?: () => string | undefined;
}

/** Options of one execution. */
export interface ExecuteOptions {
  /** Ties the command's events to an incoming request (logged in metadata). */
  readonly correlationId?: string;
}

/** What a sweep expired. */
export interface SweepReport {
  readonly flows: number;
  readonly grants: number;
  readonly clients: number;
}

/** The auth-flow engine. */
export class Engine {
  readonly #context: EngineContext;
  readonly #clock: () => number;
  readonly #streams = new StreamCache();

  constructor(readonly options: EngineOptions) {
    this.#clock = options.clock ?? Date.now;
    this.#context = {
      store: options.store,
      db: options.store.db,
      vault: options.vault,
      settings: options.settings,
      random: options.random ?? cryptoRandom,
      signer: options.signer,
      upstreamIssuer: options.upstreamIssuer,
    };
  }

  /** The store the engine writes to. */
  get store(): EventStore {
    return this.options.store;
  }

  /** The engine's clock (milliseconds). */
  now(): number {
    return this.#clock();
  }

  /** Executes one command; see the module comment. */
  async execute<C extends Command>(command: C, options: ExecuteOptions = {}): Promise<CommandResult<C>> {
    const handler = HANDLERS[command.type] as unknown as {
      retryOnConflict: boolean;
      decide(session: Session, command: C, context: EngineContext): Promise<CommandResult<C>>;
    };
    const commandId = newCommandId();
    const correlationId = options.correlationId ?? this.options.correlationIdOf?.() ?? commandId;
    for (let attempt = 1; ; attempt++) {
      const session = new Session(this.options.store, commandId, this.#clock(), correlationId, this.#streams);
      let result: CommandResult<C> | undefined;
      let deferred: Error | undefined;
      try {
        result = await handler.decide(session, command, this.#context);
      } catch (error) {
        if (!(error instanceof CommitThenThrow)) {
          session.discard();
          // A refusal decided on stale state (another command committed meanwhile) is a conflict.
          if (handler.retryOnConflict && attempt < MAX_ATTEMPTS && (await session.isStale())) continue;
          throw error;
        }
        deferred = error.error;
      }
      const appends = session.appends;
      if (appends.length > 0) {
        try {
          const appended = await this.options.store.appendMany(appends, { alongside: session.alongside });
          session.committed(appended);
          if (!appended.alreadyAppended && this.options.onCommitted) {
            try {
              this.options.onCommitted(appended.streams.flatMap((s) => s.events));
            } catch {
              // observers never break a committed command
            }
          }
        } catch (error) {
          session.discard();
          if (error instanceof ConcurrencyError && handler.retryOnConflict && attempt < MAX_ATTEMPTS) continue;
          throw error;
        }
      }
      if (deferred) throw deferred;
      return result as CommandResult<C>;
    }
  }

  /**
   * Expires overdue flows (and unredeemed codes), grants past their deadlines, and dynamic
   * clients unused too long. Each expiry is its own command, checked by the stream's machine.
   */
  async sweep(options: { readonly limit?: number } = {}): Promise<SweepReport> {
    const limit = options.limit ?? 1000;
    const now = this.#clock();
    const db = this.options.store.db;
    let flows = 0;
    let grants = 0;
    let clients = 0;
    const flowIds = new Set([...(await findOverdueFlows(db, now, limit)), ...(await findExpiredCodes(db, now, limit))]);
    for (const flowId of flowIds) {
      if ((await this.#quietly(() => this.execute({ type: 'ExpireFlow', flowId })))?.expired) flows++;
    }
    for (const { grantId } of await findOverdueGrants(db, now, limit)) {
      if ((await this.#quietly(() => this.execute({ type: 'ExpireGrant', grantId })))?.expired) grants++;
    }
    for (const clientId of await findUnusedClients(db, now, limit)) {
      if ((await this.#quietly(() => this.execute({ type: 'ExpireClient', clientId })))?.expired) clients++;
    }
    return { flows, grants, clients };
  }

  /** A sweep step that lost a race to a user's command is simply skipped. */
  async #quietly<R>(step: () => Promise<R>): Promise<R | undefined> {
    try {
      return await step();
    } catch (error) {
      if (error instanceof ConcurrencyError) return undefined;
      throw error;
    }
  }
}
