/**
 * The checks every embedding passes, run against the example file itself (examples/*.ts):
 *
 * 1. discovery: without a token the MCP endpoint answers 401 with
 *    `WWW-Authenticate: Bearer … scope="mcp:tools", resource_metadata="…"` (RFC 6750 §3,
 *    RFC 9728 §5.1: the scope the endpoint requires, which the MCP client then requests), and
 *    the protected-resource metadata there names flowgate as the authorization server;
 * 2. the official MCP SDK client completes a cold start and `whoami` reports alice and the
 *    client id it registered;
 * 3. a revoked access token (RFC 7009) is refused at the next request (401 `invalid_token`);
 * 4. a token for another configured resource is refused (401 `invalid_token`, RFC 6750 §3.1;
 *    RFC 8707 audience);
 * 5. registrations are counted per client address: the adapter hands flowgate the socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokensFor } from '../../support/tokens.js';
import { expectInOrder, postWhoami, registerFrom, revoke, sdkClientWhoami, startExample, whoOf, type ExampleStack, type SdkRun, type StartExample } from './stack.js';

/** Registrations per address per hour in these stacks (the SDK client and `tokensFor` use two from 127.0.0.1). */
const RATE = 4;

/** Defines the shared adapter checks for one example. */
export function describeAdapter(name: string, start: StartExample): void {
  describe(`${name}: flowgate next to an MCP server in one HTTP server`, () => {
    let stack: ExampleStack;
    let sdk: SdkRun;
    let url: string;

    beforeAll(async () => {
      stack = await startExample(start, {
        config: (u) => ({
          server: { resources: [{ uri: `${u}/mcp` }, { uri: `${u}/other` }] },
          registration: { ratePerHour: RATE },
        }),
      });
      url = stack.example.url;
    });
    afterAll(() => stack?.close());

    it('answers 401 with a resource_metadata challenge without a token, and serves that RFC 9728 document', async () => {
      expect(stack.example.mcpUrl).toBe(`${url}/mcp`);
      const call = await postWhoami(stack.example.mcpUrl);
      expect(call.status).toBe(401);
      const prmUrl = `${url}/.well-known/oauth-protected-resource/mcp`;
      expect(call.wwwAuthenticate).toMatch(/^Bearer /);
      expect(call.wwwAuthenticate).toContain(`resource_metadata="${prmUrl}"`);
      expect(call.wwwAuthenticate).toContain('scope="mcp:tools"');

      const prm = await fetch(prmUrl);
      expect(prm.status).toBe(200);
      expect(await prm.json()).toMatchObject({ resource: `${url}/mcp`, authorization_servers: [url] });
      const as = await fetch(`${url}/.well-known/oauth-authorization-server`);
      expect(as.status).toBe(200);
      expect(await as.json()).toMatchObject({ issuer: url, registration_endpoint: `${url}/register`, token_endpoint: `${url}/token` });
    });

    it('lets the official MCP SDK client discover, register, authorize and call whoami as alice', async () => {
      sdk = await sdkClientWhoami(stack.example.mcpUrl);
      expect(sdk.who).toEqual({
        subject: 'alice',
        clientId: sdk.provider.clientInformation()!.client_id,
        scopes: ['mcp:tools'],
        resource: `${url}/mcp`,
      });
      expectInOrder(sdk.trace.lines(), [
        'POST /mcp 401',
        'GET /.well-known/oauth-protected-resource/mcp 200',
        'GET /.well-known/oauth-authorization-server 200',
        'POST /register 201',
        'POST /token 200',
        'POST /mcp 200',
      ]);
      // Stateless examples: the client's probe for an event stream is refused, after the bearer check.
      expect(sdk.trace.lines()).toContain('GET /mcp 405');
    });

    it('refuses a revoked access token at the next request', async () => {
      const token = sdk.provider.tokens()!.access_token;
      const clientId = sdk.provider.clientInformation()!.client_id;
      expect(whoOf(await postWhoami(stack.example.mcpUrl, token))).toMatchObject({ subject: 'alice', clientId });
      expect(await revoke(url, token, clientId)).toBe(200);
      const after = await postWhoami(stack.example.mcpUrl, token);
      expect(after.status).toBe(401);
      expect(after.wwwAuthenticate).toMatch(/^Bearer .*error="invalid_token"/);
      expect(after.wwwAuthenticate).toContain('resource_metadata=');
    });

    it('refuses a token issued for another resource', async () => {
      const other = await tokensFor(stack.proxy, { extra: { resource: `${url}/other` } });
      expect(other.body.scope).toBe('mcp:tools');
      const call = await postWhoami(stack.example.mcpUrl, other.accessToken);
      expect(call.status).toBe(401);
      expect(call.wwwAuthenticate).toMatch(/^Bearer .*error="invalid_token"/);
      // The same token is good for the resource it was issued for.
      await expect(stack.example.flowgate.verifyAccessToken(other.accessToken, { resource: `${url}/other` })).resolves.toMatchObject({ subject: 'alice' });
    });

    it('counts registrations per client address (the socket address reaches flowgate)', async () => {
      const registration = `${url}/register`;
      for (let i = 0; i < RATE; i++) expect(await registerFrom(registration, '127.0.0.2')).toBe(201);
      expect(await registerFrom(registration, '127.0.0.2')).toBe(429);
      expect(await registerFrom(registration, '127.0.0.3')).toBe(201);
    });
  });
}
