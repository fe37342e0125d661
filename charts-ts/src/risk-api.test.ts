import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { configHash } from '../../operator/src/api/v1alpha1/config-hash.ts';
import { configFromEnvironment, RISK_API_ENVIRONMENT } from '../../risk-api/src/config.ts';
import { defaultValues } from './load-values.ts';
import { RiskApi, type RiskApiProps, TUNING_MOUNT_PATH, tuningEnvironment } from './risk-api.ts';

const values = defaultValues();
const props: RiskApiProps = {
  namespace: 'perfpilot',
  config: values.api,
  redisHost: 'redis-cluster.perfpilot.svc.cluster.local',
  redisPort: 6379,
  redisPasswordSecret: { name: 'redis-auth', key: 'password' },
  monitoringNamespace: 'monitoring',
};

function synth(overrides: Partial<RiskApiProps> = {}) {
  const chart = Testing.chart();
  new RiskApi(chart, 'api', { ...props, ...overrides });
  // biome-ignore lint/suspicious/noExplicitAny: manifests are inspected field by field
  return Testing.synth(chart) as { kind: string; spec?: any; data?: Record<string, string> }[];
}

describe('RiskApi', () => {
  it('synthesizes tuning ConfigMap, Deployment, Service, PDB and NetworkPolicy', () => {
    expect(synth()).toMatchSnapshot();
  });

  it('puts the seed’s environment in the tuning ConfigMap', () => {
    expect(tuningEnvironment(values.api, 'redis', 6379)).toEqual({
      DB_POOL_SIZE: '20',
      DB_MAX_OVERFLOW: '30',
      DB_POOL_TIMEOUT: '30',
      DB_POOL_RECYCLE: '3600',
      DB_POOL_PRE_PING: 'true',
      CACHE_TTL_DEFAULT: '300',
      CACHE_STRATEGIES:
        '{"market_data":{"ttl":60,"strategy":"write-through"},"risk_calculations":{"ttl":300,"strategy":"write-behind"},"static_data":{"ttl":3600,"strategy":"cache-aside"},"user_sessions":{"ttl":1800,"strategy":"write-around"}}',
      ASYNC_WORKERS: '4',
      PROFILER_ENABLED: 'true',
      MONITORING_ENABLED: 'true',
      REDIS_HOST: 'redis',
      REDIS_PORT: '6379',
      REDIS_CLUSTER: 'true',
    });
  });

  it('runs `perfpilot risk-api` with only variables the program reads, and the tuning mounted where it watches', () => {
    const deployment = synth().find((o) => o.kind === 'Deployment');
    const pod = deployment?.spec.template.spec;
    const container = pod.containers[0];
    expect(container.image).toBe(values.api.image);
    expect(container.args).toEqual(['risk-api']);
    const env = Object.fromEntries(
      (container.env as { name: string; value?: string }[]).map((e) => [e.name, e.value ?? '(secret)']),
    );
    expect(env).toEqual({
      PORT: '8001',
      TUNING_CONFIG_DIR: TUNING_MOUNT_PATH,
      DATABASE_URL: '(secret)',
      REDIS_PASSWORD: '(secret)',
    });
    const read = Object.keys(RISK_API_ENVIRONMENT);
    for (const name of [...Object.keys(env), ...Object.keys(tuningEnvironment(values.api, 'redis', 6379))]) {
      expect(read, name).toContain(name);
    }
    expect(container.volumeMounts).toContainEqual({
      name: 'tuning',
      mountPath: TUNING_MOUNT_PATH,
      readOnly: true,
    });
    expect(pod.volumes).toContainEqual({ name: 'tuning', configMap: { name: 'risk-api-tuning' } });
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8001, protocol: 'TCP' }]);
  });

  it('the program reads the tuning ConfigMap back to the values it came from', () => {
    const config = configFromEnvironment(tuningEnvironment(values.api, 'redis', 6379));
    expect(config.pool).toEqual({
      size: values.api.pool.size,
      maxOverflow: values.api.pool.maxOverflow,
      timeoutSeconds: values.api.pool.timeoutSeconds,
      recycleSeconds: values.api.pool.recycleSeconds,
      prePing: values.api.pool.prePing,
    });
    expect(config.cacheTtlDefaultSeconds).toBe(values.api.cacheTtlDefaultSeconds);
    expect(config.cacheStrategies.market_data).toEqual({ ttl: 60, strategy: 'write-through' });
    expect(config.redisMode).toBe('cluster');
    expect(config.asyncWorkers).toBe(values.api.asyncWorkers);
  });

  it('leaves replicas to the HPA and rolls pods when the tuning changes', () => {
    const deployment = synth().find((o) => o.kind === 'Deployment');
    expect(deployment?.spec).not.toHaveProperty('replicas');
    const hash = deployment?.spec.template.metadata.annotations['perfpilot.dev/config-hash'];
    expect(hash).toBe(configHash(tuningEnvironment(values.api, props.redisHost, 6379)));
    const bigger = synth({ config: { ...values.api, pool: { ...values.api.pool, size: 25 } } }).find(
      (o) => o.kind === 'Deployment',
    );
    expect(bigger?.spec.template.metadata.annotations['perfpilot.dev/config-hash']).not.toBe(hash);
  });

  it('rejects a pool size below 1', () => {
    expect(() => synth({ config: { ...values.api, pool: { ...values.api.pool, size: 0 } } })).toThrow(
      'RiskApi: config.pool.size must be at least 1, got 0',
    );
  });

  it('rejects a Redis port outside 1-65535', () => {
    expect(() => synth({ redisPort: 70000 })).toThrow(
      'RiskApi: redisPort must be from 1 to 65535, got 70000',
    );
  });

  it('sends out of the stack only to the database port and to DNS', () => {
    const egressOf = (overrides: Partial<RiskApiProps>) =>
      synth(overrides).find((o) => o.kind === 'NetworkPolicy')?.spec;
    expect(egressOf({})).toMatchObject({
      policyTypes: ['Ingress', 'Egress'],
      egress: [
        { ports: [{ protocol: 'TCP', port: 5432 }] },
        {
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    });
    // A pooler in front of PostgreSQL, as often as not.
    expect(egressOf({ databasePort: 6432 }).egress[0]).toEqual({ ports: [{ protocol: 'TCP', port: 6432 }] });
  });

  it('rejects a database port outside 1-65535', () => {
    expect(() => synth({ databasePort: 0 })).toThrow(
      'RiskApi: databasePort must be an integer from 1 to 65535, got 0',
    );
  });
});
