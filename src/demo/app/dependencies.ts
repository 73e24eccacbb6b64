/**
 * The demo's two heavy dependencies, loaded with dynamic `import()` so that the library
 * never needs them: oidc-provider (the upstream IdP) and the MCP TypeScript SDK (the demo
 * MCP server, and the client the built-in demo client calls it with). Both are
 * devDependencies of flowgate; a production install (`npm install --omit=dev`) has neither,
 * and `flowgate demo` then says how to get them in one line.
 *
 * @module
 */
import type * as McpServerModule from '@modelcontextprotocol/sdk/server/mcp.js';
import type * as WebTransportModule from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type * as ClientModule from '@modelcontextprotocol/sdk/client/index.js';
import type * as ClientTransportModule from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { FlowgateError } from '../../errors/flowgate-error.js';
import { loadOidcProvider } from '../upstream-idp/load-provider.js';
import { acquireQuietConsole } from '../upstream-idp/quiet.js';

/** The packages the demo needs beyond flowgate's own dependencies. */
export const DEMO_PACKAGES = ['oidc-provider', '@modelcontextprotocol/sdk'] as const;

/** What the demo uses of the MCP SDK. */
export interface DemoSdk {
  readonly McpServer: typeof McpServerModule.McpServer;
  readonly WebStandardStreamableHTTPServerTransport: typeof WebTransportModule.WebStandardStreamableHTTPServerTransport;
  readonly Client: typeof ClientModule.Client;
  readonly StreamableHTTPClientTransport: typeof ClientTransportModule.StreamableHTTPClientTransport;
}

/** A demo dependency is not installed. */
export class DemoDependencyError extends FlowgateError {
  /** The packages that could not be loaded. */
  readonly missing: readonly string[];

  constructor(missing: readonly string[], options?: { cause?: unknown }) {
    super(
      'ERR_DEMO_DEPENDENCIES',
      `the demo needs ${missing.join(' and ')} (${missing.length > 1 ? 'dev dependencies' : 'a dev dependency'} of flowgate, not installed here): ` +
        'run `npm install --include=dev` (or `npm install oidc-provider @modelcontextprotocol/sdk`), then try again',
      options,
    );
    this.missing = missing;
  }
}

/** True when `error` (or one of its causes) says a module or package could not be found. */
export function isModuleNotFound(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return true;
    const message = e instanceof Error ? e.message : String(e);
    if (/Cannot find (package|module)/i.test(message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

async function loadSdk(): Promise<DemoSdk> {
  const [mcp, web, client, transport] = await Promise.all([
    import('@modelcontextprotocol/sdk/server/mcp.js'),
    import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'),
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
  ]);
  return {
    McpServer: mcp.McpServer,
    WebStandardStreamableHTTPServerTransport: web.WebStandardStreamableHTTPServerTransport,
    Client: client.Client,
    StreamableHTTPClientTransport: transport.StreamableHTTPClientTransport,
  };
}

async function loadIdp(): Promise<void> {
  // Importing oidc-provider on Node 20 prints its "Unsupported runtime" warning: hide it.
  const release = acquireQuietConsole();
  try {
    await loadOidcProvider();
  } finally {
    release();
  }
}

/**
 * Loads oidc-provider and the MCP SDK, or throws a {@link DemoDependencyError} naming what
 * is missing. Any other failure is rethrown unchanged.
 */
export async function loadDemoDependencies(): Promise<DemoSdk> {
  const [idp, sdk] = await Promise.allSettled([loadIdp(), loadSdk()]);
  const missing: string[] = [];
  const causes: unknown[] = [];
  for (const [index, outcome] of [idp, sdk].entries()) {
    if (outcome.status === 'fulfilled') continue;
    if (!isModuleNotFound(outcome.reason)) throw outcome.reason;
    missing.push(DEMO_PACKAGES[index]!);
    causes.push(outcome.reason);
  }
  if (missing.length > 0) throw new DemoDependencyError(missing, { cause: causes[0] });
  return (sdk as PromiseFulfilledResult<DemoSdk>).value;
}
