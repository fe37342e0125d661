/**
 * The operator on a Redis the toolkit did not create, in Auto mode, against real components (the
 * live loop's: control plane with controllers, Prometheus scraping test exporters) and two
 * standalone redis-servers of Debian's:
 * - "shop": the operator authenticates as an ACL user holding the least ACL the docs give, and
 *   maxmemory is persisted in a Bitnami-style ConfigMap whose `redis.conf` key holds a whole
 *   redis.conf: maxmemory is raised, and of that ConfigMap only the maxmemory line changes.
 * - "managed": CONFIG renamed away, as hosted services do: maxmemory is recommended, not applied,
 *   Degraded says KnobNotActuatable naming the node and Redis's error, and the pool is still tuned.
 * And `perfpilot doctor` on each, and on a Redis behind Sentinel (Debian's redis-sentinel).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CoreV1Api,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PerformanceProfile } from '../../operator/src/api/v1alpha1/index.ts';
import type { RunningOperator } from '../../operator/src/controller/operator.ts';
import type { DoctorLine } from '../../operator/src/onboard/doctor-report.ts';
import { waitFor } from '../cluster/processes.ts';
import {
  type RedisSentinelDeployment,
  type RedisServer,
  startRedis,
  startRedisSentinel,
} from '../cluster/redis.ts';
import {
  condition,
  evictionLoad,
  type LiveEnv,
  MIB,
  PINNED_EXCEPT_MAXMEMORY,
  PINNED_STACK_KNOBS,
  START,
  startLiveEnv,
} from './live-env.ts';

const ns = 'adopt';
const PASSWORD = 'adopt-redis-admin-2b9e';
const USER_PASSWORD = 'adopt-redis-perfpilot-6d0a';
const SENTINEL_PASSWORD = 'adopt-redis-sentinels-1e5f';
/** The least ACL the docs give for a standalone Redis: read INFO and ROLE, get and set CONFIG. */
const LEAST_ACL = '-@all +info +role +config|get +config|set';
const START_MIB = 16;
const evaluationMs = 10_000;
/** A Bitnami-style ConfigMap: redis.conf for every node, master.conf and replica.conf on top. */
const CONFIG_MAP = 'shop-redis-configuration';
const REDIS_CONF = [
  '# User-supplied common configuration:',
  '# Enable AOF https://redis.io/topics/persistence#append-only-file',
  'appendonly yes',
  '# Disable RDB persistence, AOF persistence already enabled.',
  'save ""',
  '# maxmemory <bytes>',
  `maxmemory ${START_MIB}mb`,
  'maxmemory-policy allkeys-lru',
  '# End of common configuration',
  '',
].join('\n');
const MASTER_CONF = 'dir /data\n# User-supplied master configuration:\nrename-command FLUSHDB ""\n';
const REPLICA_CONF = 'dir /data\nslave-read-only yes\n';

let env: LiveEnv;
let operator: RunningOperator;
let shop: RedisServer;
let managed: RedisServer;
let sentinel: RedisSentinelDeployment;
let dir: string;

/** doctorJson runs `perfpilot doctor … --json` as a user would, through its bin, against the test cluster. */
async function doctorJson(args: readonly string[]): Promise<DoctorLine[]> {
  const stdout = await new Promise<string>((resolve) => {
    execFile(
      process.execPath,
      ['bin/perfpilot.js', 'doctor', ...args, '--json'],
      { env: { ...process.env, KUBECONFIG: env.cp.kubeconfigPath }, timeout: 60_000 },
      (_err, out) => resolve(out),
    );
  });
  if (!stdout.startsWith('{')) throw new Error(`doctor printed no JSON: ${stdout}`);
  return (JSON.parse(stdout) as { checks: DoctorLine[] }).checks;
}

/** infoMaxmemory reads maxmemory from INFO memory (CONFIG may be renamed away). */
async function infoMaxmemory(server: RedisServer): Promise<number> {
  const client = server.client();
  try {
    return Number(/^maxmemory:(\d+)/m.exec(await client.info('memory'))?.[1]);
  } finally {
    client.disconnect();
  }
}

