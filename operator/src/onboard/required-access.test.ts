import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { operatorRules } from '../../../charts-ts/src/operator-rbac.ts';
import { API_VERSION, KIND, type PerformanceProfile } from '../api/v1alpha1/index.ts';
import { defaultedProfileSpec } from '../tuning/tuning-spec-from-profile.ts';
import {
  describeCheck,
  grantCommands,
  OPERATOR_SERVICE_ACCOUNT,
  profileSecretNames,
  requiredAccess,
  serviceAccountOf,
} from './required-access.ts';

function profile(spec: Record<string, unknown>): PerformanceProfile {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { namespace: 'shop', name: 'checkout-profile' },
    spec: defaultedProfileSpec({ targetRef: { name: 'checkout', hpaName: 'checkout-hpa' }, ...spec }),
  };
}

const withSecrets = profile({
  metrics: {
    prometheus: { url: 'https://prom.example', bearerTokenSecretRef: { name: 'prom-token' } },
    redis: {
      endpoints: ['redis:6379'],
      passwordSecretRef: { name: 'redis-auth' },
      configMapName: 'redis-conf',
    },
  },
});

describe('requiredAccess', () => {
  it('names the ServiceAccount the toolkit installs the operator as', () => {
    const docs = parseAllDocuments(readFileSync('manifests/operator.yaml', 'utf8')).map((d) => d.toJS());
    const sa = docs.find((d) => d?.kind === 'ServiceAccount');
    expect(OPERATOR_SERVICE_ACCOUNT).toBe(
      `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`,
    );
    expect(serviceAccountOf(OPERATOR_SERVICE_ACCOUNT)).toEqual({
      namespace: sa.metadata.namespace,
      name: sa.metadata.name,
    });
    expect(serviceAccountOf('jane@example.com')).toBeUndefined();
  });

  it('lists the Secrets a profile names, once each', () => {
    expect(profileSecretNames(withSecrets)).toEqual(['prom-token', 'redis-auth']);
    expect(profileSecretNames(profile({}))).toEqual([]);
  });

  it('lists the Sentinels’ password Secret, and asks for the ConfigMap persist names', () => {
    const sentinel = profile({
      metrics: {
        redis: {
          sentinel: {
            endpoints: ['sentinel:26379'],
            masterName: 'mymaster',
            passwordSecretRef: { name: 'sentinel-auth' },
          },
          username: 'perfpilot',
          passwordSecretRef: { name: 'redis-user' },
          persist: { configMap: { name: 'redis-configuration', format: 'RedisConf' } },
        },
      },
    });
    expect(profileSecretNames(sentinel)).toEqual(['redis-user', 'sentinel-auth']);
    const configMaps = requiredAccess(operatorRules(profileSecretNames(sentinel)), sentinel, 'perfpilot')
      .filter((n) => n.resource === 'configmaps')
      .flatMap((n) => n.checks.map(describeCheck));
    expect(configMaps).toContain('patch configmaps redis-configuration in shop');
  });

  it('asks every verb of the operator’s Role on the objects this profile touches', () => {
    const needs = requiredAccess(operatorRules(profileSecretNames(withSecrets)), withSecrets, 'perfpilot');
    expect(needs.map((n) => [n.resource, n.checks.map(describeCheck)])).toEqual([
      [
        'performanceprofiles.perfpilot.dev',
        [
          'get performanceprofiles.perfpilot.dev checkout-profile in shop',
          'list performanceprofiles.perfpilot.dev in shop',
          'watch performanceprofiles.perfpilot.dev in shop',
          'patch performanceprofiles.perfpilot.dev checkout-profile in shop',
        ],
      ],
      [
        'performanceprofiles.perfpilot.dev/status',
        ['patch performanceprofiles.perfpilot.dev/status checkout-profile in shop'],
      ],
      [
        'horizontalpodautoscalers.autoscaling',
        [
          'get horizontalpodautoscalers.autoscaling checkout-hpa in shop',
          'list horizontalpodautoscalers.autoscaling in shop',
          'watch horizontalpodautoscalers.autoscaling in shop',
          'patch horizontalpodautoscalers.autoscaling checkout-hpa in shop',
        ],
      ],
      [
        'configmaps',
        [
          'get configmaps checkout-tuning in shop',
          'get configmaps redis-conf in shop',
          'list configmaps in shop',
          'watch configmaps in shop',
          'patch configmaps checkout-tuning in shop',
          'patch configmaps redis-conf in shop',
        ],
      ],
      [
        'deployments.apps',
        [
          'get deployments.apps checkout in shop',
          'list deployments.apps in shop',
          'watch deployments.apps in shop',
          'patch deployments.apps checkout in shop',
        ],
      ],
      ['secrets', ['get secrets prom-token in shop', 'get secrets redis-auth in shop']],
      ['events.events.k8s.io', ['create events.events.k8s.io in shop']],
      [
        'leases.coordination.k8s.io',
        [
          'get leases.coordination.k8s.io in perfpilot',
          'create leases.coordination.k8s.io in perfpilot',
          'update leases.coordination.k8s.io in perfpilot',
        ],
      ],
    ]);
  });

  const scaledObjectChecks = (p: PerformanceProfile, scaledObjectName?: string) =>
    requiredAccess(operatorRules([]), p, 'perfpilot', scaledObjectName)
      .filter((n) => n.resource === 'scaledobjects.keda.sh')
      .flatMap((n) => n.checks.map(describeCheck));

  it.each([
    ['a plain HPA', profile({}), undefined, []],
    [
      'a KEDA-owned HPA',
      profile({}),
      'checkout-keda',
      [
        'get scaledobjects.keda.sh checkout-keda in shop',
        'patch scaledobjects.keda.sh checkout-keda in shop',
      ],
    ],
    [
      'spec.targetRef.scaledObjectName',
      profile({ targetRef: { name: 'checkout', hpaName: 'checkout-hpa', scaledObjectName: 'checkout-so' } }),
      undefined,
      ['get scaledobjects.keda.sh checkout-so in shop', 'patch scaledobjects.keda.sh checkout-so in shop'],
    ],
  ])('asks for the KEDA ScaledObject with %s', (_, p, owner, expected) => {
    expect(scaledObjectChecks(p, owner)).toEqual(expected);
  });

  it('asks for no Secret when the profile names none', () => {
    const needs = requiredAccess(operatorRules([]), profile({}), 'perfpilot');
    expect(needs.map((n) => n.resource)).not.toContain('secrets');
  });
});

