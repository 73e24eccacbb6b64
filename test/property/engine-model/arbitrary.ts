/**
 * The weighted arbitrary of the engine model test's commands.
 */
import fc from 'fast-check';
import { BROWSER_NAMES, CLIENT_NAMES } from './model.js';
import type { Cmd, RedeemVariant } from './engine-command.js';
import { Advance, Callback, Consent, Exchange, StartFlow, type CallbackMode, type ConsentAction } from './flow-commands.js';
import { AtDeadline, DEADLINE_KINDS } from './deadline-command.js';
import { AdvanceClock, ClockToDeadline, Restart, Sweep } from './maintenance-commands.js';
import { RACE_KINDS, Race } from './race-command.js';
import {
  ConcurrentRedeem,
  ConcurrentRefresh,
  Redeem,
  Refresh,
  RevokeAccess,
  RevokeGrant,
  RevokeRefresh,
  type RefreshVariant,
  type RevokeVariant,
} from './token-commands.js';

const sel = fc.nat({ max: 1 << 16 });
const relevant = fc.nat({ max: 9 }).map((n) => n < 8);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Small steps and jumps to (and just past) every deadline of the model's settings. */
const clockStep = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: MINUTE }), weight: 4 },
  { arbitrary: fc.constantFrom(5 * MINUTE - 1, 5 * MINUTE, 5 * MINUTE + 1, 10 * MINUTE, 15 * MINUTE, 15 * MINUTE + 1), weight: 3 },
  { arbitrary: fc.constantFrom(HOUR, 2 * HOUR, 2 * HOUR + 1, 6 * HOUR), weight: 1 },
);

/** Every command, weighted so that complete flows (and their tokens) happen often. */
export function engineCommands(options: { maxCommands: number }): fc.Arbitrary<Iterable<Cmd>> {
  const redeemVariants: RedeemVariant[] = [
    'correct, no redirect/resource sent',
    'correct, no refresh token',
    'wrong verifier',
    'verifier of another flow',
    'malformed verifier',
    'wrong client',
    'wrong redirect URI',
    'wrong resource',
    'replay of a redeemed code',
    'unknown code',
  ];
  const refreshVariants: RefreshVariant[] = [
    'current, narrower scope',
    'current, wider scope',
    'current, wrong resource',
    'current, other client',
    'retired, other client',
    'of a dead grant',
  ];
  const arbs: Array<fc.WeightedArbitrary<Cmd>> = [
    { arbitrary: sel.map((n) => new Advance(n)), weight: 30 },
    {
      arbitrary: fc
        .tuple(fc.constantFrom(...CLIENT_NAMES), fc.constantFrom(...BROWSER_NAMES), fc.nat({ max: 9 }), fc.nat({ max: 9 }))
        .map(([c, b, s, w]) => new StartFlow(c, b, s === 0, w !== 0)),
      weight: 2,
    },
    {
      arbitrary: fc
        .tuple(fc.constantFrom<ConsentAction>('show', 'approve', 'deny'), sel, fc.boolean(), relevant)
        .map(([a, s, own, rel]) => new Consent(a, s, own, rel)),
      weight: 5,
    },
    {
      arbitrary: fc
        .tuple(fc.constantFrom<CallbackMode>('right', 'other-browser', 'replayed', 'unknown', 'error', 'error-other-browser', 'error-replayed'), sel)
        .map(([mode, s]) => new Callback(mode, s)),
      weight: 5,
    },
    { arbitrary: fc.tuple(fc.nat({ max: 3 }), sel, relevant).map(([k, s, rel]) => new Exchange(k !== 0, s, rel)), weight: 2 },
    {
      arbitrary: fc.tuple(fc.constantFrom(...redeemVariants), sel, relevant).map(([v, s, rel]) => new Redeem(v, s, rel)),
      weight: 10,
    },
    { arbitrary: fc.tuple(fc.integer({ min: 2, max: 4 }), sel).map(([n, s]) => new ConcurrentRedeem(n, s)), weight: 2 },
    { arbitrary: sel.map((s) => new Refresh('current', s)), weight: 8 },
    { arbitrary: sel.map((s) => new Refresh('retired', s)), weight: 3 },
    { arbitrary: fc.tuple(fc.constantFrom(...refreshVariants), sel).map(([v, s]) => new Refresh(v, s)), weight: 5 },
    { arbitrary: fc.tuple(fc.integer({ min: 2, max: 4 }), sel).map(([n, s]) => new ConcurrentRefresh(n, s)), weight: 2 },
    {
      arbitrary: fc
        .tuple(fc.constantFrom<RevokeVariant>('own', 'own', 'other client'), fc.boolean(), sel)
        .map(([v, retired, s]) => new RevokeRefresh(v, retired, s)),
      weight: 2,
    },
    {
      arbitrary: fc.tuple(fc.constantFrom<RevokeVariant>('own', 'own', 'other client'), sel).map(([v, s]) => new RevokeAccess(v, s)),
      weight: 3,
    },
    { arbitrary: sel.map((s) => new RevokeGrant(s)), weight: 1 },
    { arbitrary: clockStep.map((ms) => new AdvanceClock(ms)), weight: 4 },
    {
      arbitrary: fc.tuple(fc.constantFrom<-1 | 0 | 1>(-1, 0, 1), sel).map(([o, s]) => new ClockToDeadline(o, s)),
      weight: 3,
    },
    { arbitrary: fc.constant(null).map(() => new Sweep()), weight: 3 },
    {
      arbitrary: fc.tuple(fc.constantFrom(...DEADLINE_KINDS), fc.constantFrom<-1 | 0>(-1, 0), sel).map(([k, o, s]) => new AtDeadline(k, o, s)),
      weight: 3,
    },
    { arbitrary: fc.constant(null).map(() => new Restart()), weight: 1 },
    { arbitrary: fc.tuple(fc.constantFrom(...RACE_KINDS), sel).map(([k, s]) => new Race(k, s)), weight: 6 },
  ];
  return fc.commands([fc.oneof(...arbs)], { maxCommands: options.maxCommands, size: 'max' });
}
