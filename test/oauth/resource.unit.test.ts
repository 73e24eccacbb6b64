/**
 * RFC 8707 resource indicators: syntax, the lenient comparison MCP asks for, selection.
 */
import { describe, expect, it } from 'vitest';
import { InvalidTarget, OAuthError } from '../../src/oauth/errors.js';
import { parseResourceIndicator, resourceMatches, selectResource } from '../../src/oauth/resource.js';

const MCP = 'https://mcp.example.com/mcp';

describe('parseResourceIndicator', () => {
  it.each([MCP, 'https://mcp.example.com', 'http://127.0.0.1:43797/mcp', 'https://mcp.example.com/mcp?tenant=a', 'urn:example:resource'])(
    'accepts %s unchanged',
    (value) => {
      expect(parseResourceIndicator(value)).toBe(value);
    },
  );

  it.each([
    ['', 'empty'],
    ['/mcp', 'absolute'],
    ['mcp.example.com/mcp', 'absolute'],
    ['https://mcp.example.com/mcp#frag', 'fragment'],
    ['https://mcp.example.com/mcp#', 'fragment'],
    [' https://mcp.example.com/mcp', 'whitespace'],
    ['https://mcp.example.com/mcp\n', 'whitespace'],
    ['https://', 'absolute'],
    [`https://mcp.example.com/${'a'.repeat(2048)}`, '2048'],
  ])('rejects %j with invalid_target (%s)', (value, message) => {
    expect(() => parseResourceIndicator(value)).toThrow(InvalidTarget);
    expect(() => parseResourceIndicator(value)).toThrow(message);
  });
});

describe('resourceMatches', () => {
  it.each([
    [MCP, MCP, true],
    [MCP, 'HTTPS://MCP.EXAMPLE.COM/mcp', true],
    [MCP, 'https://Mcp.Example.Com/mcp/', true],
    [`${MCP}/`, MCP, true],
    ['https://mcp.example.com', 'https://mcp.example.com/', true],
    ['https://mcp.example.com:8443/mcp', 'https://MCP.example.com:8443/mcp', true],
    ['https://mcp.example.com/mcp?Tenant=A', 'https://mcp.example.com/mcp?Tenant=A', true],
    // nothing else is normalized
    [MCP, 'https://mcp.example.com/MCP', false],
    [MCP, 'https://mcp.example.com/mcp//', false],
    [MCP, 'https://mcp.example.com/mcp?', false],
    [MCP, 'https://mcp.example.com/mcp?x=1', false],
    ['https://mcp.example.com/mcp?Tenant=A', 'https://mcp.example.com/mcp?tenant=a', false],
    [MCP, 'https://mcp.example.com:443/mcp', false],
    [MCP, 'http://mcp.example.com/mcp', false],
    [MCP, 'https://mcp.example.com/mcp/x', false],
    [MCP, 'https://mcp.example.com/%6Dcp', false],
    [MCP, 'https://mcp.example.com/./mcp', false],
    [MCP, 'https://evil.com/mcp', false],
    [MCP, 'https://mcp.example.com.evil.com/mcp', false],
    [MCP, 'https://mcp.example.com@evil.com/mcp', false],
    [MCP, `${MCP}#`, false],
    [MCP, '', false],
  ])('%j vs %j → %s', (configured, requested, expected) => {
    expect(resourceMatches(configured, requested)).toBe(expected);
  });
});

describe('selectResource', () => {
  const configured = [MCP, 'https://mcp.example.com/other/'];

  it('defaults an absent resource', () => {
    expect(selectResource(undefined, configured, MCP)).toBe(MCP);
  });

  it('returns the configured spelling', () => {
    expect(selectResource('HTTPS://MCP.example.com/mcp/', configured, MCP)).toBe(MCP);
    expect(selectResource('https://mcp.example.com/other', configured, MCP)).toBe('https://mcp.example.com/other/');
  });

  it('throws invalid_target for an unknown resource, without echoing it', () => {
    const requested = 'https://evil.example/<script>';
    try {
      selectResource(requested, configured, MCP);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(OAuthError);
      expect((error as OAuthError).code).toBe('invalid_target');
      expect((error as OAuthError).status).toBe(400);
      expect((error as OAuthError).description).not.toContain('evil');
    }
  });

  it('throws invalid_target for a malformed resource', () => {
    expect(() => selectResource(`${MCP}#x`, configured, MCP)).toThrow(InvalidTarget);
    expect(() => selectResource('', configured, MCP)).toThrow(InvalidTarget);
  });

  it('throws invalid_target when nothing is configured', () => {
    expect(() => selectResource(MCP, [], MCP)).toThrow(InvalidTarget);
  });
});
