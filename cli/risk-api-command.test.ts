import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
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

  it.each([
    [['loadtest', 'not a url'], 'is not an absolute URL'],
    [
      ['loadtest', 'http://127.0.0.1:1', '--connections', '0'],
      '--connections must be an integer from 1 to 10000',
    ],
    [
      ['loadtest', 'http://127.0.0.1:1', '--duration', '99999'],
      '--duration must be an integer from 1 to 3600',
    ],
  ])('loadtest %j fails before sending anything: %s', async (args, message) => {
    const failed = await perfpilot(...args).catch((e: { code: number; stderr: string }) => e);
    expect((failed as { code: number }).code).not.toBe(0);
    expect((failed as { stderr: string }).stderr).toContain(message);
  });
});
