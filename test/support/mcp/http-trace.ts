/**
 * A `fetch` for the MCP SDK client that records every request it makes (method, path,
 * status and a short, secret-free note), to print the conversation when a test fails.
 */
import { redactUrl, truncate } from './headless-provider.js';

/** One request of the SDK client. */
export interface HttpTraceEntry {
  readonly method: string;
  /** Path and query, secrets truncated. */
  readonly path: string;
  readonly status: number;
  /** The phase the test was in (see {@link HttpTrace.phase}). */
  readonly phase: string;
  /** Short facts: the grant type, the bearer token's start, the error code. */
  readonly note: string;
  readonly ms: number;
}

function headerValue(init: RequestInit | undefined, name: string): string | null {
  return init?.headers ? new Headers(init.headers).get(name) : null;
}

async function describeRequest(url: URL, init: RequestInit | undefined): Promise<string[]> {
  const notes: string[] = [];
  const auth = headerValue(init, 'authorization');
  if (auth) notes.push(`auth=${auth.split(' ')[0]} ${truncate(auth.split(' ')[1] ?? '')}`);
  const body = init?.body;
  if (typeof body === 'string' || body instanceof URLSearchParams) {
    const text = body.toString();
    if (url.pathname.endsWith('/token') || url.pathname.endsWith('/revoke')) {
      const form = new URLSearchParams(text);
      const keys = [...form.keys()].join(',');
      notes.push(`grant_type=${form.get('grant_type') ?? '-'} fields=${keys}`);
      if (form.has('resource')) notes.push(`resource=${form.get('resource')}`);
    } else if (text.startsWith('{')) {
      try {
        const message = JSON.parse(text) as { method?: string; params?: { name?: string } };
        if (message.method) notes.push(`rpc=${message.method}${message.params?.name ? `(${message.params.name})` : ''}`);
      } catch {
        // not JSON-RPC
      }
    }
  }
  return notes;
}

async function describeResponse(response: Response): Promise<string[]> {
  const notes: string[] = [];
  const challenge = response.headers.get('www-authenticate');
  if (challenge) notes.push(`www-authenticate=${challenge.replace(/error_description="[^"]*"/, 'error_description=…')}`);
  const type = response.headers.get('content-type') ?? '';
  if (response.status >= 400 && type.includes('json')) {
    const body = (await response.clone().json().catch(() => ({}))) as { error?: unknown; error_description?: unknown };
    if (body.error !== undefined) notes.push(`error=${JSON.stringify(body.error)} ${JSON.stringify(body.error_description ?? '')}`);
  }
  return notes;
}

/** Holds requests to one path until `count` of them are waiting (or `timeoutMs` passed). */
interface Barrier {
  readonly path: string;
  readonly count: number;
  readonly waiting: Array<() => void>;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Records the SDK client's HTTP requests. */
export class HttpTrace {
  readonly entries: HttpTraceEntry[] = [];
  /** A label stored with every entry from now on. */
  phase = 'start';
  readonly #inflight = new Set<Promise<unknown>>();
  #barrier: Barrier | undefined;

  /**
   * Holds the next POSTs to `path` until `count` of them are in flight, then releases them
   * together: makes "the client sends these concurrently" deterministic.
   */
  holdUntilConcurrent(path: string, count: number, timeoutMs = 2000): void {
    const waiting: Array<() => void> = [];
    const timer = setTimeout(() => this.#release(), timeoutMs);
    this.#barrier = { path, count, waiting, timer };
  }

  #release(): void {
    const barrier = this.#barrier;
    if (!barrier) return;
    this.#barrier = undefined;
    clearTimeout(barrier.timer);
    for (const go of barrier.waiting) go();
  }

  async #hold(url: URL, method: string): Promise<void> {
    const barrier = this.#barrier;
    if (!barrier || method !== 'POST' || url.pathname !== barrier.path) return;
    const released = new Promise<void>((resolve) => barrier.waiting.push(resolve));
    if (barrier.waiting.length >= barrier.count) this.#release();
    await released;
  }

  /** Resolves once no SDK request is in flight (the SDK starts its GET probe without awaiting it). */
  async idle(): Promise<void> {
    for (let quiet = 0; quiet < 2; ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (this.#inflight.size === 0) quiet += 1;
      else {
        quiet = 0;
        await Promise.allSettled([...this.#inflight]);
      }
    }
  }

  /** A `fetch` to give the SDK transport (`new StreamableHTTPClientTransport(url, { fetch })`). */
  readonly fetch = (input: string | URL, init?: RequestInit): Promise<Response> => {
    const request = this.#fetch(input, init);
    this.#inflight.add(request);
    void request.finally(() => this.#inflight.delete(request)).catch(() => {});
    return request;
  };

  async #fetch(input: string | URL, init?: RequestInit): Promise<Response> {
    const url = new URL(input instanceof Request ? input.url : input);
    const method = (init?.method ?? 'GET').toUpperCase();
    const started = performance.now();
    const requestNotes = await describeRequest(url, init);
    await this.#hold(url, method);
    let response: Response;
    try {
      response = await fetch(input, init);
    } catch (error) {
      this.entries.push({ method, path: redactUrl(url), status: 0, phase: this.phase, note: [...requestNotes, `network error ${String(error)}`].join(' '), ms: performance.now() - started });
      throw error;
    }
    const responseNotes = await describeResponse(response);
    this.entries.push({
      method,
      path: redactUrl(url),
      status: response.status,
      phase: this.phase,
      note: [...requestNotes, ...responseNotes].join(' '),
      ms: performance.now() - started,
    });
    return response;
  }

  /** Entries of one phase. */
  of(phase: string): HttpTraceEntry[] {
    return this.entries.filter((e) => e.phase === phase);
  }

  /** `METHOD path status` lines of one phase (or all), for assertions. */
  lines(phase?: string): string[] {
    return (phase === undefined ? this.entries : this.of(phase)).map((e) => `${e.method} ${e.path.split('?')[0]} ${e.status}`);
  }

  /** Everything, readable. */
  format(): string {
    return this.entries
      .map((e) => `[${e.phase}] ${e.method} ${e.path} -> ${e.status} (${e.ms.toFixed(0)} ms)${e.note ? `  ${e.note}` : ''}`)
      .join('\n');
  }
}
