import Value from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { PerformanceProfileSpec } from '../api/v1alpha1/index.ts';
import { defaultedProfileSpec } from '../tuning/tuning-spec-from-profile.ts';
import {
  draftProfile,
  GUESSED_PROMETHEUS_URL,
  tuningConfigMapOf,
  type WorkloadFindings,
} from './draft-profile.ts';
import { recognisePoolSetting } from './pool-setting-names.ts';

const now = new Date('2026-12-06T15:00:00Z');
const hikari = recognisePoolSetting('SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE');
const sqlSize = recognisePoolSetting('DB_POOL_SIZE');
const sqlOverflow = recognisePoolSetting('DB_MAX_OVERFLOW');
if (!hikari || !sqlSize || !sqlOverflow) throw new Error('names not recognised');

const base: WorkloadFindings = {
  namespace: 'shop',
  deployment: 'checkout',
  hpa: { name: 'checkout', minReplicas: 2, maxReplicas: 8 },
  poolSettings: [],
  redisServices: [{ name: 'redis', port: 6379 }],
};

function specOf(text: string) {
  const doc = parse(text);
  const spec = defaultedProfileSpec(doc.spec);
  const errors = [...Value.Errors(PerformanceProfileSpec, spec)].map(
    (e) => `${e.instancePath}: ${e.message}`,
  );
  return { doc, errors };
}

describe('draftProfile', () => {
  it('writes a valid Observe profile with a comment on every field it found or guessed', () => {
    const text = draftProfile(
      {
        ...base,
        redisPassword: { env: 'REDIS_PASSWORD', container: 'app', secret: 'redis-auth', key: 'password' },
      },
      {},
      now,
    );
    const { doc, errors } = specOf(text);
    expect(errors).toEqual([]);
    expect(doc).toEqual({
      apiVersion: 'perfpilot.dev/v1alpha1',
      kind: 'PerformanceProfile',
      metadata: { name: 'checkout', namespace: 'shop' },
      spec: {
        mode: 'Observe',
        targetRef: { name: 'checkout', hpaName: 'checkout' },
        metrics: {
          prometheus: { url: GUESSED_PROMETHEUS_URL },
          redis: {
            endpoints: ['redis.shop.svc:6379'],
            passwordSecretRef: { name: 'redis-auth', key: 'password' },
          },
        },
      },
    });
    expect(text).toContain('# found: Deployment shop/checkout\n    name: checkout');
    expect(text).toContain(
      '# found: HPA checkout scales this Deployment (minReplicas 2, maxReplicas 8)\n    hpaName',
    );
    expect(text).toContain('# guessed: the Prometheus Operator’s Service');
    expect(text).toContain('# found: Service redis (port 6379) in shop');
    expect(text).toContain(
      '# found: env var REDIS_PASSWORD of container app reads Secret redis-auth key password',
    );
    expect(text).toContain('on 2026-12-06');
  });

  it('writes the env form for a pool size set with a plain value in an env var', () => {
    const text = draftProfile(
      {
        ...base,
        poolSettings: [
          {
            name: 'SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE',
            setting: hikari,
            source: { kind: 'env', container: 'app', value: '10' },
          },
        ],
      },
      { prometheusUrl: 'http://prom:9090' },
      now,
    );
    expect(specOf(text).errors).toEqual([]);
    expect(parse(text).spec.targetRef).toEqual({
      name: 'checkout',
      hpaName: 'checkout',
      pool: { env: { container: 'app', sizeVar: 'SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE' } },
    });
    expect(text).toContain(
      '# found: container app sets SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE with a value: the operator tunes it there,',
    );
    expect(text).toContain('no overflow var, so the connection budget counts the size alone');
    expect(text).toContain('# given: --prometheus\n      url: http://prom:9090');
  });

  it('leaves a pool env var set from a reference out of the fields, and says how to name it', () => {
    const text = draftProfile(
      {
        ...base,
        poolSettings: [
          {
            name: 'SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE',
            setting: hikari,
            source: {
              kind: 'configMap',
              container: 'app',
              configMap: 'checkout-env',
              key: 'pool',
              via: 'configMapKeyRef',
            },
          },
        ],
      },
      {},
      now,
    );
    expect(specOf(text).errors).toEqual([]);
    expect(parse(text).spec.targetRef).toEqual({ name: 'checkout', hpaName: 'checkout' });
    expect(text).toContain('point spec.targetRef.pool at it');
  });

  it('names the tuning ConfigMap when it holds the operator’s keys and reaches the pods by envFrom', () => {
    const findings: WorkloadFindings = {
      ...base,
      poolSettings: [
        {
          name: 'DB_POOL_SIZE',
          setting: sqlSize,
          source: {
            kind: 'configMap',
            container: 'app',
            configMap: 'checkout-config',
            key: 'DB_POOL_SIZE',
            via: 'envFrom',
            value: '20',
          },
        },
        {
          name: 'DB_MAX_OVERFLOW',
          setting: sqlOverflow,
          source: {
            kind: 'configMap',
            container: 'app',
            configMap: 'checkout-config',
            key: 'DB_MAX_OVERFLOW',
            via: 'envFrom',
            value: '30',
          },
        },
      ],
    };
    expect(tuningConfigMapOf(findings)).toBe('checkout-config');
    const text = draftProfile(findings, {}, now);
    expect(parse(text).spec.targetRef.configMapName).toBe('checkout-config');
    expect(text).toContain('# found: ConfigMap checkout-config holds DB_POOL_SIZE and DB_MAX_OVERFLOW');
  });

  it('does not take a ConfigMap whose key reaches the pods under another name', () => {
    const findings: WorkloadFindings = {
      ...base,
      poolSettings: [
        {
          name: 'HIKARI_MAXIMUM_POOL_SIZE',
          setting: hikari,
          source: {
            kind: 'configMap',
            container: 'app',
            configMap: 'cfg',
            key: 'DB_POOL_SIZE',
            via: 'configMapKeyRef',
          },
        },
      ],
    };
    expect(tuningConfigMapOf(findings)).toBeUndefined();
  });

  it('says what it did not find: no HPA, no Redis, no pool', () => {
    const { hpa: _none, ...noHpa } = base;
    const text = draftProfile({ ...noHpa, redisServices: [] }, {}, now);
    const { doc, errors } = specOf(text);
    expect(errors).toEqual([]);
    expect(doc.spec.metrics.redis).toBeUndefined();
    expect(text).toContain('no HPA scales this Deployment');
    expect(text).toContain('no Redis Service found in shop');
    expect(text).toContain('no pool setting found');
    // Every comment survives a round trip: the draft is one YAML document.
    expect(parseDocument(text).errors).toEqual([]);
  });

  it('says in a comment that the bounds go to the ScaledObject when KEDA owns the HPA', () => {
    const text = draftProfile(
      { ...base, hpa: { name: 'keda-hpa-checkout', maxReplicas: 5, scaledObject: 'checkout' } },
      {},
      now,
    );
    expect(text).toContain(
      'KEDA ScaledObject checkout owns it,\n    # so the operator tunes minReplicaCount/maxReplicaCount on the ScaledObject and never writes the HPA',
    );
  });
});
