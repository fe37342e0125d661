import type { V1Deployment, V1EnvVar } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { type PoolEnvReading, type PoolEnvTarget, poolEnvApplyBody, readPoolEnv } from './pool-env.ts';
import { strayOwnedFields } from './server-side-apply.ts';

const HIKARI = 'SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE';
const sizeOnly: PoolEnvTarget = {
  namespace: 'shop',
  deployment: 'orders',
  container: 'app',
  sizeVar: HIKARI,
};
const withOverflow: PoolEnvTarget = {
  ...sizeOnly,
  sizeVar: 'DB_POOL_SIZE',
  overflowVar: 'DB_MAX_OVERFLOW',
};

function deploymentWith(env: V1EnvVar[], container = 'app'): V1Deployment {
  return {
    metadata: { name: 'orders', namespace: 'shop' },
    spec: {
      selector: {},
      template: { spec: { containers: [{ name: 'sidecar' }, { name: container, image: 'orders:1', env }] } },
    },
  };
}

describe('readPoolEnv: the pool as the pod template sets it', () => {
  it.each<[string, PoolEnvTarget, V1Deployment, PoolEnvReading]>([
    [
      'a size only: overflow is 0, and the budget counts the size alone',
      sizeOnly,
      deploymentWith([{ name: HIKARI, value: '10' }]),
      { kind: 'read', pool: { maxOverflow: 0, poolSize: 10 }, problems: [] },
    ],
    [
      'size and overflow',
      withOverflow,
      deploymentWith([
        { name: 'DB_POOL_SIZE', value: '20' },
        { name: 'DB_MAX_OVERFLOW', value: '30' },
      ]),
      { kind: 'read', pool: { poolSize: 20, maxOverflow: 30 }, problems: [] },
    ],
    [
      'a value that is no whole number is a problem, and the knob stays unknown',
      sizeOnly,
      deploymentWith([{ name: HIKARI, value: 'ten' }]),
      {
        kind: 'read',
        pool: { maxOverflow: 0 },
        problems: [`Deployment orders env ${HIKARI} is "ten", not a whole number ≥ 0`],
      },
    ],
  ])('%s', (_name, target, deployment, reading) => {
    expect(readPoolEnv(deployment, target)).toEqual(reading);
  });

  it.each<[string, V1Deployment, RegExp]>([
    [
      'a var set from a ConfigMap is reported, not rewritten',
      deploymentWith([{ name: HIKARI, valueFrom: { configMapKeyRef: { name: 'orders-env', key: 'pool' } } }]),
      /sets SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE from ConfigMap orders-env key pool \(valueFrom\), which the operator does not rewrite/,
    ],
    [
      'a var set from a Secret is reported, not rewritten',
      deploymentWith([{ name: HIKARI, valueFrom: { secretKeyRef: { name: 'db', key: 'pool' } } }]),
      /from Secret db key pool \(valueFrom\)/,
    ],
    [
      'a missing var',
      deploymentWith([]),
      /container "app" does not set SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE/,
    ],
    [
      'a missing container, naming those there are',
      deploymentWith([{ name: HIKARI, value: '10' }], 'web'),
      /has no container "app" \(it has sidecar, web\): set spec.targetRef.pool.env.container/,
    ],
  ])('%s', (_name, deployment, message) => {
    const reading = readPoolEnv(deployment, sizeOnly);
    expect(reading.kind).toBe('notActuatable');
    expect(reading.kind === 'notActuatable' && reading.message).toMatch(message);
  });
});

describe('poolEnvApplyBody: only the pool’s env values and the roll time', () => {
  const at = new Date('2026-12-06T12:00:00Z');
  it.each<[string, PoolEnvTarget, { name: string; value: string }[]]>([
    ['a size only', sizeOnly, [{ name: HIKARI, value: '14' }]],
    [
      'size and overflow',
      withOverflow,
      [
        { name: 'DB_POOL_SIZE', value: '14' },
        { name: 'DB_MAX_OVERFLOW', value: '6' },
      ],
    ],
  ])('%s', (_name, target, env) => {
    expect(poolEnvApplyBody(target, { poolSize: 14, maxOverflow: 6 }, at)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'orders',
        namespace: 'shop',
        annotations: { 'perfpilot.dev/config-rolled-at': '2026-12-06T12:00:00.000Z' },
      },
      spec: { template: { spec: { containers: [{ name: 'app', env }] } } },
    });
  });

  it('applies again what perfpilot owns of a list item: no field of it is stray', () => {
    const body = poolEnvApplyBody(sizeOnly, { poolSize: 14, maxOverflow: 0 }, at);
    const container = 'k:{"name":"app"}';
    const live = {
      ...body,
      metadata: {
        ...body.metadata,
        managedFields: [
          {
            manager: 'perfpilot',
            operation: 'Apply',
            fieldsV1: {
              'f:metadata': { 'f:annotations': { 'f:perfpilot.dev/config-rolled-at': {} } },
              'f:spec': {
                'f:template': {
                  'f:spec': {
                    'f:containers': {
                      [container]: {
                        '.': {},
                        'f:name': {},
                        'f:env': { [`k:{"name":"${HIKARI}"}`]: { '.': {}, 'f:name': {}, 'f:value': {} } },
                      },
                    },
                  },
                },
              },
            },
          },
        ],
      },
    };
    expect(strayOwnedFields(live, body, 'perfpilot')).toEqual([]);
    // A pool env var perfpilot applied before and this body leaves out would be removed: stray.
    const other = poolEnvApplyBody({ ...sizeOnly, sizeVar: 'DB_POOL' }, { poolSize: 14, maxOverflow: 0 }, at);
    expect(strayOwnedFields(live, other, 'perfpilot')).toEqual([
      `.spec.template.spec.containers.${container}.env.k:{"name":"${HIKARI}"}.name`,
      `.spec.template.spec.containers.${container}.env.k:{"name":"${HIKARI}"}.value`,
    ]);
  });
});
