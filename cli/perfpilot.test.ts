import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from './perfpilot.ts';

const run = promisify(execFile);

describe('perfpilot command', () => {
  it('prints help listing its usage when run through its bin on Node 24', async () => {
    const { stdout } = await run(process.execPath, ['bin/perfpilot.js', '--help']);
    expect(stdout).toContain('Usage: perfpilot');
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
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
