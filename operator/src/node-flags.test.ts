import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { missingNodeFlags, OPERATOR_NODE_FLAGS } from './node-flags.ts';

const run = promisify(execFile);

describe('missingNodeFlags', () => {
  const wanted = ['--max-semi-space-size=8', '--max-old-space-size=160'];
  it.each<{ name: string; execArgv: string[]; nodeOptions?: string; missing: string[] }>([
    { name: 'none given', execArgv: [], missing: wanted },
    { name: 'both on the command line', execArgv: [...wanted], missing: [] },
    {
      name: 'one in NODE_OPTIONS, with its own value',
      execArgv: [],
      nodeOptions: '--enable-source-maps --max-old-space-size=512',
      missing: ['--max-semi-space-size=8'],
    },
    {
      name: 'V8 underscore spelling',
      execArgv: ['--max_semi_space_size=16'],
      missing: ['--max-old-space-size=160'],
    },
    { name: 'other flags only', execArgv: ['--cpu-prof'], nodeOptions: '', missing: wanted },
  ])('$name', ({ execArgv, nodeOptions, missing }) => {
    expect(missingNodeFlags(wanted, execArgv, nodeOptions)).toEqual(missing);
  });

  it('Node accepts the operator’s flags, and they bound its heap', async () => {
    const { stdout } = await run(process.execPath, [
      ...OPERATOR_NODE_FLAGS,
      '-p',
      'require("node:v8").getHeapStatistics().heap_size_limit',
    ]);
    expect(Number(stdout) / 2 ** 20).toBeLessThan(200);
  });
});
