#!/usr/bin/env node
/**
 * `vis-agn`: one program, one subcommand per file in ./commands (each exports `register(program)`).
 * Every failure leaves through `main`, which maps the error taxonomy to messages and exit codes.
 */

import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { Command, CommanderError, type Option } from 'commander';

import { EXIT_CODES, VisAgnError } from '../errors.js';
import * as calibrate from './commands/calibrate.js';
import * as calibrateFps from './commands/calibrate-fps.js';
import * as completeness from './commands/completeness.js';
import * as exportCommand from './commands/export.js';
import * as fitsinfo from './commands/fitsinfo.js';
import * as inject from './commands/inject.js';
import * as inspect from './commands/inspect.js';
import * as modelQuality from './commands/model-quality.js';
import * as plan from './commands/plan.js';
import * as report from './commands/report.js';
import * as run from './commands/run.js';
import * as simulate from './commands/simulate.js';
import * as slurm from './commands/slurm.js';
import * as stamps from './commands/stamps.js';
import * as start from './commands/start.js';
import * as train from './commands/train.js';

const COMMANDS: readonly { register(program: Command): void }[] = [start, run, plan, slurm, inject, inspect, report, fitsinfo, stamps, train, modelQuality, calibrate, calibrateFps, exportCommand, completeness, simulate];

function packageVersion(): string {
  // Two levels up from both src/cli and dist/cli.
  const packageJson = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('vis-agn')
    .description('find AGN and quasars in Euclid VIS images')
    .version(packageVersion())
    // One line for a mistake, with commander's nearest valid name joined onto it; the full help
    // would bury it.
    .configureOutput({ outputError: (text, write) => write(text.replace(/\n\(Did you mean (.+)\?\)\n$/, ' (did you mean $1?)\n')) })
    .exitOverride();
  for (const command of COMMANDS) command.register(program);
  for (const command of program.commands) command.exitOverride();
  checkRequiredOptionsAfterUnknownOnes(program);
  return program;
}

/**
 * Commander checks required options before unknown ones, so a mistyped required option (`--formt`)
 * reads "required option '--format' not specified" and a typo beside a missing `--out` is never named.
 * The required options are checked here instead, in a hook that runs after the unknown-option check
 * (and the arguments'), with commander's own message.
 */
function checkRequiredOptionsAfterUnknownOnes(program: Command): void {
  const required = new Set<Option>();
  const visit = (command: Command): void => {
    for (const option of command.options) {
      if (!option.mandatory) continue;
      required.add(option);
      option.makeOptionMandatory(false);
    }
    command.commands.forEach(visit);
  };
  visit(program);
  program.hook('preAction', (_program, actionCommand) => {
    for (let command: Command | null = actionCommand; command !== null; command = command.parent) {
      for (const option of command.options) {
        if (required.has(option) && command.getOptionValue(option.attributeName()) === undefined) {
          actionCommand.error(`error: required option '${option.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
        }
      }
    }
  });
}

/** Runs the command line and returns the exit code; messages go to stderr as `error: <message>`. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    // A command that printed its output but found a problem sets process.exitCode instead of throwing.
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_CODES.ok;
  } catch (error) {
    // Commander has already printed its own message (or the help and version it was asked for).
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    if (error instanceof VisAgnError) {
      process.stderr.write(`error: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`error: internal error, please report it with the command line:\n${(error as Error)?.stack ?? String(error)}\n`);
    return EXIT_CODES.internal;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  return script !== undefined && realpathSync(script) === fileURLToPath(import.meta.url);
}

if (isEntryPoint()) process.exitCode = await main();
