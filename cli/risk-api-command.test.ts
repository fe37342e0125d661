import { execFile } from 'node:child_process';
import { type AddressInfo, connect, createServer } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RISK_API_ENVIRONMENT } from '../risk-api/src/config.ts';

const run = promisify(execFile);
const perfpilot = (...args: string[]) => run(process.execPath, ['bin/perfpilot.js', ...args]);

describe('perfpilot risk-api and loadtest', () => {
  it('risk-api --help names a flag for every environment variable the API reads', async () => {
    const { stdout } = await perfpilot('risk-api', '--help');
    for (const [variable, flag] of Object.entries(RISK_API_ENVIRONMENT)) {
      expect(stdout, variable).toContain(`${flag} <value>`);
      expect(stdout, variable).toContain(`[${variable}]`);
    }
    expect(stdout).toContain('seed');
  });

  it('risk-api stops with a message naming the variable when a setting is out of range', async () => {
    const failed = await perfpilot('risk-api', '--db-pool-size', '0').catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain(
      'DB_POOL_SIZE is "0"; it must be an integer from 1 to 1000',
    );
  });

  it('loadtest --help lists rate, duration, connections, phases and json', async () => {
    const { stdout } = await perfpilot('loadtest', '--help');
    for (const option of ['--rate', '--duration', '--connections', '--phases <file>', '--mix', '--json']) {
      expect(stdout).toContain(option);
    }
  });

  describe('loadtest with a bad argument', () => {
    // A listener on loopback stands where the API would be, and records every connection made to it.
    const seen: number[] = [];
    const listener = createServer((socket) => {
      seen.push(socket.remotePort ?? 0);
      socket.destroy();
    });
    let url = '';
    beforeAll(async () => {
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

    /**
     * connectionsSeen: the connections the listener accepted, after one of our own. The kernel
     * hands connections over in order, so once ours is seen every earlier one has been too.
     */
    async function connectionsSeen(): Promise<number[]> {
      const marker = connect((listener.address() as AddressInfo).port, '127.0.0.1');
      const port = await new Promise<number>((resolve) =>
        marker.once('connect', () => resolve(marker.localPort ?? 0)),
      );
      await vi.waitFor(() => expect(seen).toContain(port), { timeout: 5000 });
      marker.destroy();
      return seen.filter((p) => p !== port);
    }

    it.each<[string, string, (url: string) => string[]]>([
      ['host:port without a scheme', 'is not an absolute URL', (u) => [u.replace('http://', '')]],
      [
        '--connections 0',
        '--connections must be an integer from 1 to 10000',
        (u) => [u, '--connections', '0'],
      ],
      ['--duration 99999', '--duration must be an integer from 1 to 3600', (u) => [u, '--duration', '99999']],
    ])('loadtest with %s fails before sending anything: %s', async (_what, message, args) => {
      seen.length = 0;
      const failed = await perfpilot('loadtest', ...args(url)).catch(
        (e: { code: number; stderr: string }) => e,
      );
      expect((failed as { code: number }).code).not.toBe(0);
      expect((failed as { stderr: string }).stderr).toContain(message);
      expect(await connectionsSeen()).toEqual([]);
    });

    it('a valid loadtest does reach the listener (so the cases above would see a request)', async () => {
      seen.length = 0;
      await perfpilot('loadtest', url, '--duration', '1', '--rate', '5').catch(() => undefined);
      expect((await connectionsSeen()).length).toBeGreaterThan(0);
    });
  });
});
