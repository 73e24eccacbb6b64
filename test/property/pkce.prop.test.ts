/**
 * Properties of PKCE S256 (RFC 7636; security-invariants §2.B item 9).
 *
 * Mutation check, done once by hand: each protection was removed from src/oauth/pkce.ts,
 * the properties run, the failure seen, and the code restored.
 * - verifyPkceS256 without its `isValidCodeVerifier` guard: "outside the unreserved set"
 *   failed on a verifier with a NUL inserted, and "lengths 42 and 129" on 129 × `A`.
 * - the verifier pattern widened to `{42,128}`: "lengths 42 and 129" failed on 42 × `A`.
 * - the comparison cut to the first 42 characters: "any challenge that is not exactly
 *   the S256" failed on a challenge with its last character changed.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidCodeChallenge, isValidCodeVerifier, s256Challenge, verifyPkceS256 } from '../../src/oauth/pkce.js';

const RUNS = { numRuns: 2000 };
const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';

const verifier = (min = 43, max = 128): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...UNRESERVED.split('')), minLength: min, maxLength: max });

/** One UTF-16 unit, or an astral character, that is not in the unreserved set. */
const outsider = fc
  .oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.constantFrom('+', '/', '=', ' ', '%', '\u0000', '\n', 'é'))
  .filter((c) => !UNRESERVED.includes(c));

/** The reference computation, independent of the module: BASE64URL(SHA256(ASCII(v))). */
function reference(v: string): string {
  return createHash('sha256').update(v, 'utf8').digest('base64url');
}

describe('PKCE S256', () => {
  it('verifies every valid verifier against its own challenge', () => {
    fc.assert(
      fc.property(verifier(), (v) => {
        expect(isValidCodeVerifier(v)).toBe(true);
        expect(verifyPkceS256(v, s256Challenge(v))).toBe(true);
      }),
      RUNS,
    );
  });

  it('computes the challenge as the base64url SHA-256, always 43 base64url characters', () => {
    fc.assert(
      fc.property(verifier(), (v) => {
        const challenge = s256Challenge(v);
        expect(challenge).toBe(reference(v));
        expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(isValidCodeChallenge(challenge)).toBe(true);
      }),
      RUNS,
    );
  });

  it('lets no other verifier verify', () => {
    fc.assert(
      fc.property(verifier(), verifier(), (v, other) => {
        fc.pre(v !== other);
        expect(verifyPkceS256(other, s256Challenge(v))).toBe(false);
      }),
      RUNS,
    );
  });

  it('rejects verifiers outside the unreserved set, even against their own hash', () => {
    fc.assert(
      fc.property(verifier(43, 127), outsider, fc.nat(), (v, bad, at) => {
        const i = at % (v.length + 1);
        const mutant = v.slice(0, i) + bad + v.slice(i);
        expect(isValidCodeVerifier(mutant)).toBe(false);
        expect(verifyPkceS256(mutant, reference(mutant))).toBe(false);
        expect(() => s256Challenge(mutant)).toThrow();
      }),
      RUNS,
    );
  });

  it('rejects lengths 42 and 129 (and anything shorter or longer)', () => {
    fc.assert(
      fc.property(fc.oneof(verifier(42, 42), verifier(129, 129), verifier(0, 41), verifier(130, 300)), (v) => {
        expect(isValidCodeVerifier(v)).toBe(false);
        expect(verifyPkceS256(v, reference(v))).toBe(false);
      }),
      RUNS,
    );
  });

  it('rejects any challenge that is not exactly the S256 of the verifier', () => {
    fc.assert(
      fc.property(verifier(), fc.nat(42), fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('')), (v, i, c) => {
        const challenge = s256Challenge(v);
        const altered = challenge.slice(0, i) + c + challenge.slice(i + 1);
        expect(verifyPkceS256(v, altered)).toBe(altered === challenge);
        expect(verifyPkceS256(v, challenge.slice(0, 42))).toBe(false);
        expect(verifyPkceS256(v, `${challenge}=`)).toBe(false);
      }),
      RUNS,
    );
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (a, b) => {
        expect(typeof verifyPkceS256(a, b)).toBe('boolean');
      }),
      RUNS,
    );
  });
});
