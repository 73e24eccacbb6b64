/**
 * `flowgate demo` without its devDependencies: one clear line that says how to install them,
 * exit 1. Simulated in-process by making the module resolution fail (nothing is uninstalled).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

function notFound(name: string): Error {
  return Object.assign(new Error(`Cannot find package '${name}' imported from /somewhere/flowgate/dist/src/demo/app/dependencies.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

async function runDemoCommand(): Promise<{ code: number; stderr: string; stdout: string }> {
  const { loadDemoDependencies, DemoDependencyError } = await import('../../src/demo/app/dependencies.js');
  // Never start a real demo from here: the dependencies must be missing first.
  await expect(loadDemoDependencies()).rejects.toBeInstanceOf(DemoDependencyError);
  const { runCli } = await import('../../src/cli/main.js');
  let stderr = '';
  let stdout = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  try {
    const code = await runCli(['demo']);
    return { code, stderr, stdout };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('flowgate demo without its dev dependencies', () => {
  afterEach(() => {
    vi.doUnmock('oidc-provider');
    vi.doUnmock('@modelcontextprotocol/sdk/server/mcp.js');
    vi.resetModules();
  });

  it('oidc-provider missing: one line naming it and the install command, exit 1', async () => {
    vi.resetModules();
    vi.doMock('oidc-provider', () => {
      throw notFound('oidc-provider');
    });
    const run = await runDemoCommand();
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^flowgate: the demo needs oidc-provider \(/);
    expect(run.stderr).toContain('npm install --include=dev');
    expect(run.stderr).toContain('npm install oidc-provider @modelcontextprotocol/sdk');
  });

  it('the MCP SDK missing: the same line, naming the SDK', async () => {
    vi.resetModules();
    vi.doMock('@modelcontextprotocol/sdk/server/mcp.js', () => {
      throw notFound('@modelcontextprotocol/sdk');
    });
    const run = await runDemoCommand();
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^flowgate: the demo needs @modelcontextprotocol\/sdk \(/);
    expect(run.stderr).toContain('npm install --include=dev');
  });

  it('any other import failure is not disguised as a missing package', async () => {
    const { isModuleNotFound } = await import('../../src/demo/app/dependencies.js');
    expect(isModuleNotFound(notFound('oidc-provider'))).toBe(true);
    expect(isModuleNotFound(new Error('wrapper', { cause: notFound('x') }))).toBe(true);
    expect(isModuleNotFound(new TypeError('URL.parse is not a function'))).toBe(false);
  });
});
