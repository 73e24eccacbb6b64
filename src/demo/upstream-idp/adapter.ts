/**
 * A per-instance, unbounded Map adapter for oidc-provider. The built-in MemoryAdapter is an
 * LRU of ~1000 entries that evicts live grants in long suites; this one keeps everything
 * until it expires, and each IdP instance has its own store.
 *
 * @module
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  readonly payload: AdapterPayload;
  /** Epoch milliseconds, or Infinity. */
  readonly expiresAt: number;
}

/** Models whose entries belong to a grant (deleted by `revokeByGrantId`). */
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

/** Token models that {@link MapAdapterStore.dropTokens} deletes. */
const TOKENS = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken']);

/** The storage behind every model adapter of one IdP instance. */
export class MapAdapterStore {
  private readonly entries = new Map<string, Entry>();
  /** grantId -> keys of the grant's tokens. */
  private readonly grants = new Map<string, Set<string>>();
  /** Session uid -> session id. */
  private readonly sessionUids = new Map<string, string>();
  /** userCode -> key. */
  private readonly userCodes = new Map<string, string>();
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  /** The oidc-provider `adapter` factory bound to this store. */
  readonly factory = (model: string): Adapter => new MapAdapter(model, this);

  /** Number of live entries (for tests). */
  get size(): number {
    return this.entries.size;
  }

  /** Deletes every access token, refresh token and authorization code. */
  dropTokens(): void {
    for (const key of [...this.entries.keys()]) {
      if (TOKENS.has(key.slice(0, key.indexOf(':')))) this.delete(key);
    }
  }

  /** Stops the sweeper and forgets everything. */
  close(): void {
    clearInterval(this.sweeper);
    this.entries.clear();
    this.grants.clear();
    this.sessionUids.clear();
    this.userCodes.clear();
  }

  get(key: string): AdapterPayload | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  set(model: string, key: string, payload: AdapterPayload, expiresIn: number | undefined): void {
    this.delete(key);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    this.entries.set(key, { payload, expiresAt });
    if (GRANTABLE.has(model) && payload.grantId) {
      let members = this.grants.get(payload.grantId);
      if (!members) this.grants.set(payload.grantId, (members = new Set()));
      members.add(key);
    }
    if (model === 'Session' && payload.uid) this.sessionUids.set(payload.uid, key.slice(key.indexOf(':') + 1));
    if (payload.userCode) this.userCodes.set(payload.userCode, key);
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    const { grantId, uid, userCode } = entry.payload;
    if (grantId) {
      const members = this.grants.get(grantId);
      members?.delete(key);
      if (members?.size === 0) this.grants.delete(grantId);
    }
    if (uid && key.startsWith('Session:') && this.sessionUids.get(uid) === key.slice('Session:'.length)) {
      this.sessionUids.delete(uid);
    }
    if (userCode && this.userCodes.get(userCode) === key) this.userCodes.delete(userCode);
  }

  revokeGrant(grantId: string): void {
    for (const key of [...(this.grants.get(grantId) ?? [])]) this.delete(key);
    this.grants.delete(grantId);
  }

  sessionIdForUid(uid: string): string | undefined {
    return this.sessionUids.get(uid);
  }

  keyForUserCode(userCode: string): string | undefined {
    return this.userCodes.get(userCode);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of [...this.entries]) {
      if (entry.expiresAt <= now) this.delete(key);
    }
  }
}

/** One model's view of a {@link MapAdapterStore} (oidc-provider creates one per model). */
class MapAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly store: MapAdapterStore,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    this.store.set(this.model, this.key(id), payload, expiresIn);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.store.get(this.key(id));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = this.store.sessionIdForUid(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const key = this.store.keyForUserCode(userCode);
    return key === undefined ? undefined : this.store.get(key);
  }

  async consume(id: string): Promise<void> {
    const payload = this.store.get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.store.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    this.store.revokeGrant(grantId);
  }
}
