/**
 * Which address the per-IP registration limit counts (security-model F3): behind a trusted
 * proxy, the right-most `X-Forwarded-For` entry, the one the proxy appended; never the
 * client-supplied entries to its left. Checked by hand: taking the first entry again makes
 * "a client cannot choose its own bucket" fail.
 */
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../src/http/client-address.js';

function requestWith(forwardedFor?: string): Request {
  const headers = new Headers();
  if (forwardedFor !== undefined) headers.set('x-forwarded-for', forwardedFor);
  return new Request('http://127.0.0.1/register', { headers });
}

describe('clientAddress', () => {
  it('ignores X-Forwarded-For unless the proxy is trusted', () => {
    expect(clientAddress(requestWith('203.0.113.9'), false, '10.0.0.2')).toBe('10.0.0.2');
  });

  it('takes the entry the trusted proxy appended', () => {
    expect(clientAddress(requestWith('198.51.100.7'), true, '10.0.0.2')).toBe('198.51.100.7');
  });

  it('a client cannot choose its own bucket by sending the header itself', () => {
    // The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the real peer.
    expect(clientAddress(requestWith('1.2.3.4, 198.51.100.7'), true, '10.0.0.2')).toBe('198.51.100.7');
    expect(clientAddress(requestWith('1.2.3.4,198.51.100.7 '), true, '10.0.0.2')).toBe('198.51.100.7');
  });

  it('falls back to the socket address when the header is missing or empty', () => {
    expect(clientAddress(requestWith(), true, '10.0.0.2')).toBe('10.0.0.2');
    expect(clientAddress(requestWith(' , '), true, '10.0.0.2')).toBe('10.0.0.2');
    expect(clientAddress(requestWith(), true, undefined)).toBe('unknown');
  });
});