function withRedis(profile: PerformanceProfile, redis: Record<string, unknown>): PerformanceProfile {
  return {
    ...profile,
    spec: { ...profile.spec, metrics: { ...profile.spec.metrics, redis } },
  } as PerformanceProfile;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'perfpilot-adopt-redis-'));
  [shop, managed, sentinel] = await Promise.all([
    startRedis({
      password: PASSWORD,
      config: [
        `user perfpilot on >${USER_PASSWORD} ${LEAST_ACL}`,
        `maxmemory ${START_MIB}mb`,
        'maxmemory-policy allkeys-lru',
      ],
    }),
    startRedis({
      password: PASSWORD,
      config: ['rename-command CONFIG ""', `maxmemory ${START_MIB}mb`, 'maxmemory-policy allkeys-lru'],
    }),
    startRedisSentinel({
      password: PASSWORD,
      sentinelPassword: SENTINEL_PASSWORD,
      config: [`user perfpilot on >${USER_PASSWORD} ${LEAST_ACL} +config|rewrite`],
    }),
  ]);
  env = await startLiveEnv({
    namespace: ns,
    password: PASSWORD,
    standalone: {},
    stacks: [
      { name: 'shop-api', knobs: PINNED_STACK_KNOBS },
      // 8.1 of 9 pool connections busy per pod: 90 % > the 80 % SLO, so the pool is raised.
      {
        name: 'managed-api',
        series: { cpuSecondsPerTick: 0.025, activeConnections: [8.1, 8.1] },
        knobs: { ...START, poolSize: 7, maxOverflow: 2 },
      },
    ],
  });
  const core = env.cp.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'shop-redis-perfpilot' }, stringData: { password: USER_PASSWORD } },
  });
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'redis-sentinel-auth' }, stringData: { password: SENTINEL_PASSWORD } },
  });
  // The chart's ConfigMap as Helm applies it (server-side, manager helm), then the GitOps guide's
  // hand-over of the one key perfpilot writes: applied as perfpilot at its current value, then
  // applied by helm without it, so perfpilot is its only manager and helm keeps the others.
  const objects = KubernetesObjectApi.makeApiClient(env.cp.kubeConfig);
  const apply = async (manager: string, data: Record<string, string>, force = false) =>
    await objects.patch(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: CONFIG_MAP, namespace: ns },
        data,
      } as KubernetesObject,
      undefined,
      undefined,
      manager,
      force,
      PatchStrategy.ServerSideApply,
    );
  await apply('helm', { 'redis.conf': REDIS_CONF, 'master.conf': MASTER_CONF, 'replica.conf': REPLICA_CONF });
  await apply('perfpilot', { 'redis.conf': REDIS_CONF }, true);
  await apply('helm', { 'master.conf': MASTER_CONF, 'replica.conf': REPLICA_CONF });
  operator = await env.startOperator('adopt-redis-1');
}, 240_000);

