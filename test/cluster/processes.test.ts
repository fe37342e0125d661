import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { isAlive, RunDirectory } from './processes.ts';

describe('RunDirectory', () => {
  it('dispose() stops its processes and removes the directory', async () => {
    const dir = new RunDirectory('perfpilot-proc-test');
    const sleeper = dir.start('sleeper', 'sleep', ['600']);
    expect(isAlive(sleeper.pid)).toBe(true);
    await dir.dispose();
    expect(isAlive(sleeper.pid)).toBe(false);
    expect(existsSync(dir.path)).toBe(false);
  });

  it('cleans up after an owner that was killed without calling dispose()', async () => {
    // The owner is a separate Node process that starts a sleeper, prints what it made, and hangs.
    const script = `
      const { RunDirectory } = await import(${JSON.stringify(new URL('./processes.ts', import.meta.url).href)});
      const dir = new RunDirectory('perfpilot-proc-test');
      const p = dir.start('sleeper', 'sleep', ['600']);
      console.log(JSON.stringify({ path: dir.path, pid: p.pid }));
      setInterval(() => {}, 1000);`;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const made = await new Promise<{ path: string; pid: number }>((resolve) => {
      owner.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString())));
    });
    expect(isAlive(made.pid)).toBe(true);
    owner.kill('SIGKILL');
    await vi.waitFor(
      () => {
        expect(isAlive(made.pid)).toBe(false);
        expect(existsSync(made.path)).toBe(false);
      },
      { timeout: 15_000, interval: 200 },
    );
  });
});
