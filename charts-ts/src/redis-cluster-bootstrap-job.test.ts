import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import {
  bootstrapScript,
  RedisClusterBootstrapJob,
  type RedisClusterBootstrapJobProps,
} from './redis-cluster-bootstrap-job.ts';

const props: RedisClusterBootstrapJobProps = {
  namespace: 'perfpilot',
  clusterName: 'redis-cluster',
  headlessServiceName: 'redis-cluster-headless',
  clusterDomain: 'cluster.local',
  nodes: 6,
  replicasPerMaster: 1,
  image: 'redis:7.4.2-bookworm',
  passwordSecret: { name: 'redis-auth', key: 'password' },
};

function synth(overrides: Partial<RedisClusterBootstrapJobProps> = {}) {
  const chart = Testing.chart();
  new RedisClusterBootstrapJob(chart, 'job', { ...props, ...overrides });
  return Testing.synth(chart);
}

describe('RedisClusterBootstrapJob', () => {
  it('synthesizes the Job and a NetworkPolicy that lets nothing in and only DNS and Redis out', () => {
    expect(synth()).toMatchSnapshot();
  });

  it('creates the cluster only when no node knows another, and otherwise re-meets every node', () => {
    const script = bootstrapScript(['redis-cluster-0.h.svc:6379', 'redis-cluster-1.h.svc:6379'], 1);
    expect(script).toContain(':-1}" -gt 1 ]; then');
    expect(script).toContain('cluster meet');
    expect(script).toContain('redis-cli --cluster create $ADDRS --cluster-replicas 1 --cluster-yes');
    expect(script.indexOf('exit 0')).toBeLessThan(script.indexOf('--cluster create'));
  });

  it('rejects a backoffLimit outside 0-100', () => {
    expect(() => synth({ backoffLimit: 500 })).toThrow(
      'RedisClusterBootstrapJob: backoffLimit must be an integer from 0 to 100, got 500',
    );
  });

  it('rejects fewer nodes than 3 masters with their replicas need', () => {
    expect(() => synth({ nodes: 4 })).toThrow(
      'RedisClusterBootstrapJob: nodes must be at least 3 x (1 + replicasPerMaster) = 6, got 4',
    );
  });
});
