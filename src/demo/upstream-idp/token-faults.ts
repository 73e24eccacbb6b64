/**
 * Fault injection and counting on `POST /token`. The body is read here (to know the grant
 * type) and handed to oidc-provider as `req.body`, which it supports for bodies parsed by
 * upstream middleware.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readRawBody } from './form-body.js';
import { sendJson, type IdpMiddleware } from './middleware.js';
import type { TokenFault, UpstreamIdpStats } from './types.js';

/** The fault currently injected into `POST /token`, if any. */
export class TokenFaults {
  private fault: TokenFault | null = null;
  private remaining = Infinity;

  /** Injects `fault`, or clears it with `null`. */
  set(fault: TokenFault | null): void {
    if (fault && fault.times !== undefined && (!Number.isInteger(fault.times) || fault.times < 1)) {
      throw new RangeError(`TokenFault.times must be a positive integer, got ${fault.times}`);
    }
    this.fault = fault;
    this.remaining = fault?.times ?? Infinity;
  }

  /** The fault that applies to a request with `grantType` (consuming one of its `times`). */
  take(grantType: string | undefined): TokenFault | undefined {
    const fault = this.fault;
    if (!fault) return undefined;
    if (fault.grantType !== undefined && fault.grantType !== grantType) return undefined;
    this.remaining -= 1;
    if (this.remaining <= 0) this.fault = null;
    return fault;
  }

  /** The middleware that counts token requests and applies the fault. */
  middleware(tokenPath: string, stats: UpstreamIdpStats): IdpMiddleware {
    return async (ctx, next) => {
      if (ctx.method !== 'POST' || ctx.path !== tokenPath) return void (await next());

      let raw: string;
      try {
        raw = await readRawBody(ctx.req);
      } catch {
        return sendJson(ctx, 413, { error: 'invalid_request', error_description: 'request body too large' });
      }
      // oidc-provider uses a pre-read body when the stream is already consumed.
      (ctx.req as { body?: string }).body = raw;
      const grantType = ctx.is('application/x-www-form-urlencoded')
        ? (new URLSearchParams(raw).get('grant_type') ?? undefined)
        : undefined;

      const counts = stats.tokenRequests;
      counts.total += 1;
      if (grantType === 'authorization_code' || grantType === 'refresh_token') counts[grantType] += 1;
      else counts.other += 1;

      const fault = this.take(grantType);
      if (!fault) return void (await next());
      stats.faultsInjected += 1;
      switch (fault.kind) {
        case 'delay':
          await sleep(fault.ms);
          return void (await next());
        case 'error':
          return sendJson(ctx, fault.status, {
            error: fault.error,
            ...(fault.error_description === undefined ? {} : { error_description: fault.error_description }),
          });
        case 'drop':
          ctx.respond = false;
          ctx.req.socket.destroy();
          return;
      }
    };
  }
}
