import { Command } from 'commander';
import { demoCommand } from './demo-command.ts';
import { doctorCommand } from './doctor-command.ts';
import { initCommand } from './init-command.ts';
import { loadtestCommand } from './loadtest-command.ts';
import { operatorCommand } from './operator-command.ts';
import { recommendCommand } from './recommend-command.ts';
import { riskApiCommand } from './risk-api-command.ts';
import { runProgram } from './run-program.ts';
import { simulateCommand } from './simulate-command.ts';
import { synthCommand } from './synth-command.ts';

/** The version printed by `perfpilot --version`; kept in step with package.json. */
export const PERFPILOT_VERSION = '0.1.0';

/**
 * Builds the `perfpilot` command tree. Each half of the project registers its subcommands here,
 * so `perfpilot --help` lists everything a user can run.
 */
export function buildProgram(): Command {
  const program = new Command('perfpilot')
    .description(
      'Keeps a Redis-cached API on Kubernetes fast without over-provisioning:\n' +
        'synthesizes its manifests and tunes its DB pool, Redis memory and replica\n' +
        'bounds.',
    )
    .version(PERFPILOT_VERSION)
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(synthCommand());
  program.addCommand(simulateCommand());
  program.addCommand(operatorCommand());
  program.addCommand(recommendCommand());
  program.addCommand(initCommand());
  program.addCommand(doctorCommand());
  program.addCommand(riskApiCommand());
  program.addCommand(loadtestCommand());
  program.addCommand(demoCommand());
  return program;
}

/** Runs the command line and returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length <= 2) {
    program.outputHelp();
    return 0;
  }
  return await runProgram(program, argv);
}
