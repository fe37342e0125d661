import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../../test/cluster/control-plane.ts';
import { pooled } from './pooled-kube-config.ts';

let cp: ControlPlane;

beforeAll(async () => {
  cp = await startControlPlane();
});

afterAll(async () => {
  await cp?.stop();
});

/** connectionsFor counts the TCP connections undici opens for `requests` sequential API calls. */
async function connectionsFor(kubeConfig: KubeConfig, requests: number): Promise<number> {
  let connected = 0;
  const onConnected = () => {
    connected++;
  };
  subscribe('undici:client:connected', onConnected);
  try {
    const core = kubeConfig.makeApiClient(CoreV1Api);
    for (let i = 0; i < requests; i++) await core.listNamespace();
  } finally {
    unsubscribe('undici:client:connected', onConnected);
  }
  return connected;
}

describe('PooledKubeConfig', () => {
  it('reuses one connection where the plain KubeConfig opens one per request', async () => {
    const pool = pooled(cp.kubeConfig);
    try {
      expect(await connectionsFor(pool, 10)).toBe(1);
      expect(await connectionsFor(cp.kubeConfig, 10)).toBe(10);
    } finally {
      await pool.close();
    }
  });

  it('keeps the clusters, users and current context of the original', () => {
    const pool = pooled(cp.kubeConfig);
    expect(pool.getCurrentCluster()?.server).toBe(cp.server);
    expect(pool.getCurrentUser()?.name).toBe(cp.kubeConfig.getCurrentUser()?.name);
    expect(pooled(pool)).toBe(pool);
  });
});
