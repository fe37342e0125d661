import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { OPERATOR_MALLOC_ENV, OPERATOR_NODE_FLAGS, operatorEnvironment } from '../operator/src/node-flags.ts';
import { buildProgram, main } from './perfpilot.ts';

const run = promisify(execFile);

describe('perfpilot command', () => {
  it('prints help listing its usage when run through its bin on Node 24', async () => {
    const { stdout } = await run(process.execPath, ['bin/perfpilot.js', '--help']);
    expect(stdout).toContain('Usage: perfpilot');
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  it('starts the operator again with its heap flags and allocator setting, unless the environment gives them', async () => {
    // A preload that reports the flags and the allocator setting of every process it runs in:
    // before and after the restart.
    const report =
      'data:text/javascript,console.error("execArgv " + JSON.stringify(process.execArgv) + " " + process.env.MALLOC_ARENA_MAX)';
    const runWith = async (env: NodeJS.ProcessEnv) =>
      (
        await run(process.execPath, ['--import', report, 'bin/perfpilot.js', 'operator', '--help'], { env })
      ).stderr
        .trim()
        .split('\n');
    const { NODE_OPTIONS: _unset, MALLOC_ARENA_MAX: _unsetToo, ...env } = process.env;
    const restarted = await runWith(env);
    expect(restarted).toHaveLength(2);
    expect(restarted[1]).toContain(JSON.stringify(OPERATOR_NODE_FLAGS).slice(1, -1));
    expect(restarted[1]).toMatch(new RegExp(` ${OPERATOR_MALLOC_ENV.MALLOC_ARENA_MAX}$`));
    expect(await runWith({ ...env, ...operatorEnvironment() })).toHaveLength(1);
    // Flags given but not the allocator's setting: one restart, for it alone.
    const flagsOnly = await runWith({ ...env, NODE_OPTIONS: OPERATOR_NODE_FLAGS.join(' ') });
    expect(flagsOnly).toHaveLength(2);
    expect(flagsOnly[1]).not.toContain('max-semi-space-size');
  });

  it('keeps every hand-wrapped description as written: no line longer than the 80 columns help wraps at', () => {
    // commander wraps each line of a command's description at 80 columns when not on a terminal:
    // one long line wraps cleanly, but a hand-wrapped line longer than that is broken in two,
    // leaving its last words on a line of their own.
    for (const command of [buildProgram(), ...buildProgram().commands]) {
      const lines = command.description().split('\n');
      const long = lines.length > 1 ? lines.filter((line) => line.length > 80) : [];
      expect({ command: command.name(), long }).toEqual({ command: command.name(), long: [] });
    }
  });

  it('rejects an unknown subcommand with a non-zero exit code', async () => {
    const errors: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      errors.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(await main(['node', 'perfpilot', 'no-such-command'])).not.toBe(0);
    } finally {
      process.stderr.write = original;
    }
    expect(errors.join('')).toMatch(/no-such-command/);
  });
});
