/**
 * Security invariants checked over the log, written independently of the machines: if a
 * machine version ever accepted what it should not (or the log was forged so that it did),
 * these still say no. Per-stream rules run during the stream pass with state for one stream
 * at a time; the rules that tie streams together run per command in the global pass
 * (src/audit/global-pass.ts), because a command appends all of its events in one
 * transaction, so they are adjacent in global order.
 *
 * Per stream:
 *
 * - an upstream redirect needs an earlier `consent.approved` in the same flow;
 * - a code is issued only after an accepted upstream callback in the same flow;
 * - a flow's code is redeemed at most once (a second valid presentation is
 *   `code.reuse_detected`, never a second `code.redeemed`);
 * - no access token is issued and no refresh token rotated once the grant is revoked,
 *   expired or has detected refresh-token reuse;
 * - a refresh token is accepted only while live, or once within the grace rule recorded
 *   in `grant.created` (`graceMs`): the token retired last, unused grace, a single live
 *   branch, within `graceMs` of its rotation (machines/token-grant.ts).
 *
 * @module
 */
import type { Finding, FindingKind } from './types.js';

/** Where an event is, for findings. */
export interface EventAt {
  readonly streamId: string;
  readonly position: number;
  readonly version: number;
  readonly at: number;
}

type Emit = (finding: Finding) => void;

/** A per-stream invariant checker. */
export interface StreamInvariants {
  event(type: string, data: Record<string, unknown>, where: EventAt): void;
}

function finding(kind: FindingKind, where: EventAt, reason: string): Finding {
  return { kind, streamId: where.streamId, position: where.position, version: where.version, reason };
}

/** The rules of one authorization flow. */
export class FlowInvariants implements StreamInvariants {
  #consentAt: number | null = null;
  #callbackAt: number | null = null;
  #redeemedAt: number | null = null;

  constructor(private readonly emit: Emit) {}

  event(type: string, _data: Record<string, unknown>, where: EventAt): void {
    switch (type) {
      case 'consent.approved':
        this.#consentAt ??= where.position;
        return;
      case 'upstream.redirected':
        if (this.#consentAt === null) {
          this.emit(finding('invariant.redirect_without_consent', where, 'upstream.redirected with no consent.approved earlier in this flow'));
        }
        return;
      case 'upstream.callback_accepted':
        this.#callbackAt ??= where.position;
        return;
      case 'code.issued':
        if (this.#callbackAt === null) {
          this.emit(finding('invariant.code_without_callback', where, 'code.issued with no upstream.callback_accepted earlier in this flow'));
        }
        return;
      case 'code.redeemed':
        if (this.#redeemedAt !== null) {
          this.emit(
            finding(
              'invariant.code_redeemed_twice',
              where,
              `the code was already redeemed at position ${this.#redeemedAt}; a second presentation must be code.reuse_detected and revoke the grant`,
            ),
          );
        } else {
          this.#redeemedAt = where.position;
        }
        return;
    }
  }
}

/** The rules of one token grant. */
export class GrantInvariants implements StreamInvariants {
  #active: string[] = [];
  #graceMs = 0;
  #lastRetired: { hash: string; at: number; position: number; graceUsed: boolean } | null = null;
  #dead: { type: string; position: number } | null = null;

  constructor(private readonly emit: Emit) {}

  event(type: string, data: Record<string, unknown>, where: EventAt): void {
    switch (type) {
      case 'grant.created': {
        const hash = data.refreshTokenHash;
        this.#active = typeof hash === 'string' ? [hash] : [];
        this.#graceMs = typeof data.graceMs === 'number' ? data.graceMs : 0;
        return;
      }
      case 'access_token.issued':
        this.#noTokenAfterDeath(where, 'access token issued');
        return;
      case 'refresh_token.rotated':
        this.#noTokenAfterDeath(where, 'refresh token rotated');
        this.#rotation(data, where);
        return;
      case 'refresh_token.reuse_detected':
      case 'grant.revoked':
      case 'grant.expired':
        this.#dead ??= { type, position: where.position };
        return;
    }
  }

  #noTokenAfterDeath(where: EventAt, what: string): void {
    if (this.#dead) {
      this.emit(
        finding('invariant.token_for_revoked_grant', where, `${what} after ${this.#dead.type} at position ${this.#dead.position}`),
      );
    }
  }

  #rotation(data: Record<string, unknown>, where: EventAt): void {
    const presented = String(data.presentedHash);
    const next = String(data.newHash);
    if (this.#active.includes(presented)) {
      this.#active = [...this.#active.filter((h) => h !== presented), next];
      this.#lastRetired = { hash: presented, at: where.at, position: where.position, graceUsed: false };
      return;
    }
    const retired = this.#lastRetired;
    const inGrace =
      this.#graceMs > 0 &&
      retired !== null &&
      retired.hash === presented &&
      !retired.graceUsed &&
      this.#active.length === 1 &&
      where.at - retired.at < this.#graceMs;
    if (inGrace) {
      this.#active = [...this.#active, next];
      this.#lastRetired = { ...retired, graceUsed: true };
      return;
    }
    let why: string;
    if (retired !== null && retired.hash === presented) {
      const late = where.at - retired.at;
      why = `refresh token accepted again after its rotation at position ${retired.position} (${late} ms later; grace ${this.#graceMs} ms${retired.graceUsed ? ', already used' : ''}${this.#active.length > 1 ? ', two live branches' : ''})`;
    } else {
      why = 'refresh token accepted that is not a live token of this grant (rotated earlier, or never issued here)';
    }
    this.emit(finding('invariant.refresh_after_rotation', where, why));
    // Go on as if accepted, so one bad rotation is reported once, not at every later one.
    this.#active = [...this.#active.filter((h) => h !== presented), next];
  }
}

/** The checker for a stream's category, or null when no per-stream rule applies. */
export function invariantsFor(category: string, emit: Emit): StreamInvariants | null {
  if (category === 'flow') return new FlowInvariants(emit);
  if (category === 'grant') return new GrantInvariants(emit);
  return null;
}
