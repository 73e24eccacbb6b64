/**
 * Prometheus metrics (prom-client, one registry per flowgate instance): flows by outcome,
 * token grants, refreshes, revocations, rejections by kind, and HTTP latency histograms.
 * Counters are driven by the events the engine commits and by the security-event counter,
 * so they say exactly what the log says.
 *
 * @module
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StoredEvent } from '../store/types.js';

/** flowgate's metrics. */
export class FlowgateMetrics {
  readonly registry = new Registry();
  readonly flows: Counter<'outcome'>;
  readonly tokenGrants: Counter<'grant_type'>;
  readonly refreshes: Counter<'kind'>;
  readonly revocations: Counter<'kind'>;
  readonly rejections: Counter<'kind'>;
  readonly requestDuration: Histogram<'route' | 'method' | 'status'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.flows = new Counter({ name: 'flowgate_flows_total', help: 'Authorization flows by outcome', labelNames: ['outcome'], registers });
    this.tokenGrants = new Counter({ name: 'flowgate_token_grants_total', help: 'Tokens issued by grant type', labelNames: ['grant_type'], registers });
    this.refreshes = new Counter({ name: 'flowgate_refreshes_total', help: 'Refreshes: client refresh tokens rotated, upstream tokens refreshed or failed', labelNames: ['kind'], registers });
    this.revocations = new Counter({ name: 'flowgate_revocations_total', help: 'Revocations by kind or reason', labelNames: ['kind'], registers });
    this.rejections = new Counter({ name: 'flowgate_rejections_total', help: 'Refused requests and detected replays by kind', labelNames: ['kind'], registers });
    this.requestDuration = new Histogram({
      name: 'flowgate_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'flowgate_' });
  }

  /** Counts what committed events mean. */
  observe(events: readonly StoredEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'flow.started':
          this.flows.inc({ outcome: 'started' });
          break;
        case 'code.redeemed':
          this.flows.inc({ outcome: 'completed' });
          this.tokenGrants.inc({ grant_type: 'authorization_code' });
          break;
        case 'consent.denied':
          this.flows.inc({ outcome: 'denied' });
          break;
        case 'upstream.error_received':
        case 'upstream.exchange_failed':
          this.flows.inc({ outcome: 'upstream_failed' });
          break;
        case 'flow.expired':
          this.flows.inc({ outcome: 'expired' });
          break;
        case 'code.reuse_detected':
          this.flows.inc({ outcome: 'code_reuse' });
          this.rejections.inc({ kind: 'code_reuse' });
          break;
        case 'refresh_token.rotated':
          this.tokenGrants.inc({ grant_type: 'refresh_token' });
          this.refreshes.inc({ kind: 'client' });
          break;
        case 'refresh_token.reuse_detected':
          this.rejections.inc({ kind: 'refresh_token_reuse' });
          break;
        case 'upstream.refreshed':
          this.refreshes.inc({ kind: 'upstream' });
          break;
        case 'upstream.refresh_failed':
          this.refreshes.inc({ kind: 'upstream_failed' });
          break;
        case 'access_token.revoked':
          this.revocations.inc({ kind: 'access_token' });
          break;
        case 'grant.revoked':
          this.revocations.inc({ kind: String((event.data as { reason?: string }).reason ?? 'grant') });
          break;
      }
    }
  }

  /** The text exposition format. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
