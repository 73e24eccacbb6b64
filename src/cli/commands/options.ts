/**
 * Options shared by the CLI's commands.
 *
 * @module
 */
import { Option } from 'commander';

/** `-c, --config <file>`: the configuration file (FLOWGATE_* variables override it). */
export function configOption(): Option {
  return new Option('-c, --config <file>', 'configuration file (.json, .js, .mjs)');
}
