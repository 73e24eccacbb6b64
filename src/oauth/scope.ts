/**
 * The `scope` parameter (RFC 6749 §3.3): a list of space-delimited, case-sensitive tokens,
 * `scope = scope-token *( SP scope-token )` with `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
 *
 * @module
 */
import { InvalidScope } from './errors.js';

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** RFC 6749 §3.3: whether `token` is a single well-formed scope token. */
export function isScopeToken(token: string): boolean {
  return SCOPE_TOKEN.test(token);
}

/**
 * RFC 6749 §3.3: parses a `scope` value into its tokens, dropping duplicates and keeping
 * the first-seen order. An absent or empty value is `[]`. Tokens are separated by exactly
 * one space; an empty token (leading, trailing or doubled space) or a character outside
 * the grammar throws `invalid_scope`.
 *
 * @example
 * ```ts
 * parseScope('mcp:tools openid mcp:tools'); // ['mcp:tools', 'openid']
 * ```
 */
export function parseScope(value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  const tokens: string[] = [];
  const seen = new Set<string>();
  for (const token of value.split(' ')) {
    if (token === '') throw new InvalidScope('scope tokens must be separated by single spaces');
    if (!isScopeToken(token)) throw new InvalidScope('scope contains a character that RFC 6749 section 3.3 does not allow');
    if (!seen.has(token)) {
      seen.add(token);
      tokens.push(token);
    }
  }
  return tokens;
}

/**
 * RFC 6749 §3.3: the `scope` string of a token list, duplicates dropped in first-seen
 * order. Throws `invalid_scope` for a malformed token, so the output always parses back.
 */
export function formatScope(list: readonly string[]): string {
  for (const token of list) {
    if (!isScopeToken(token)) throw new InvalidScope('scope contains a character that RFC 6749 section 3.3 does not allow');
  }
  return [...new Set(list)].join(' ');
}

/**
 * Whether every token of `subset` is in `superset` (scope only narrows along a grant:
 * OAuth 2.1 §4.3.1, RFC 9700 §4.14.2). Case-sensitive; the empty list is a subset of all.
 */
export function isSubset(subset: readonly string[], superset: readonly string[]): boolean {
  const allowed = new Set(superset);
  return subset.every((token) => allowed.has(token));
}
