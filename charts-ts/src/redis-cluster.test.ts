import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { defaultValues } from './load-values.ts';
import { RedisCluster, type RedisClusterProps, redisConf } from './redis-cluster.ts';

const values = defaultValues();
const props: RedisClusterProps = {
  namespace: 'perfpilot',
  config: values.redis,
  clusterDomain: 'cluster.local',
  clientSelectors: [{ 'app.kubernetes.io/name': 'risk-api' }],
  monitoringNamespace: 'monitoring',
};

function synth(overrides: Partial<RedisClusterProps> = {}) {
  const chart = Testing.chart();
  const redis = new RedisCluster(chart, 'redis', { ...props, ...overrides });
  return {
    redis,
    // biome-ignore lint/suspicious/noExplicitAny: manifests are inspected field by field
    objects: Testing.synth(chart) as { kind: string; metadata: { name: string }; spec?: any }[],
  };
}

describe('RedisCluster', () => {
  it('synthesizes config, services, StatefulSet, PDB and NetworkPolicy', () => {
    expect(synth().objects).toMatchSnapshot();
  });

  it('carries the seed’s redis.conf plus cluster mode and stable hostnames', () => {
    expect(redisConf(values.redis)).toContain(
      'include /etc/redis/maxmemory.conf\nmaxmemory-policy allkeys-lru\ntimeout 300\ntcp-keepalive 300\nhz 10\nhash-max-listpack-entries 512\nmaxclients 1000\n',
    );
    const config = synth().objects.find((o) => o.kind === 'ConfigMap') as unknown as {
      data: Record<string, string>;
    };
    expect(config.data['maxmemory.conf']).toBe('maxmemory 512mb\n');
    expect(redisConf(values.redis)).toContain(
      'cluster-enabled yes\ncluster-config-file /data/nodes.conf\ncluster-node-timeout 5000\n',
    );
    expect(redisConf(values.redis)).toContain('cluster-preferred-endpoint-type hostname\n');
    expect(redisConf(values.redis)).toContain('appendonly yes\n');
    expect(redisConf(values.redis)).not.toMatch(/requirepass \S/);
  });

  it('runs 3 masters and 3 replicas on ports 6379 and 16379 with the exporter on 9121', () => {
    const sts = synth().objects.find((o) => o.kind === 'StatefulSet');
    expect(sts?.spec.replicas).toBe(6);
    const ports = sts?.spec.template.spec.containers.flatMap((c: { ports: { containerPort: number }[] }) =>
      c.ports.map((p) => p.containerPort),
    );
    expect(ports).toEqual([6379, 16379, 9121]);
    expect(sts?.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('2Gi');
  });

  it('probes the exporter for liveness only, so the exporter never takes a node out of rotation', () => {
    const sts = synth().objects.find((o) => o.kind === 'StatefulSet');
    const [redis, exporter] = sts?.spec.template.spec.containers ?? [];
    expect(redis.readinessProbe.exec.command.join(' ')).toContain('ping');
    expect(redis.livenessProbe).toMatchObject({ tcpSocket: { port: 'redis' } });
    expect(exporter.name).toBe('redis-exporter');
    expect(exporter.readinessProbe).toBeUndefined();
    expect(exporter.livenessProbe).toMatchObject({ httpGet: { path: '/health', port: 'metrics' } });
  });

  it('lets nodes send only to each other, and each client send to the nodes on 6379', () => {
    const clients = [
      { 'app.kubernetes.io/name': 'risk-api' },
      { 'app.kubernetes.io/name': 'perfpilot-operator' },
    ];
    const policies = synth({ clientSelectors: clients }).objects.filter((o) => o.kind === 'NetworkPolicy');
    const nodes = { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'redis-cluster' } } };
    expect(policies.map((p) => [p.metadata.name, p.spec.policyTypes, p.spec.egress])).toEqual([
      [
        'redis-cluster',
        ['Ingress', 'Egress'],
        [
          {
            to: [nodes],
            ports: [
              { protocol: 'TCP', port: 6379 },
              { protocol: 'TCP', port: 16379 },
            ],
          },
        ],
      ],
      ['risk-api-to-redis-cluster', ['Egress'], [{ to: [nodes], ports: [{ protocol: 'TCP', port: 6379 }] }]],
      [
        'perfpilot-operator-to-redis-cluster',
        ['Egress'],
        [{ to: [nodes], ports: [{ protocol: 'TCP', port: 6379 }] }],
      ],
    ]);
    expect(policies[2]?.spec.podSelector).toEqual({ matchLabels: clients[1] });
  });

  it('lists a stable host:port per node', () => {
    expect(synth().redis.nodeAddresses('perfpilot', 'cluster.local')[5]).toBe(
      'redis-cluster-5.redis-cluster-headless.perfpilot.svc.cluster.local:6379',
    );
  });

  it('rejects fewer than 3 masters', () => {
    expect(() => synth({ config: { ...values.redis, masters: 2 } })).toThrow(
      'RedisCluster: config.masters must be at least 3 (a cluster needs a quorum), got 2',
    );
  });

  it('rejects a maxmemory above 75% of the memory limit', () => {
    expect(() => synth({ config: { ...values.redis, maxmemoryMiB: 800 } })).toThrow(
      'RedisCluster: config.maxmemoryMiB must be at most 75% of config.resources.memoryLimitMiB (768), got 800',
    );
  });
});
