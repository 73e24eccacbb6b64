/**
 * `flowgate demo`: flowgate, a real upstream IdP and a demo MCP server in one process, with
 * a start page and a built-in demo client. Not part of the library's public surface: it
 * needs the devDependencies oidc-provider and @modelcontextprotocol/sdk.
 *
 * @module
 */
export { DEMO_PACKAGES, DemoDependencyError, isModuleNotFound, loadDemoDependencies, type DemoSdk } from './dependencies.js';
export { DEFAULT_DEMO_PORT, DEMO_REGISTRATION_RATE, demoSettings, type DemoEnv, type DemoSettings } from './settings.js';
export { flowgateVersion, startDemo, type DemoOptions, type RunningDemo } from './start-demo.js';
export { MCP_PATH, MCP_SCOPE, type WhoamiAnswer } from './mcp-server.js';
