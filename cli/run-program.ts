import { type Command, CommanderError } from 'commander';

/**
 * runProgram parses `argv` with `program` and returns the process exit code: commander's own for
 * usage errors and --help, 1 with the message for anything else thrown. The `perfpilot` command
 * and the operator's bundle share it.
 */
export async function runProgram(program: Command, argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode;
    }
    console.error(`${program.name()}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
