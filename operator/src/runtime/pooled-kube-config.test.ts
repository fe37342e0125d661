import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../../test/cluster/control-plane.ts';
import { ManualClock } from './clock.ts';
import { getJson } from './kube-http.ts';
import { pooled, TLS_RELOAD_MS } from './pooled-kube-config.ts';

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

  it('reads the certificate files once per reload interval, for typed clients and kube-http alike', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pooled-tls-'));
    const user = cp.kubeConfig.getCurrentUser();
    const cluster = cp.kubeConfig.getCurrentCluster();
    if (!user?.certFile || !user.keyFile || !cluster)
      throw new Error('the test cluster has no client certificate files');
    const cert = join(dir, 'admin.crt');
    const key = join(dir, 'admin.key');
    copyFileSync(user.certFile, cert);
    copyFileSync(user.keyFile, key);
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser(cluster, { name: 'copied', certFile: cert, keyFile: key });
    const clock = new ManualClock();
    const pool = pooled(kc, clock);
    const core = pool.makeApiClient(CoreV1Api);
    const list = () => getJson(pool, '/api/v1/namespaces', {}, 10_000);
    try {
      await core.listNamespace();
      // The files are gone: requests go on with the material read before.
      renameSync(cert, `${cert}.away`);
      await core.listNamespace();
      await list();
      clock.advance(TLS_RELOAD_MS);
      await expect(core.listNamespace()).rejects.toThrow(/ENOENT/);
      await expect(list()).rejects.toThrow(/ENOENT/);
      renameSync(`${cert}.away`, cert);
      await core.listNamespace();
      await list();
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
