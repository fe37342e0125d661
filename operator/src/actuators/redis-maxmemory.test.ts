import { describe, expect, it } from 'vitest';
import { maxMemoryCeilingMiB } from '../tuning/tuning-spec.ts';
import { DEFAULT_TUNING_SPEC } from '../tuning/tuning-spec-from-profile.ts';
import type { TuningSpec } from '../tuning/types.ts';
import {
  isConfigRefusal,
  maxMemoryConf,
  type RedisMaxMemoryResult,
  redisMaxMemoryCeilingMiB,
  summarizeMaxMemoryResult,
} from './redis-maxmemory.ts';

const tuning = (limitMiB: number, knobMaxMiB: number): TuningSpec => ({
  ...DEFAULT_TUNING_SPEC,
  redisMemoryLimitMiB: limitMiB,
  knobs: { ...DEFAULT_TUNING_SPEC.knobs, redisMaxmemoryMiB: { min: 64, max: knobMaxMiB } },
});

describe('redisMaxMemoryCeilingMiB', () => {
  it.each([
    ['0.75 × the limit', tuning(1024, 100_000), [], 768],
    ['the knob max when it is lower', tuning(1024, 600), [], 600],
    ['0.75 × the smallest container limit', tuning(1024, 100_000), [2048, 900, 1024], 675],
    ['the spec limit when containers are larger', tuning(1024, 100_000), [4096, 2048], 768],
    ['rounded down', tuning(1023, 100_000), [], 767],
  ])('is %s', (_name, spec, limits, expected) => {
    expect(redisMaxMemoryCeilingMiB({ tuning: spec, containerMemoryLimitsMiB: limits })).toBe(expected);
  });

  it('is the tuning engine’s ceiling when no container limits are known', () => {
    expect(redisMaxMemoryCeilingMiB({ tuning: DEFAULT_TUNING_SPEC })).toBe(
      maxMemoryCeilingMiB(DEFAULT_TUNING_SPEC),
    );
  });
});

describe('maxMemoryConf', () => {
  it('is the line redis.conf includes, in MiB as Redis reads "mb"', () => {
    expect(maxMemoryConf(512)).toBe('maxmemory 512mb\n');
  });
});

describe('summarizeMaxMemoryResult', () => {
  const node = (port: number, role: 'master' | 'replica') => ({
    address: `10.0.0.1:${port}`,
    role,
    beforeBytes: 0,
    changed: true,
  });
  const base = {
    requestedMiB: 600,
    bytes: 600 * 1024 * 1024,
    nodes: [node(1, 'master'), node(2, 'replica')],
  };

  it.each([
    [
      'every node set and persisted',
      { ...base, kind: 'converged', failed: [], persisted: { kind: 'applied', object: 'ConfigMap p/redis' } },
      'maxmemory 600 MiB on 2 of 2 Redis nodes; persisted in ConfigMap p/redis',
    ],
    [
      'a master down',
      {
        ...base,
        kind: 'partial',
        failed: [{ address: '10.0.0.1:3', role: 'master', error: 'Connection is closed' }],
        persisted: { kind: 'unchanged', object: 'ConfigMap p/redis' },
      },
      'maxmemory 600 MiB on 2 of 3 Redis nodes; not set on 10.0.0.1:3 (master): Connection is closed; persisted in ConfigMap p/redis already',
    ],
    [
      'no ConfigMap configured',
      { ...base, kind: 'converged', failed: [], persisted: { kind: 'notConfigured' } },
      'maxmemory 600 MiB on 2 of 2 Redis nodes; not persisted: spec.metrics.redis.persist is not set, so a restarted node loses it',
    ],
    [
      'the ConfigMap key owned by kubectl',
      {
        ...base,
        kind: 'converged',
        failed: [],
        persisted: {
          kind: 'conflict',
          object: 'ConfigMap p/redis',
          conflicts: [{ manager: 'kubectl', field: '.data.maxmemory.conf' }],
          message: 'Apply failed with 1 conflict',
        },
      },
      'maxmemory 600 MiB on 2 of 2 Redis nodes; not persisted: in ConfigMap p/redis, .data.maxmemory.conf owned by "kubectl"',
    ],
    [
      'a refusal',
      { kind: 'refused', requestedMiB: 900, ceilingMiB: 768, message: 'maxmemory 900 MiB refused: …' },
      'maxmemory 900 MiB refused: …',
    ],
  ] as const)('says %s', (_name, result, expected) => {
    expect(summarizeMaxMemoryResult(result as RedisMaxMemoryResult)).toBe(expected);
  });
});

describe('isConfigRefusal', () => {
  it.each([
    [
      'CONFIG renamed away (Redis 7)',
      "127.0.0.1:6379: ERR unknown command 'CONFIG', with args beginning with: 'GET' 'maxmemory' ",
      true,
    ],
    [
      'CONFIG renamed away (Redis 6)',
      'ERR unknown command `CONFIG`, with args beginning with: `SET`, ',
      true,
    ],
    ['denied by ACL', "NOPERM User perfpilot has no permissions to run the 'config|set' command", true],
    [
      'denied by ACL (Redis 6)',
      "NOPERM this user has no permissions to run the 'config' command or its subcommand",
      true,
    ],
    ['a node down', '127.0.0.1:6379: connect ECONNREFUSED 127.0.0.1:6379', false],
    ['a wrong password', 'WRONGPASS invalid username-password pair or user is disabled.', false],
    ['another unknown command', "ERR unknown command 'CONFIGURE'", false],
  ])('%s: %s', (_name, message, refused) => {
    expect(isConfigRefusal(message)).toBe(refused);
  });
});
