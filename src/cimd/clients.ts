/**
 * Metadata-document clients as the endpoints see them: a `client_id` that is an https URL
 * is fetched (SSRF-safely, `fetcher.ts`), validated (`document.ts`) and kept in the log —
 * `RegisterClient` with `kind: 'metadata_document'` and the URL as its id the first time,
 * `RefreshClientMetadata` when a later fetch finds a different document. Validated
 * documents are reused from a bounded cache until their lifetime runs out; concurrent
 * requests for one URL share one fetch. A failed fetch or an invalid document refuses the
 * client (the stored copy is not used instead), and nothing about the failure is cached.
 *
 * @module
 */
import type { ClientMetadata } from '../../machines/client-registration.js';
import type { Engine } from '../engine/engine.js';
import { canonicalJson } from '../events/canonical-json.js';
import { findClient, type ClientRecord } from '../projections/clients.js';
import type { Kysely } from 'kysely';
import { BoundedTtlCache } from './cache.js';
import { hostAllowed, parseMetadataDocumentId } from './client-id.js';
import { validateMetadataDocument, type DocumentPolicy } from './document.js';
import type { CimdFetcher, FetchStage } from './fetcher.js';

/** Most documents kept in the per-process cache. */
export const DEFAULT_CACHE_ENTRIES = 1000;

/** Why a metadata-document client was refused. */
export type CimdProblem =
  /** Not a metadata-document URL (or not allowed by `cimd.allowedHosts`). */
  | 'invalid_id'
  /** The document could not be fetched (network, SSRF refusal, status, size, time, type). */
  | 'fetch_failed'
  /** The document was fetched but is not acceptable. */
  | 'invalid_document'
  /** The client is in the log but expired or deleted. */
  | 'inactive';

/** The outcome of {@link CimdClients.resolve}. */
export type CimdResolution =
  | { readonly ok: true; readonly client: ClientRecord }
  | { readonly ok: false; readonly problem: CimdProblem; readonly reason: string; readonly stage?: FetchStage };

/** What {@link CimdClients} needs. */
export interface CimdClientsOptions {
  readonly engine: Engine;
  readonly db: Kysely<any>;
  readonly fetcher: CimdFetcher;
  readonly policy: DocumentPolicy;
  readonly allowedHosts?: readonly string[];
  readonly clock: () => number;
  readonly maxCacheEntries?: number;
  /** Called with every refusal (for logs); never shown to the client as such. */
  readonly onRefusal?: (clientId: string, refusal: Extract<CimdResolution, { ok: false }>) => void;
}

/** The metadata-document clients of one flowgate instance. */
export class CimdClients {
  readonly #cache: BoundedTtlCache<ClientMetadata>;
  readonly #inFlight = new Map<string, Promise<CimdResolution>>();

  constructor(private readonly options: CimdClientsOptions) {
    this.#cache = new BoundedTtlCache(options.maxCacheEntries ?? DEFAULT_CACHE_ENTRIES, options.clock);
  }

  /** How many documents are cached (for tests). */
  get cachedDocuments(): number {
    return this.#cache.size;
  }

  /** Whether `clientId` is a metadata-document URL this instance would fetch. */
  handles(clientId: string): boolean {
    const parsed = parseMetadataDocumentId(clientId);
    return parsed.ok && hostAllowed(parsed.url.hostname, this.options.allowedHosts);
  }

  /** The active client for a metadata-document `clientId`, fetching its document when needed. */
  async resolve(clientId: string): Promise<CimdResolution> {
    const running = this.#inFlight.get(clientId);
    if (running) return running;
    const work = this.#resolve(clientId).finally(() => this.#inFlight.delete(clientId));
    this.#inFlight.set(clientId, work);
    const outcome = await work;
    if (!outcome.ok) this.options.onRefusal?.(clientId, outcome);
    return outcome;
  }

  async #resolve(clientId: string): Promise<CimdResolution> {
    const parsed = parseMetadataDocumentId(clientId);
    if (!parsed.ok) return { ok: false, problem: 'invalid_id', reason: parsed.reason };
    if (!hostAllowed(parsed.url.hostname, this.options.allowedHosts)) {
      return { ok: false, problem: 'invalid_id', reason: 'the host is not in cimd.allowedHosts' };
    }
    const existing = await findClient(this.options.db, clientId);
    if (existing && existing.status !== 'active') {
      return { ok: false, problem: 'inactive', reason: `the client's registration is ${existing.status}` };
    }
    if (existing && existing.kind !== 'metadata_document') {
      return { ok: false, problem: 'invalid_id', reason: 'the client id belongs to a client of another kind' };
    }
    let metadata = this.#cache.get(clientId);
    if (metadata !== undefined && existing) return { ok: true, client: existing };
    if (metadata === undefined) {
      const fetched = await this.options.fetcher.fetch(parsed.url);
      if (!fetched.ok) return { ok: false, problem: 'fetch_failed', reason: fetched.reason, stage: fetched.stage };
      const checked = validateMetadataDocument(fetched.json, clientId, this.options.policy);
      if (!checked.ok) return { ok: false, problem: 'invalid_document', reason: checked.reason };
      metadata = checked.metadata;
      this.#cache.set(clientId, metadata, fetched.cacheSeconds * 1000);
    }
    if (!existing) {
      try {
        await this.options.engine.execute({
          type: 'RegisterClient',
          clientId,
          kind: 'metadata_document',
          metadata,
          secretHash: null,
          allowedPatterns: this.options.policy.redirectPatterns,
        });
      } catch (error) {
        // Another request (or instance) registered it first: use that registration.
        const raced = await findClient(this.options.db, clientId);
        if (!raced) throw error;
        return this.#refreshed(raced, metadata);
      }
    } else {
      return this.#refreshed(existing, metadata);
    }
    const registered = await findClient(this.options.db, clientId);
    if (!registered || registered.status !== 'active') {
      return { ok: false, problem: 'inactive', reason: 'the client could not be registered' };
    }
    return { ok: true, client: registered };
  }

  /** Records a changed document (`RefreshClientMetadata`), or nothing when it is the same. */
  async #refreshed(client: ClientRecord, metadata: ClientMetadata): Promise<CimdResolution> {
    if (client.status !== 'active') return { ok: false, problem: 'inactive', reason: `the client's registration is ${client.status}` };
    if (canonicalJson(client.metadata) === canonicalJson(JSON.parse(JSON.stringify(metadata)))) return { ok: true, client };
    await this.options.engine.execute({ type: 'RefreshClientMetadata', clientId: client.clientId, metadata });
    const updated = await findClient(this.options.db, client.clientId);
    if (!updated || updated.status !== 'active') return { ok: false, problem: 'inactive', reason: 'the client is no longer active' };
    return { ok: true, client: updated };
  }
}
