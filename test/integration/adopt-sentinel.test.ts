/**
 * A Redis the toolkit did not create, behind Sentinel: Debian's redis-server (a master and a
 * replica, each started from a config file, the operator's ACL user holding the least ACL) and
 * three of Debian's redis-sentinel with a password of their own. The maxmemory actuator and the
 * INFO reader find the nodes through the Sentinels; maxmemory is set on both and written to their
 * config files by CONFIG REWRITE; after SENTINEL FAILOVER the new master holds it and nothing is
 * left to fix. A user whose ACL denies CONFIG SET gets maxmemory recommended, not applied.
 */
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActuatorContext } from '../../operator/src/actuators/context.ts';
import { makeTargetClients } from '../../operator/src/actuators/context.ts';
import {
  applyRedisMaxMemory,
  BYTES_PER_MIB,
  observeRedisMaxMemory,
  type RedisTarget,
} from '../../operator/src/actuators/redis-maxmemory.ts';
import { RedisInfoReader } from '../../operator/src/metrics/redis-source.ts';
import { RedisConnections } from '../../operator/src/redis/connections.ts';
import { DEFAULT_TUNING_SPEC } from '../../operator/src/tuning/tuning-spec-from-profile.ts';
import { type RedisSentinelDeployment, startRedisSentinel } from '../cluster/redis.ts';

const ADMIN_PASSWORD = 'adopt-sentinel-admin-5d1c';
const USER_PASSWORD = 'adopt-sentinel-perfpilot-8a2e';
const READER_PASSWORD = 'adopt-sentinel-reader-3f7b';
const SENTINEL_PASSWORD = 'adopt-sentinel-sentinels-9c4d';
/** The least ACL the docs give for a Sentinel-managed Redis persisted by CONFIG REWRITE. */
const LEAST_ACL = '-@all +info +role +config|get +config|set +config|rewrite';
const secrets: Record<string, string> = {
  'redis-perfpilot': USER_PASSWORD,
  'redis-reader': READER_PASSWORD,
  'redis-sentinel': SENTINEL_PASSWORD,
};
const ceiling = { tuning: DEFAULT_TUNING_SPEC };

let deployment: RedisSentinelDeployment;
let redis: RedisConnections;
let ctx: Pick<ActuatorContext, 'clients' | 'redis' | 'readSecret'>;
let target: RedisTarget;

const address = (port: number) => `127.0.0.1:${port}`;

/** maxmemoryOf reads CONFIG GET maxmemory from one node as the admin, over a connection of its own. */
async function maxmemoryOf(port: number): Promise<number> {
  const client = new Redis({ host: '127.0.0.1', port, password: ADMIN_PASSWORD, lazyConnect: true });
  try {
    await client.connect();
    const [, value] = (await client.call('CONFIG', 'GET', 'maxmemory')) as [string, string];
    return Number(value);
  } finally {
    client.disconnect();
  }
}

beforeAll(async () => {
  deployment = await startRedisSentinel({
    password: ADMIN_PASSWORD,
    sentinelPassword: SENTINEL_PASSWORD,
    config: [
      `user perfpilot on >${USER_PASSWORD} ${LEAST_ACL}`,
      `user reader on >${READER_PASSWORD} -@all +info +role +config|get`,
    ],
  });
  redis = new RedisConnections();
  // Persistence by CONFIG REWRITE needs no Kubernetes: these clients point nowhere.
  const nowhere = new KubeConfig();
  nowhere.loadFromClusterAndUser(
    { name: 'nowhere', server: 'https://127.0.0.1:1', skipTLSVerify: true },
    { name: 'nobody' },
  );
  ctx = {
    clients: makeTargetClients(nowhere),
    redis,
    readSecret: async (ref) => {
      const value = secrets[ref.name];
      if (value === undefined) throw new Error(`no Secret ${ref.name}`);
      return value;
    },
  };
  target = {
    namespace: 'shop',
    endpoints: [],
    sentinel: {
      endpoints: deployment.sentinels.map((s) => address(s.port)),
      masterName: deployment.masterName,
      passwordSecretRef: { name: 'redis-sentinel', key: 'password' },
    },
    username: 'perfpilot',
    passwordSecretRef: { name: 'redis-perfpilot', key: 'password' },
    persist: { configRewrite: true },
  };
}, 60_000);

