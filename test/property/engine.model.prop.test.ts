/**
 * Model-based test of the engine (fast-check `fc.commands` + `fc.asyncModelRun`;
 * security-invariants §2.1, stack-notes §8).
 *
 * Real side: `openTestEngine` on a fresh store per run. Model side: plain maps of flows,
 * codes, grants, refresh tokens and jtis (test/property/engine-model/model.ts), which
 * encode the rules without importing the engine's readers or guards. After every command:
 * the read views equal the model, a rebuild from the log equals the live read views, no
 * plaintext secret is in the log (nor in a read view), and the hash chain verifies; at the
 * end of a run every stream replays legally as recorded. See engine-model/ for the pieces.
 *
 * Commands (engine-model/arbitrary.ts): a model-directed Advance (stack-notes §8), start
 * (two clients, two browsers, silent consent), consent shown/approved/denied from either
 * browser, the upstream callback (right or other browser, replayed or unknown state,
 * upstream error), exchange success/failure, redeem (correct; wrong verifier, client,
 * redirect URI, resource; replay; unknown), refresh (current, retired, other client,
 * wider/narrower scope, wrong resource, dead grant), revocation of refresh tokens, of
 * access tokens (by the jti of the token response) and of grants, n identical requests at
 * once and races of two different requests (checked for linearizability), clock steps and
 * jumps to 1 ms before / exactly at / after each deadline, the sweeper, and a restart
 * (`rebuildAll` plus a new engine).
 *
 * FOUND AND FIXED: RevokeAccessToken of a grant past its idle or absolute deadline that
 * the sweeper had not expired yet threw ERR_ILLEGAL_TRANSITION (the machine's
 * `canRevokeAccessToken` guard needs `alive`; the handler did not ask the machine). RFC 7009
 * §2.2 wants a plain success for a token that is already invalid, so the model expects
 * outcome `inactive` and no change; src/engine/commands/revoke.ts now asks the machine
 * first. Shrunk counterexample: StartFlow, ShowConsent, ApproveConsent, AcceptCallback,
 * CompleteUpstreamExchange, RedeemCode, clock to the grant's idle deadline (exactly, or
 * +1 ms), RevokeAccessToken(own client, the jti of the RedeemCode result).
 *
 * MUTATION CHECK, done by hand on a scratch copy of HEAD 2e4b381 (`git archive` into /tmp,
 * never in this checkout, with the known failure above tolerated there): each guard
 * removed, the property run and watched fail with the shrunk counterexample below, then the
 * copy restored and compared byte for byte with a pristine copy (`diff -r`). The files
 * involved are unchanged in this checkout (`git diff --exit-code` on them is empty).
 * "Flow to a code" = StartFlow, ShowConsent, ApproveConsent, AcceptCallback,
 * CompleteUpstreamExchange.
 * - PKCE check removed from redeem-code.ts and `verifierChallenge` from `presentsBinding`:
 *   flow to a code, RedeemCode(verifier of another flow) → the engine redeemed.
 * - PKCE check removed from redeem-code.ts only: flow to a code, RedeemCode(wrong verifier)
 *   → the machine still refused (defence in depth), but with ERR_ILLEGAL_TRANSITION, not
 *   invalid_grant.
 * - client check (redeem-code.ts and `presentsBinding`): flow to a code,
 *   RedeemCode(wrong client) → redeemed.
 * - redirect URI check (redeem-code.ts and `presentsBinding`): flow to a code,
 *   RedeemCode(wrong redirect URI) → redeemed.
 * - browser binding of the callback (`requireSameBrowser` in AcceptCallback and the browser
 *   clause of `stateIsCurrent`; GHSA-rww4-4w9c-7733): StartFlow, ShowConsent,
 *   ApproveConsent, AcceptCallback(other browser) → accepted.
 * - browser binding of consent (`requireSameBrowser` in ApproveConsent, the flow's own
 *   browser hash emitted): StartFlow, ShowConsent, ApproveConsent(other browser) → accepted.
 * - reuse detection (`canRotate` accepting any presented hash): flow to a code, RedeemCode,
 *   ConcurrentRefresh ×2 → both rotated (the loser must be reuse).
 * - client check of refresh-grant.ts: flow to a code, RedeemCode, RefreshGrant,
 *   RefreshGrant(retired token, other client) → the other client's replay revoked the
 *   family (read view grants: revoked/refresh_token_reuse; model: active).
 * - `grant.revoked` on a code replay (redeem-code.ts): flow to a code, RedeemCode,
 *   RedeemCode(replay) → read view grants: active; model: revoked/code_reuse.
 * - jti_mappings revoking every jti of the grant on `access_token.revoked`: flow to a code,
 *   RedeemCode, RefreshGrant, RevokeAccessToken(own) → the other jti revoked too.
 * - client check of RevokeRefreshToken: flow to a code, RedeemCode,
 *   RevokeRefreshToken(other client) → accepted.
 * - the code copied into `code.issued`: flow to a code → "authorization code in data of
 *   code.issued"; the client verifier copied into `code.redeemed`: flow to a code,
 *   RedeemCode → "client PKCE verifier in data of code.redeemed".
 * - transactions.updated_at from Date.now() instead of the event: StartFlow → "rebuilding
 *   transactions from the log changed it".
 * - code expiry (redeem-code.ts and the `redeemable` guard): flow to a code, clock +10 min,
 *   ConcurrentRedeem ×2 → an expired code redeemed.
 * - grant deadline (refresh-grant.ts and `alive` in `canRotate`/`canIssue`): flow to a code,
 *   RedeemCode, AtDeadline(refresh at the grant deadline, exactly) → refreshed.
 * - hash chain (`prev_hash` of every third event reset to the genesis hash): StartFlow,
 *   Race(show ∥ approve) → verifyChain: prev_hash break at version 3.
 * - optimistic concurrency (appendMany numbering from the head, no version check):
 *   StartFlow, ShowConsent, Race(approve ∥ deny) → both accepted, no order explains it.
 *
 * Environment: FLOWGATE_MODEL_RUNS (SQLite runs; the other properties scale with it),
 * FLOWGATE_MODEL_COVERAGE=1 (print what the runs exercised), FLOWGATE_MODEL_NO_SHRINK=1.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { storeTargets, type StoreTarget } from '../support/stores.js';
import { checkEndOfRun } from './engine-model/checks.js';
import { engineCommands } from './engine-model/arbitrary.js';
import { MODEL_SETTINGS, Model, type ModelSettings } from './engine-model/model.js';
import { Coverage, openReal } from './engine-model/real.js';

const MAX_COMMANDS = 40;
/** Every PostgreSQL statement is a round trip, and a rebuild replays the whole log: shorter runs there. */
const POSTGRES_MAX_COMMANDS = 30;
/** `verifyChain()` runs every this many commands, and at the end of every run. */
const CHAIN_EVERY = 4;
const SQLITE_RUNS = Number(process.env.FLOWGATE_MODEL_RUNS ?? 60);
const GRACE_RUNS = Math.max(1, Math.round(SQLITE_RUNS / 5));
const POSTGRES_RUNS = Math.max(1, Math.round(SQLITE_RUNS / 10));

