/**
 * Runs once before the suite: builds dist/ (the CLI tests run the compiled bin) and finds
 * the PostgreSQL server the PostgreSQL cases use. In CI a missing server fails the run;
 * locally the cases are skipped, loudly.
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string | null;
    buildError: string | null;
  }
}

const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function banner(lines: string[]): void {
  const bar = '!'.repeat(78);
  process.stderr.write(`\n${bar}\n${lines.map((l) => `!! ${l}`).join('\n')}\n${bar}\n\n`);
}

export default async function setup(project: TestProject): Promise<() => void> {
  // The CLI tests run the compiled bin; a failed build fails them (and only them).
  let buildError: string | null = null;
  if (process.env.FLOWGATE_TEST_SKIP_BUILD === '1' && !process.env.CI) {
    process.stderr.write('flowgate tests: FLOWGATE_TEST_SKIP_BUILD=1, using the existing dist/\n');
  } else try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'pipe', encoding: 'utf8' });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    buildError = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message;
    process.stderr.write(`flowgate tests: npm run build FAILED; the CLI tests will fail:\n${buildError}\n`);
  }
  project.provide('buildError', buildError);

  const configured = process.env.FLOWGATE_TEST_PG_URL;
  const candidate = configured ?? DEFAULT_PG_URL;
  const ok = await reachable(candidate);
  if (!ok && (process.env.CI || configured)) {
    throw new Error(`PostgreSQL is required here but ${candidate.replace(/:[^:@/]*@/, ':***@')} does not answer`);
  }
  project.provide('pgUrl', ok ? candidate : null);
  if (ok) {
    process.stderr.write(`flowgate tests: PostgreSQL cases run against ${candidate.replace(/:[^:@/]*@/, ':***@')}\n`);
    return () => {};
  }
  const message = [
    'PostgreSQL is not reachable: every PostgreSQL case in this run is SKIPPED.',
    `Set FLOWGATE_TEST_PG_URL (tried ${candidate}) to run them; CI never skips them.`,
  ];
  banner(message);
  return () => banner(message);
}
