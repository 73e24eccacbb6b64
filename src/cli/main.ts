/**
 * The `flowgate` command line: commander wiring, and the one place failures become a
 * clear message and an exit code.
 *
 * @module
 */
import { Command, CommanderError } from 'commander';
import { registerAudit } from './commands/audit.js';
import { registerClients } from './commands/clients.js';
import { registerGrants } from './commands/grants.js';
import { registerDemo } from './commands/demo.js';
import { registerKeys } from './commands/keys.js';
import { registerMigrate } from './commands/migrate.js';
import { registerServe } from './commands/serve.js';
import { registerSweep } from './commands/sweep.js';
import { registerReplay } from './commands/replay.js';
import { registerFlows } from './commands/flows.js';
import { registerExport } from './commands/export.js';
import { registerImport } from './commands/import.js';
import { registerReport } from './commands/report.js';
import { registerPrune } from './commands/prune.js';
import { registerVerifyArchive } from './commands/verify-archive.js';
import { registerForget } from './commands/forget.js';
import { describeFailure, EXIT } from './output.js';

/** Builds the command tree. */
export function buildProgram(): Command {
  const program = new Command('flowgate')
    .description('an OAuth 2.1 proxy for MCP servers, built as an event-sourced auth-flow engine')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerMigrate(program);
  registerServe(program);
  registerKeys(program);
  registerDemo(program);
  registerClients(program);
  registerGrants(program);
  registerSweep(program);
  registerAudit(program);
  registerReplay(program);
  registerFlows(program);
  registerExport(program);
  registerImport(program);
  registerReport(program);
  registerPrune(program);
  registerVerifyArchive(program);
  registerForget(program);
  return program;
}

/** Runs the CLI with `argv` (without the node and script entries); resolves to the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`flowgate: ${describeFailure(error)}\n`);
    return EXIT.failure;
  }
}
