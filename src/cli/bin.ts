#!/usr/bin/env node
/**
 * The `flowgate` executable.
 *
 * @module
 */
import { runCli } from './main.js';

process.exitCode = await runCli(process.argv.slice(2));
