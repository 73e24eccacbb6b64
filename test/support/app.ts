/**
 * flowgate without sockets: `createFlowgate(config).fetch(request)` on an in-memory store,
 * for tests of metadata, registration, cookies and headers. The upstream is configured but
 * never contacted unless a test drives a flow.
 */
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { createFlowgate, type Flowgate } from '../../src/flowgate.js';
import type { FlowgateConfigInput } from '../../src/config/schema.js';
import { testLogger } from './proxy.js';

/** A flowgate whose upstream is a (never contacted) GitHub-like provider. */
export async function openApp(config: Partial<FlowgateConfigInput> = {}, issuer = 'https://auth.example.com'): Promise<Flowgate> {
  return createFlowgate(
    {
      masterKey: generateMasterKeyText(),
      store: { sqlitePath: ':memory:' },
      upstream: {
        kind: 'oauth2',
        authorizationEndpoint: 'https://github.example/login/oauth/authorize',
        tokenEndpoint: 'https://github.example/login/oauth/access_token',
        userinfoEndpoint: 'https://api.github.example/user',
        clientId: 'upstream-id',
        clientSecret: 'upstream-secret-value',
      },
      ...config,
      server: { issuer, ...(config.server ?? {}) },
    } as FlowgateConfigInput,
    { logger: testLogger() },
  );
}

/** `fetch` against the app. */
export function call(app: Flowgate, path: string, init: RequestInit = {}, base?: string): Promise<Response> {
  return app.fetch(new Request(new URL(path, base ?? app.settings.baseUrl + '/'), init));
}
