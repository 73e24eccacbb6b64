/**
 * The RFC 6749 §3.3 scope grammar: parsing, formatting and subset checks.
 */
import { describe, expect, it } from 'vitest';
import { InvalidScope } from '../../src/oauth/errors.js';
import { formatScope, isScopeToken, isSubset, parseScope } from '../../src/oauth/scope.js';

describe('parseScope', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['openid', ['openid']],
    ['mcp:tools mcp:resources', ['mcp:tools', 'mcp:resources']],
    ['b a b c a', ['b', 'a', 'c']],
    ['Read read', ['Read', 'read']],
    ['https://api.example.com/read !#$%&\'()*+,-./:;<=>?@[]^_`{|}~', ['https://api.example.com/read', "!#$%&'()*+,-./:;<=>?@[]^_`{|}~"]],
  ])('%j → %j', (value, expected) => {
    expect(parseScope(value)).toStrictEqual(expected);
  });

  it.each([
    ['a  b', 'single spaces'],
    [' a', 'single spaces'],
    ['a ', 'single spaces'],
    [' ', 'single spaces'],
    ['a\tb', 'does not allow'],
    ['a\nb', 'does not allow'],
    ['a"b', 'does not allow'],
    ['a\\b', 'does not allow'],
    ['caf\u00e9', 'does not allow'],
    ['a\u00a0b', 'does not allow'],
    ['a\u007fb', 'does not allow'],
  ])('rejects %j with invalid_scope (%s)', (value, message) => {
    expect(() => parseScope(value)).toThrow(InvalidScope);
    expect(() => parseScope(value)).toThrow(message);
  });

  it('never echoes the offending token', () => {
    try {
      parseScope('ok "><script>');
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidScope).description).not.toContain('script');
      expect((error as InvalidScope).code).toBe('invalid_scope');
    }
  });
});

describe('formatScope', () => {
  it('joins with single spaces and drops duplicates', () => {
    expect(formatScope(['a', 'b', 'a'])).toBe('a b');
    expect(formatScope([])).toBe('');
  });

  it('round-trips through parseScope', () => {
    const tokens = ['mcp:tools', 'openid', 'offline_access'];
    expect(parseScope(formatScope(tokens))).toStrictEqual(tokens);
  });

  it('refuses a malformed token', () => {
    expect(() => formatScope(['a b'])).toThrow(InvalidScope);
    expect(() => formatScope([''])).toThrow(InvalidScope);
  });
});

describe('isScopeToken', () => {
  it('follows %x21 / %x23-5B / %x5D-7E', () => {
    expect(isScopeToken('!')).toBe(true);
    expect(isScopeToken('~')).toBe(true);
    expect(isScopeToken('"')).toBe(false);
    expect(isScopeToken('\\')).toBe(false);
    expect(isScopeToken(' ')).toBe(false);
    expect(isScopeToken('')).toBe(false);
  });
});

describe('isSubset', () => {
  it.each([
    [[], [], true],
    [[], ['a'], true],
    [['a'], ['a', 'b'], true],
    [['b', 'a'], ['a', 'b'], true],
    [['a', 'c'], ['a', 'b'], false],
    [['A'], ['a'], false],
    [['a'], [], false],
  ])('%j ⊆ %j → %s', (subset, superset, expected) => {
    expect(isSubset(subset, superset)).toBe(expected);
  });
});
