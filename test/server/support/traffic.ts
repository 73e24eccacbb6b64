/**
 * Concurrent client traffic against a running flowgate, recorded request by request, for
 * the shutdown-under-load test: every `fetch` to flowgate's origin (the headless browser's
 * included) is timed and its outcome kept — a status, or the network error — and each
 * worker keeps what its successful requests handed out (client ids, codes, refresh
 * tokens), so the test can look for exactly those effects in the log afterwards.
 */
import type { TestClient, TestProxy } from '../../support/proxy.js';
import { authorizationRequest, authorizeInBrowser, exchangeCode, HeadlessBrowser, registerClient } from '../../support/proxy.js';
import { postForm, refresh } from '../../support/tokens.js';

/** One request to flowgate. */
export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  /** `performance.now()` when `fetch` was called. */
  readonly started: number;
  ended?: number;
  status?: number;
  /** The network error (`cause.code` when there is one, e.g. ECONNREFUSED). */
  error?: string;
}

/** Records every `fetch` to one origin while installed (this test file's process only). */
export class TrafficRecorder {
  readonly records: RequestRecord[] = [];
  #original: typeof fetch | undefined;

  constructor(private readonly origin: string) {}

  /** Wraps `globalThis.fetch`. */
  install(): void {
    if (this.#original) return;
    const original = globalThis.fetch;
    this.#original = original;
    globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : input);
      if (url.origin !== this.origin) return original(input, init);
      const record: RequestRecord = { method: init?.method ?? (input instanceof Request ? input.method : 'GET'), path: url.pathname, started: performance.now() };
      this.records.push(record);
      try {
        const response = await original(input, init);
        record.status = response.status;
        return response;
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        record.error = cause?.code ?? cause?.message ?? String(error);
        throw error;
      } finally {
        record.ended = performance.now();
      }
    }) as typeof fetch;
  }

  /** Puts the original `fetch` back. */
  uninstall(): void {
    if (this.#original) globalThis.fetch = this.#original;
    this.#original = undefined;
  }

  /** Requests started and not yet answered (or failed) at `at`, now by default. */
  inFlight(at = performance.now()): RequestRecord[] {
    return this.records.filter((r) => r.started <= at && (r.ended === undefined || r.ended > at));
  }
}

/** Stops the workers' loops. */
export interface Stop {
  now: boolean;
}

/** What the registration workers did. */
export interface Registration {
  /** The unique `client_name` sent. */
  readonly name: string;
  /** `created` (201), `status` (another status), or `failed` (no response). */
  outcome: 'created' | 'status' | 'failed';
  clientId?: string;
  status?: number;
}

/**
 * A request body sent in two halves `pauseMs` apart: the server has the request (headers
 * read, handler running) while the client is still uploading it.
 */
function slowBody(text: string, pauseMs: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const half = Math.floor(bytes.length / 2);
  return new ReadableStream({
    async start(controller) {
      controller.enqueue(bytes.slice(0, half));
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      controller.enqueue(bytes.slice(half));
      controller.close();
    },
  });
}

/**
 * Registers clients one after another until a request fails or `stop`; with `slowBodyMs`,
 * each request body takes that long to upload.
 */
export async function registrationWorker(proxy: TestProxy, worker: string, stop: Stop, out: Registration[], slowBodyMs = 0): Promise<void> {
  for (let i = 0; !stop.now; i++) {
    const entry: Registration = { name: `load-${worker}-${i}`, outcome: 'failed' };
    out.push(entry);
    const text = JSON.stringify({ client_name: entry.name, redirect_uris: ['http://127.0.0.1:53682/callback'], token_endpoint_auth_method: 'none' });
    try {
      const response = await fetch(`${proxy.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: slowBodyMs > 0 ? slowBody(text, slowBodyMs) : text,
        duplex: 'half',
      } as RequestInit);
      const body = (await response.json()) as { client_id?: string };
      entry.status = response.status;
      if (response.status === 201 && body.client_id) {
        entry.outcome = 'created';
        entry.clientId = body.client_id;
      } else entry.outcome = 'status';
    } catch {
      return;
    }
  }
}

/**
 * One grant, as far as its client got: registration, a browser through consent and the
 * upstream login, the code exchange, then refresh after refresh.
 */
export interface GrantRun {
  client?: TestClient;
  /** The code the browser was redirected with. */
  code?: string;
  /** The exchange: `ok` (200), `status` (another status), `failed` (no response). */
  exchange?: 'ok' | 'status' | 'failed';
  /** Refresh tokens the client received: `[0]` from the exchange, then one per rotation. */
  readonly tokens: string[];
  /** Statuses of refreshes answered with something other than 200. */
  readonly refused: number[];
  /** A refresh got no response. */
  refreshFailed: boolean;
}

/** Runs one full authorization, then refreshes its grant until a request fails or `stop`. */
export async function grantWorker(proxy: TestProxy, stop: Stop, out: GrantRun[], user: string): Promise<void> {
  const run: GrantRun = { tokens: [], refused: [], refreshFailed: false };
  out.push(run);
  let client: TestClient;
  let verifier: string;
  try {
    client = await registerClient(proxy);
    run.client = client;
    const request = authorizationRequest(proxy, client);
    verifier = request.verifier;
    const result = await authorizeInBrowser(new HeadlessBrowser(), client, request, { user });
    const code = result.stoppedAt?.searchParams.get('code');
    if (!code) return;
    run.code = code;
  } catch {
    return;
  }
  try {
    const exchanged = await exchangeCode(proxy, client, run.code, verifier);
    run.exchange = exchanged.status === 200 ? 'ok' : 'status';
    if (exchanged.status !== 200) return;
    run.tokens.push(exchanged.body.refresh_token as string);
  } catch {
    run.exchange = 'failed';
    return;
  }
  while (!stop.now) {
    try {
      const result = await refresh(proxy, client, run.tokens[run.tokens.length - 1]!);
      if (result.status !== 200 || typeof result.body.refresh_token !== 'string') {
        run.refused.push(result.status);
        return;
      }
      run.tokens.push(result.body.refresh_token);
    } catch {
      run.refreshFailed = true;
      return;
    }
  }
}

/** A revocation of a grant's refresh token. */
export interface Revocation {
  readonly client: TestClient;
  readonly refreshToken: string;
  outcome?: 'ok' | 'status' | 'failed';
  status?: number;
}

/** Revokes a refresh token (RFC 7009). */
export async function revokeOne(proxy: TestProxy, revocation: Revocation): Promise<void> {
  try {
    const result = await postForm(proxy, '/revoke', { token: revocation.refreshToken, token_type_hint: 'refresh_token', client_id: revocation.client.clientId });
    revocation.status = result.status;
    revocation.outcome = result.status === 200 ? 'ok' : 'status';
  } catch {
    revocation.outcome = 'failed';
  }
}
