/**
 * PKCE S256 (RFC 7636): verifier and challenge syntax, the Appendix B vector, verification.
 */
import { describe, expect, it } from 'vitest';
import { InvalidRequest } from '../../src/oauth/errors.js';
import { isValidCodeChallenge, isValidCodeVerifier, s256Challenge, verifyPkceS256 } from '../../src/oauth/pkce.js';

// RFC 7636 Appendix B.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('RFC 7636 Appendix B', () => {
  it('derives the published challenge', () => {
    expect(s256Challenge(VERIFIER)).toBe(CHALLENGE);
  });

  it('verifies the published pair', () => {
    expect(verifyPkceS256(VERIFIER, CHALLENGE)).toBe(true);
  });
});

describe('isValidCodeVerifier', () => {
  it.each([
    ['43 characters', 'a'.repeat(43)],
    ['128 characters', 'Z'.repeat(128)],
    ['every unreserved character', `${'A'.repeat(39)}-._~`],
    ['the Appendix B verifier', VERIFIER],
  ])('accepts %s', (_label, verifier) => {
    expect(isValidCodeVerifier(verifier)).toBe(true);
  });

  it.each([
    ['42 characters', 'a'.repeat(42)],
    ['129 characters', 'a'.repeat(129)],
    ['empty', ''],
    ['a plus sign', `${'a'.repeat(42)}+`],
    ['a slash', `${'a'.repeat(42)}/`],
    ['padding', `${'a'.repeat(42)}=`],
    ['a space', `${'a'.repeat(42)} `],
    ['a trailing newline', `${'a'.repeat(43)}\n`],
    ['non-ASCII', `${'a'.repeat(42)}é`],
    ['a percent-encoding', `${'a'.repeat(40)}%41`],
  ])('rejects %s', (_label, verifier) => {
    expect(isValidCodeVerifier(verifier)).toBe(false);
  });

  it('rejects non-strings', () => {
    expect(isValidCodeVerifier(undefined)).toBe(false);
    expect(isValidCodeVerifier(['a'.repeat(43)])).toBe(false);
  });
});

describe('isValidCodeChallenge', () => {
  it('accepts exactly 43 base64url characters', () => {
    expect(isValidCodeChallenge(CHALLENGE)).toBe(true);
    expect(isValidCodeChallenge('_-'.repeat(21) + 'A')).toBe(true);
  });

  it.each([
    ['42 characters', CHALLENGE.slice(0, 42)],
    ['44 characters', `${CHALLENGE}A`],
    ['base64 padding', `${CHALLENGE.slice(0, 42)}=`],
    ['standard base64 +', `${CHALLENGE.slice(0, 42)}+`],
    ['standard base64 /', `${CHALLENGE.slice(0, 42)}/`],
    ['a "." (allowed in verifiers, not in challenges)', `${CHALLENGE.slice(0, 42)}.`],
    ['empty', ''],
  ])('rejects %s', (_label, challenge) => {
    expect(isValidCodeChallenge(challenge)).toBe(false);
  });
});

describe('s256Challenge', () => {
  it('throws invalid_request for a malformed verifier', () => {
    expect(() => s256Challenge('short')).toThrow(InvalidRequest);
  });
});

describe('verifyPkceS256', () => {
  it('rejects a different verifier', () => {
    expect(verifyPkceS256(`${VERIFIER.slice(0, -1)}l`, CHALLENGE)).toBe(false);
  });

  it('rejects the plain method: the verifier given as its own challenge', () => {
    const verifier = 'a'.repeat(43);
    expect(verifyPkceS256(verifier, verifier)).toBe(false);
  });

  it('returns false, never throws, for malformed input', () => {
    expect(verifyPkceS256('short', CHALLENGE)).toBe(false);
    expect(verifyPkceS256(VERIFIER, `${CHALLENGE}=`)).toBe(false);
    expect(verifyPkceS256(VERIFIER, CHALLENGE.toLowerCase())).toBe(false);
    expect(verifyPkceS256(undefined, undefined)).toBe(false);
    expect(verifyPkceS256(42, {})).toBe(false);
    expect(verifyPkceS256(VERIFIER, '')).toBe(false);
  });
});
