import { describe, expect, it } from 'vitest';
import { CATEGORY, CONDITION_TYPES, ConditionReason, GROUP, KIND, PLURAL, VERSION } from './constants.ts';
import { type JsonSchemaProps, performanceProfileCrd, toStructuralSchema } from './crd.ts';

const crd = performanceProfileCrd();
const version = crd.spec.versions[0];
const schema = version?.schema.openAPIV3Schema as JsonSchemaProps;

/** Every schema node with its path, depth first. */
function walk(
  node: JsonSchemaProps,
  path: string,
  visit: (node: JsonSchemaProps, path: string) => void,
): void {
  visit(node, path);
  for (const [name, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${name}`, visit);
  if (node.items) walk(node.items, `${path}[]`, visit);
}

describe('PerformanceProfile CRD', () => {
  it('is named <plural>.<group> with kind, short name pp and the perfpilot category', () => {
    expect(crd.metadata.name).toBe(`${PLURAL}.${GROUP}`);
    expect(crd.spec.names).toEqual({
      kind: KIND,
      listKind: 'PerformanceProfileList',
      plural: 'performanceprofiles',
      singular: 'performanceprofile',
      shortNames: ['pp', 'perfprofile', 'perfprofiles'],
      categories: [CATEGORY],
    });
    expect(crd.spec.scope).toBe('Namespaced');
  });

  it('serves and stores v1alpha1 with the status subresource', () => {
    expect(crd.spec.versions).toHaveLength(1);
    expect(version).toMatchObject({
      name: VERSION,
      served: true,
      storage: true,
      subresources: { status: {} },
    });
  });

  it('prints mode, ready, SLO state, knobs and age (last decision and target in -o wide)', () => {
    expect(version?.additionalPrinterColumns.map((c) => [c.name, c.jsonPath, c.priority ?? 0])).toEqual([
      ['Mode', '.spec.mode', 0],
      ['Ready', '.status.conditions[?(@.type=="Ready")].status', 0],
      ['SLO', '.status.sloState', 0],
      ['Knobs', '.status.knobsSummary', 0],
      ['Last Decision', '.status.lastDecision', 1],
      ['Target', '.spec.targetRef.name', 1],
      ['Age', '.metadata.creationTimestamp', 0],
    ]);
  });

  it('is a structural schema: every node has a type, and only Kubernetes keywords appear', () => {
    const allowed = new Set([
      'type',
      'format',
      'description',
      'default',
      'enum',
      'minimum',
      'maximum',
      'minLength',
      'maxLength',
      'pattern',
      'minItems',
      'maxItems',
      'items',
      'properties',
      'required',
    ]);
    walk(schema, '', (node, path) => {
      expect(node.type, path).toBeTypeOf('string');
      for (const key of Object.keys(node)) {
        expect(allowed.has(key) || key.startsWith('x-kubernetes-'), `${path}: ${key}`).toBe(true);
      }
    });
  });

  it('documents every field of spec and status for kubectl explain', () => {
    const undocumented: string[] = [];
    walk(schema, '', (node, path) => {
      if (path.startsWith('.spec') || path.startsWith('.status')) {
        if (!node.description) undocumented.push(path);
      }
    });
    expect(undocumented).toEqual([]);
  });

  it('requires only fields without a default (the API server fills in the rest)', () => {
    walk(schema, '', (node, path) => {
      for (const name of node.required ?? []) {
        expect(node.properties?.[name]?.default, `${path}.${name}`).toBeUndefined();
      }
    });
    expect(schema.properties?.spec?.required).toEqual(['targetRef']);
    expect(schema.properties?.spec?.properties?.targetRef?.required).toEqual(['name']);
  });

  it('has a CEL rule for every min/max pair, the connection budget, exclusive Prometheus auth, one pool form and the Redis forms', () => {
    const rules = new Map<string, string[]>();
    walk(schema, '', (node, path) => {
      const v = node['x-kubernetes-validations'] as { rule: string }[] | undefined;
      if (v)
        rules.set(
          path,
          v.map((r) => r.rule),
        );
    });
    expect(Object.fromEntries(rules)).toEqual({
      '.spec': [
        'self.knobs.replicas.floor * (self.knobs.poolSize.min + self.knobs.maxOverflow.min) <= self.database.maxConnections - self.database.reservedConnections',
      ],
      '.spec.knobs.poolSize': ['self.min <= self.max'],
      '.spec.knobs.maxOverflow': ['self.min <= self.max'],
      '.spec.knobs.redisMaxmemory': [
        'self.minMiB <= self.maxMiB',
        'self.maxMiB * 4 <= self.containerMemoryLimitMiB * 3',
      ],
      '.spec.knobs.replicas': ['self.floor <= self.ceiling'],
      '.spec.knobs.hpaTarget.cpuUtilization': ['self.minPercent <= self.maxPercent'],
      '.spec.knobs.hpaTarget.requestRate': ['self.minPerPod <= self.maxPerPod'],
      '.spec.database': ['self.reservedConnections < self.maxConnections'],
      '.spec.metrics': [
        "!has(self.redis) || !has(self.redis.source) || self.redis.source != 'Exporter' || has(self.prometheus)",
      ],
      '.spec.metrics.prometheus': ['!(has(self.bearerTokenSecretRef) && has(self.basicAuth))'],
      '.spec.metrics.redis': [
        'has(self.endpoints) != has(self.sentinel)',
        '!has(self.username) || has(self.passwordSecretRef)',
        '!(has(self.configMapName) && has(self.persist))',
      ],
      '.spec.metrics.redis.persist': [
        '!(has(self.configMap) && has(self.configRewrite) && self.configRewrite)',
      ],
      '.spec.policy': [
        'self.evaluationIntervalSeconds <= self.verificationWindowSeconds',
        'self.verificationWindowSeconds <= self.cooldownSeconds || self.cooldownSeconds == 0',
      ],
      '.spec.targetRef': ['!(has(self.configMapName) && has(self.pool))'],
      '.spec.targetRef.pool': [
        '[has(self.configMap), has(self.env), has(self.none)].filter(f, f).size() == 1',
      ],
    });
  });

  it('defaults mode to Recommend and the SLOs to the seed targets', () => {
    const spec = schema.properties?.spec?.properties;
    expect(spec?.mode).toMatchObject({ enum: ['Observe', 'Recommend', 'Auto'], default: 'Recommend' });
    const slo = spec?.slo?.properties ?? {};
    expect(Object.fromEntries(Object.entries(slo).map(([k, v]) => [k, v.default]))).toEqual({
      p95LatencyMs: 200,
      errorRatePercent: 0.1,
      cacheHitRatePercent: 85,
      poolUsagePercent: 80,
      requestsPerReplica: 1000,
    });
    expect(spec?.knobs?.properties?.replicas?.properties?.floor).toMatchObject({ minimum: 2, default: 2 });
  });

  it('keeps conditions as a map keyed by type and bounds the decision history', () => {
    const status = schema.properties?.status?.properties;
    expect(status?.conditions).toMatchObject({
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      maxItems: 16,
    });
    expect(status?.history?.maxItems).toBe(20);
    expect(CONDITION_TYPES).toEqual([
      'Ready',
      'MetricsAvailable',
      'SLOMet',
      'Progressing',
      'Degraded',
      'Paused',
    ]);
    for (const reason of Object.values(ConditionReason)) {
      expect(reason).toMatch(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/);
    }
  });

  it('rejects a schema keyword Kubernetes does not understand, naming where it is', () => {
    expect(() =>
      toStructuralSchema({ type: 'object', properties: { a: { type: 'string', const: 'x' } } }),
    ).toThrow('$.a: keyword const has no place in a Kubernetes structural schema');
  });

  it('rejects a schema node without a type, naming where it is', () => {
    expect(() => toStructuralSchema({ type: 'object', properties: { a: { description: 'x' } } })).toThrow(
      '$.a: every schema needs a type',
    );
  });
});