async function runModel(
  target: StoreTarget,
  settings: ModelSettings,
  numRuns: number,
  maxCommands: number,
  label: string,
): Promise<void> {
  const coverage = new Coverage();
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(engineCommands({ maxCommands }), async (cmds) => {
      const real = await openReal(target, settings, coverage, { chainEvery: CHAIN_EVERY });
      coverage.runs++;
      try {
        await fc.asyncModelRun(() => ({ model: new Model(settings, real.t.clock.ms), real }), cmds);
        await checkEndOfRun(real);
      } catch (error) {
        // The reported counterexample is the last failing run: show what its commands did.
        for (const stamp of real.ran) stamp();
        throw error;
      } finally {
        await real.t.dispose();
      }
    }),
    { numRuns, endOnFailure: process.env.FLOWGATE_MODEL_NO_SHRINK === '1' },
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const detail = process.env.FLOWGATE_MODEL_COVERAGE === '1' ? `\n${coverage.summary()}` : '';
  console.log(`engine model on ${label}: ${coverage.runs} runs, ${coverage.commands} commands, ${seconds} s${detail}`);
}

/** Generous: a failure shrinks, which re-runs many command sequences. */
const timeout = (runs: number) => Math.max(300_000, runs * 4000);

const sqlite = storeTargets().find((t) => t.name === 'sqlite')!;
const postgres = storeTargets().find((t) => t.name !== 'sqlite' && t.available);

describe('engine model (fc.commands + asyncModelRun)', () => {
  it(`holds on SQLite in memory (${SQLITE_RUNS} runs × up to ${MAX_COMMANDS} commands)`, async () => {
    await runModel(sqlite, MODEL_SETTINGS, SQLITE_RUNS, MAX_COMMANDS, 'sqlite');
  }, timeout(SQLITE_RUNS));

  it(`holds on SQLite with a refresh grace window of 30 s (${GRACE_RUNS} runs)`, async () => {
    await runModel(sqlite, { ...MODEL_SETTINGS, refreshGraceMs: 30_000 }, GRACE_RUNS, MAX_COMMANDS, 'sqlite, grace 30 s');
  }, timeout(GRACE_RUNS));

  it.skipIf(!postgres)(`holds on PostgreSQL (${POSTGRES_RUNS} runs × up to ${POSTGRES_MAX_COMMANDS} commands)`, async () => {
    await runModel(postgres!, MODEL_SETTINGS, POSTGRES_RUNS, POSTGRES_MAX_COMMANDS, 'postgres');
  }, timeout(POSTGRES_RUNS));
});