afterAll(async () => {
  await redis?.close();
  await deployment?.stop();
});

describe('Redis behind Sentinel, as an ACL user with the least ACL', () => {
  it('sets maxmemory on the master and the replica the Sentinels name, and writes it to their config files', async () => {
    const [master, replica] = deployment.nodes.map((n) => n.port) as [number, number];
    const result = await applyRedisMaxMemory(ctx, target, 48, ceiling);
    expect(result.kind).toBe('converged');
    if (result.kind === 'refused') throw new Error(result.message);
    expect(result.nodes.map((n) => [n.address, n.role, n.changed])).toEqual(
      [
        [address(master), 'master', true],
        [address(replica), 'replica', true],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expect(result.persisted).toEqual({
      kind: 'applied',
      object: 'the config files of 2 nodes (CONFIG REWRITE)',
    });
    for (const port of [master, replica]) {
      expect(await maxmemoryOf(port)).toBe(48 * BYTES_PER_MIB);
      expect(readFileSync(deployment.configFileOf(port), 'utf8')).toMatch(/^maxmemory 48mb$/m);
    }
  });

  it('reads INFO from the master and the replica through the Sentinels', async () => {
    const reader = new RedisInfoReader(
      {
        endpoints: [],
        sentinel: {
          endpoints: deployment.sentinels.map((s) => address(s.port)),
          masterName: deployment.masterName,
          password: SENTINEL_PASSWORD,
        },
        username: 'perfpilot',
        password: USER_PASSWORD,
        secondReadingDelayMs: 200,
      },
      redis,
    );
    const measured = await reader.read(() => Date.now() / 1000);
    expect(measured.unknown).toEqual([]);
    expect([measured.masters, measured.replicas]).toEqual([1, 1]);
    expect(measured.signals?.maxMemoryBytes).toBe(48 * BYTES_PER_MIB);
  });

  it('after SENTINEL FAILOVER the new master still holds maxmemory, and the next cycle finds nothing to fix', async () => {
    const before = await deployment.masterPort();
    const after = await deployment.failover();
    expect(after).not.toBe(before);
    const observed = await observeRedisMaxMemory(ctx, target);
    expect(observed.failed).toEqual([]);
    expect(observed.divergent).toBe(false);
    expect(observed.maxMemoryMiB).toBe(48);
    expect(observed.nodes.find((n) => n.role === 'master')?.address).toBe(address(after));
    // The next cycle sets the same value again: every node already holds it.
    const again = await applyRedisMaxMemory(ctx, target, 48, ceiling);
    expect(again.kind).toBe('converged');
    if (again.kind === 'refused') throw new Error(again.message);
    expect(again.nodes.map((n) => n.changed)).toEqual([false, false]);
    expect(again.nodes.find((n) => n.role === 'master')?.address).toBe(address(after));
  }, 60_000);

  it('with an ACL that denies CONFIG SET: maxmemory is read, recommended and not applied, naming the nodes and Redis’s error', async () => {
    const reader: RedisTarget = {
      ...target,
      username: 'reader',
      passwordSecretRef: { name: 'redis-reader', key: 'password' },
    };
    const observed = await observeRedisMaxMemory(ctx, reader);
    expect(observed.maxMemoryMiB).toBe(48);
    const result = await applyRedisMaxMemory(ctx, reader, 64, ceiling);
    expect(result.kind).toBe('refused');
    if (result.kind !== 'refused') throw new Error('applied');
    expect(result.configRefused?.map((f) => f.address).sort()).toEqual(
      deployment.nodes.map((n) => address(n.port)).sort(),
    );
    expect(result.message).toMatch(
      /^maxmemory 64 MiB recommended, not applied: CONFIG refused by 127\.0\.0\.1:\d+: NOPERM/,
    );
    expect(result.message).toContain("'config|set'");
    for (const node of deployment.nodes) expect(await maxmemoryOf(node.port)).toBe(48 * BYTES_PER_MIB);
  });

  it('never puts a password in a result', async () => {
    const text = JSON.stringify([
      await observeRedisMaxMemory(ctx, target),
      await applyRedisMaxMemory(ctx, { ...target, username: 'reader' }, 64, ceiling),
    ]);
    for (const secret of Object.values(secrets)) expect(text).not.toContain(secret);
  });
});