afterAll(async () => {
  await operator?.stop();
  await env?.stop();
  await Promise.all([shop?.stop(), managed?.stop(), sentinel?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a Redis configured from a whole redis.conf, tuned as a least-ACL user', () => {
  it('raises maxmemory and rewrites only the maxmemory line of the ConfigMap’s redis.conf', async () => {
    await env.profiles.create(
      withRedis(
        env.profileFor('shop-api', 'Auto', 'cluster', {
          knobs: PINNED_EXCEPT_MAXMEMORY,
        }),
        {
          endpoints: [`${shop.host}:${shop.port}`],
          username: 'perfpilot',
          passwordSecretRef: { name: 'shop-redis-perfpilot' },
          persist: { configMap: { name: CONFIG_MAP, format: 'RedisConf' } },
        },
      ),
    );
    await env.waitForProfile(
      'shop-api',
      'metrics fresh',
      (p) => condition(p, 'MetricsAvailable')?.status === 'True',
      4 * evaluationMs,
    );
    const loader = shop.client();
    loader.on('error', () => {});
    const { stop } = evictionLoad(loader);
    try {
      const raised = await waitFor(
        'maxmemory raised',
        async () => {
          const bytes = await infoMaxmemory(shop);
          return bytes > START_MIB * MIB ? bytes : undefined;
        },
        { timeoutMs: 12 * evaluationMs, intervalMs: 200 },
      );
      const mib = raised / MIB;
      expect(Number.isInteger(mib)).toBe(true);
      const configMap = await waitFor(
        `maxmemory ${mib}mb in redis.conf`,
        async () => {
          const cm = await env.cp.kubeConfig
            .makeApiClient(CoreV1Api)
            .readNamespacedConfigMap({ namespace: ns, name: CONFIG_MAP });
          return cm.data?.['redis.conf']?.includes(`\nmaxmemory ${mib}mb\n`) ? cm : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      expect(configMap.data).toEqual({
        'redis.conf': REDIS_CONF.replace(`\nmaxmemory ${START_MIB}mb\n`, `\nmaxmemory ${mib}mb\n`),
        'master.conf': MASTER_CONF,
        'replica.conf': REPLICA_CONF,
      });
      const p = await env.waitForProfile(
        'shop-api',
        'history written',
        (p) =>
          (p.status?.history ?? []).some((d) => d.knob === 'redisMaxmemoryMiB' && d.outcome === 'Applied'),
        4 * evaluationMs,
      );
      expect(p.status?.history?.find((d) => d.knob === 'redisMaxmemoryMiB')).toMatchObject({
        from: START_MIB,
        to: mib,
      });
      const events = await env.eventsOf('shop-api');
      expect(
        events.some(
          (e) =>
            e.reason === 'Applied' &&
            e.note.includes(`persisted in ConfigMap ${ns}/${CONFIG_MAP} key "redis.conf"`),
        ),
      ).toBe(true);
    } finally {
      await stop();
    }
  }, 200_000);
});

describe('a managed Redis that refuses CONFIG', () => {
  it('recommends maxmemory without applying it, says KnobNotActuatable naming the node, and still tunes the pool', async () => {
    const node = `${managed.host}:${managed.port}`;
    await env.profiles.create(
      withRedis(env.profileFor('managed-api', 'Auto', 'cluster'), {
        endpoints: [node],
        passwordSecretRef: { name: 'redis-auth' },
      }),
    );
    const loader = managed.client();
    loader.on('error', () => {});
    const { stop } = evictionLoad(loader);
    try {
      const p = await env.waitForProfile(
        'managed-api',
        'KnobNotActuatable and the pool raised',
        (p) =>
          condition(p, 'Degraded')?.reason === 'KnobNotActuatable' &&
          (p.status?.history ?? []).some((d) => d.knob === 'poolSize' && d.outcome === 'Applied'),
        16 * evaluationMs,
      );
      const degraded = condition(p, 'Degraded');
      expect(degraded?.status).toBe('True');
      expect(degraded?.message).toContain(`CONFIG refused by ${node}: ERR unknown command 'CONFIG'`);
      const recommended = p.status?.recommended?.redisMaxmemoryMiB ?? 0;
      expect(recommended).toBeGreaterThan(START_MIB);
      expect(degraded?.message).toContain(`maxmemory ${recommended} MiB recommended, not applied`);
      // Measured from INFO, never changed.
      expect(p.status?.current?.redisMaxmemoryMiB).toBe(START_MIB);
      expect(await infoMaxmemory(managed)).toBe(START_MIB * MIB);
      expect(
        (p.status?.history ?? []).some((d) => d.knob === 'redisMaxmemoryMiB' && d.outcome === 'Applied'),
      ).toBe(false);
      const pool = p.status?.history?.find((d) => d.knob === 'poolSize');
      expect(Number((await env.poolOf('managed-api'))?.DB_POOL_SIZE)).toBe(pool?.to);
      expect(pool?.to).toBeGreaterThan(7);
    } finally {
      await stop();
    }
  }, 240_000);
});

describe('perfpilot doctor on these forms', () => {
  it('names the ACL user and what the operator will rewrite in the redis.conf key', async () => {
    const lines = await doctorJson([`${ns}/shop-api`]);
    // The least ACL leaves out ACL DRYRUN, so CONFIG SET cannot be checked without running it.
    expect(lines.find((l) => l.check === `Redis ${shop.host}:${shop.port}`)).toMatchObject({
      verdict: 'warn',
      detail: expect.stringMatching(
        /^master, authenticated as perfpilot, maxmemory \d+; CONFIG SET not checked: ACL DRYRUN is not available \(NOPERM/,
      ),
    });
    expect(lines.find((l) => l.check === 'Redis persistence')).toMatchObject({
      verdict: 'ok',
      detail: expect.stringMatching(
        new RegExp(
          `^ConfigMap ${ns}/${CONFIG_MAP} key "redis.conf": "maxmemory \\d+mb" rewritten at each change`,
        ),
      ),
    });
  });

  it('says what the operator does with a Redis that refuses CONFIG', async () => {
    const lines = await doctorJson([`${ns}/managed-api`]);
    const line = lines.find((l) => l.check === `Redis ${managed.host}:${managed.port}`);
    expect(line?.verdict).toBe('fail');
    expect(line?.detail).toContain("CONFIG GET maxmemory refused: ERR unknown command 'CONFIG'");
    expect(line?.fix).toContain('Degraded says KnobNotActuatable, and the other knobs are still tuned');
  });

  it('finds the master and replica through Sentinel and checks CONFIG REWRITE on each', async () => {
    const file = join(dir, 'sentinel.yaml');
    const profile = withRedis(env.profileFor('shop-api', 'Recommend', 'cluster'), {
      sentinel: {
        endpoints: sentinel.sentinels.map((s) => `${s.host}:${s.port}`),
        masterName: sentinel.masterName,
        passwordSecretRef: { name: 'redis-sentinel-auth', key: 'password' },
      },
      username: 'perfpilot',
      passwordSecretRef: { name: 'shop-redis-perfpilot', key: 'password' },
      persist: { configRewrite: true },
    });
    writeFileSync(file, JSON.stringify(profile));
    const lines = await doctorJson(['--profile', file]);
    const [master, replica] = sentinel.nodes.map((n) => `${n.host}:${n.port}`);
    expect(lines.find((l) => l.check === 'Redis Sentinel')).toEqual({
      verdict: 'ok',
      check: 'Redis Sentinel',
      detail: `master "${sentinel.masterName}" at ${master} with 1 replica(s), found through the Sentinels at every cycle`,
    });
    for (const node of [master, replica]) {
      expect(lines.find((l) => l.check === `Redis ${node}`)?.detail).toMatch(/authenticated as perfpilot/);
      expect(lines.find((l) => l.check === `Redis ${node} CONFIG REWRITE`)).toMatchObject({
        verdict: 'warn',
        detail: expect.stringMatching(
          /^writes .*redis-\d+\.conf; permission not checked: ACL DRYRUN is not available \(NOPERM/,
        ),
      });
    }
    // A wrong Sentinel password is named as such.
    const wrong = withRedis(profile, {
      ...profile.spec.metrics.redis,
      sentinel: {
        ...profile.spec.metrics.redis?.sentinel,
        passwordSecretRef: { name: 'shop-redis-perfpilot', key: 'password' },
      },
    });
    writeFileSync(file, JSON.stringify(wrong));
    const denied = (await doctorJson(['--profile', file])).filter((l) =>
      l.check.startsWith('Redis Sentinel '),
    );
    expect(denied).toHaveLength(3);
    expect(denied[0]?.fix).toMatch(/^check the Secret in spec\.metrics\.redis\.sentinel\.passwordSecretRef/);
  });
});
