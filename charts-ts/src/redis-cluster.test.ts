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