describe('grantCommands', () => {
  it('grants the denied verbs to a ServiceAccount, by object name when every verb has one', () => {
    const denied = [
      {
        verb: 'patch',
        group: 'autoscaling',
        resource: 'horizontalpodautoscalers',
        namespace: 'shop',
        name: 'api',
      },
    ];
    expect(grantCommands('system:serviceaccount:perfpilot:perfpilot-operator', denied)).toBe(
      'kubectl -n shop create role perfpilot-horizontalpodautoscalers --verb=patch --resource=horizontalpodautoscalers.autoscaling --resource-name=api\n' +
        'kubectl -n shop create rolebinding perfpilot-horizontalpodautoscalers --role=perfpilot-horizontalpodautoscalers --serviceaccount=perfpilot:perfpilot-operator',
    );
  });

  it('grants namespace-wide when a denied verb has no object, and to a user by name', () => {
    const denied = [
      { verb: 'get', group: 'apps', resource: 'deployments', namespace: 'shop', name: 'api' },
      { verb: 'watch', group: 'apps', resource: 'deployments', namespace: 'shop' },
    ];
    expect(grantCommands('jane', denied)).toBe(
      'kubectl -n shop create role perfpilot-deployments --verb=get,watch --resource=deployments.apps\n' +
        'kubectl -n shop create rolebinding perfpilot-deployments --role=perfpilot-deployments --user=jane',
    );
  });
});
