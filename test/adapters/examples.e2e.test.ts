/**
 * Every example (examples/*.ts, started through its exported `start`, exactly the code the
 * embedding guides show) passes the shared adapter checks of support/adapter-suite.ts:
 * discovery, the official MCP SDK client's cold start and `whoami`, a revoked token and a
 * token for another resource refused, registrations counted per client address.
 *
 * Checked by hand (the protection removed in a scratch copy of the repository, the test run
 * and seen failing, then restored):
 * - revocation: the `mapping.status !== 'active'` check in src/resource/verify-access-token.ts
 *   → "refuses a revoked access token" fails in every adapter;
 * - audience: `audience: resource` dropped from the signature check there → "refuses a token
 *   issued for another resource" fails in every adapter;
 * - per-address counting: before the fix in src/resource/node-http.ts (`flowgateListener`)
 *   and src/resource/hono.ts (`flowgateHono`), which dropped the socket, "counts
 *   registrations per client address" failed in all four.
 */
import { start as express } from '../../examples/express.js';
import { start as hono } from '../../examples/hono.js';
import { start as mcpSdk } from '../../examples/mcp-sdk.js';
import { start as nodeHttp } from '../../examples/node-http.js';
import { describeAdapter } from './support/adapter-suite.js';

describeAdapter('examples/express.ts (flowgate/express)', express);
describeAdapter('examples/hono.ts (flowgate/hono)', hono);
describeAdapter('examples/node-http.ts (flowgate/node)', nodeHttp);
describeAdapter('examples/mcp-sdk.ts (flowgate/mcp-sdk with the SDK\'s requireBearerAuth)', mcpSdk);
