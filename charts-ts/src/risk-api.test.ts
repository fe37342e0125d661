import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { configHash } from '../../operator/src/api/v1alpha1/config-hash.ts';
import { defaultValues } from './load-values.ts';
import { RiskApi, type RiskApiProps, tuningEnvironment } from './risk-api.ts';

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
});
