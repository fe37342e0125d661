/**
 * The informer against a real API server (with `--watch-cache=false`, so etcd's compaction is
 * what a resuming watch meets). A TCP proxy in front of the API server cuts the informer off
 * while the test keeps writing through its own connection: a real network partition.
 */
import { createServer, type Socket } from 'node:net';
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../../test/cluster/control-plane.ts';
import { createNamespace } from '../../../test/cluster/kube.ts';
import { createOperatorMetrics, type OperatorMetrics } from '../telemetry/metrics.ts';
import { ManualClock } from './clock.ts';
import { Informer, type InformerOptions, objectKey, withoutManagedFields } from './informer.ts';
import { kubeConfigVia, PartitionableProxy } from './partitionable-proxy.ts';

/** Recorder collects an informer's events as short strings, e.g. "add ns/a". */
function record(informer: Informer<V1ConfigMap>) {
  const events: string[] = [];
  informer.on('add', (obj) => events.push(`add ${objectKey(obj)}`));
  informer.on('update', (obj, old) =>
    events.push(`update ${objectKey(obj)} ${old?.data?.value ?? ''}→${obj.data?.value ?? ''}`),
  );
  informer.on('delete', (obj) => events.push(`delete ${objectKey(obj)}`));
  return events;
}

async function counterValue(metrics: OperatorMetrics, name: 'relists' | 'watchRestarts'): Promise<number> {
  const values = (await metrics[name].get()).values;
  return values.reduce((sum, value) => sum + value.value, 0);
}

const fastBackoff = { initialMs: 100, maxMs: 1000 };
const eventually = { timeout: 20_000, interval: 50 };

describe('Informer on a real API server', () => {
  let cp: ControlPlane;
  let core: CoreV1Api;
  const started: Informer<V1ConfigMap>[] = [];
  let namespaceCounter = 0;

  beforeAll(async () => {
    cp = await startControlPlane({ apiServerArgs: ['--watch-cache=false'] });
    core = cp.kubeConfig.makeApiClient(CoreV1Api);
  });

  afterAll(async () => {
    for (const informer of started) informer.stop();
    await cp?.stop();
  });

  async function namespace(): Promise<string> {
    const name = `informer-${++namespaceCounter}`;
    await createNamespace(cp.kubeConfig, name);
    return name;
  }

  function configMaps(options: Partial<InformerOptions<V1ConfigMap>> & { namespaces: readonly string[] }) {
    const informer = new Informer<V1ConfigMap>({
      kubeConfig: cp.kubeConfig,
      group: '',
      version: 'v1',
      plural: 'configmaps',
      backoff: fastBackoff,
      ...options,
    });
    started.push(informer);
    return informer;
  }

  const create = (ns: string, name: string, value: string) =>
    core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name }, data: { value } } });
  const update = (ns: string, name: string, value: string) =>
    core.patchNamespacedConfigMap({
      namespace: ns,
      name,
      body: [{ op: 'replace', path: '/data/value', value }],
    });
  const remove = (ns: string, name: string) => core.deleteNamespacedConfigMap({ namespace: ns, name });

  it('lists, then emits add, update and delete as objects change, with a keyed store', async () => {
    const ns = await namespace();
    await create(ns, 'before', '1');
    const informer = configMaps({ namespaces: [ns] });
    const events = record(informer);
    expect(informer.hasSynced()).toBe(false);
    await informer.start();
    expect(informer.hasSynced()).toBe(true);
    expect(events).toEqual([`add ${ns}/before`]);
    expect(informer.get(`${ns}/before`)).toMatchObject({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      data: { value: '1' },
    });

    await create(ns, 'after', 'a');
    await update(ns, 'after', 'b');
    await remove(ns, 'before');
    await vi.waitFor(
      () =>
        expect(events).toEqual([
          `add ${ns}/before`,
          `add ${ns}/after`,
          `update ${ns}/after a→b`,
          `delete ${ns}/before`,
        ]),
      eventually,
    );
    expect(informer.list().map(objectKey)).toEqual([`${ns}/after`]);
    expect(informer.get(`${ns}/before`)).toBeUndefined();
    informer.stop();
  });

  it('stores what transform returns, from the list and from the watch: here without managedFields', async () => {
    const ns = await namespace();
    await create(ns, 'listed', '1');
    const informer = configMaps({ namespaces: [ns], transform: withoutManagedFields });
    const seen: V1ConfigMap[] = [];
    informer.on('add', (obj) => seen.push(obj));
    informer.on('update', (obj) => seen.push(obj));
    await informer.start();
    await create(ns, 'watched', 'a');
    await update(ns, 'watched', 'b');
    await vi.waitFor(() => expect(seen.map((o) => o.data?.value)).toEqual(['1', 'a', 'b']), eventually);
    const live = await core.readNamespacedConfigMap({ namespace: ns, name: 'watched' });
    expect(live.metadata?.managedFields?.length).toBeGreaterThan(0);
    for (const obj of [...seen, ...informer.list()]) expect(obj.metadata?.managedFields).toBeUndefined();
    expect(informer.get(`${ns}/watched`)?.metadata?.resourceVersion).toBe(live.metadata?.resourceVersion);
    informer.stop();
  });

  it('watches only the namespaces it was given, one list+watch each', async () => {
    const [a, b, other] = [await namespace(), await namespace(), await namespace()];
    const informer = configMaps({ namespaces: [a, b] });
    const events = record(informer);
    await informer.start();
    await create(other, 'x', '1');
    await create(a, 'x', '1');
    await create(b, 'x', '1');
    await vi.waitFor(() => expect(events.sort()).toEqual([`add ${a}/x`, `add ${b}/x`].sort()), eventually);
    expect(informer.get(`${other}/x`)).toBeUndefined();
    informer.stop();
  });

  it('keeps watching when a handler throws, and the other handlers still run', async () => {
    const ns = await namespace();
    const informer = configMaps({ namespaces: [ns] });
    informer.on('add', () => {
      throw new Error('handler bug');
    });
    const events = record(informer);
    await informer.start();
    await create(ns, 'one', '1');
    await create(ns, 'two', '2');
    await update(ns, 'two', '3');
    await vi.waitFor(
      () => expect(events).toEqual([`add ${ns}/one`, `add ${ns}/two`, `update ${ns}/two 2→3`]),
      eventually,
    );
    informer.stop();
  });

  it('sees changes made while it was cut off; after compaction the 410 leads to a counted relist', async () => {
    const ns = await namespace();
    const proxy = new PartitionableProxy(Number(new URL(cp.server).port));
    await proxy.listen();
    const metrics = createOperatorMetrics(new Registry());
    const informer = configMaps({
      namespaces: [ns],
      kubeConfig: kubeConfigVia(cp.kubeConfig, `https://127.0.0.1:${proxy.port}`),
      metrics,
    });
    const events = record(informer);
    await create(ns, 'kept', '1');
    await create(ns, 'doomed', '1');
    await informer.start();
    expect(events.sort()).toEqual([`add ${ns}/doomed`, `add ${ns}/kept`]);

    proxy.partition();
    await update(ns, 'kept', '2');
    await remove(ns, 'doomed');
    await create(ns, 'born', '1');
    // The informer's resource version is now older than etcd's history: resuming must fail with 410.
    await cp.compactEtcd();
    expect(await counterValue(metrics, 'relists')).toBe(0);
    proxy.heal();

    await vi.waitFor(() => {
      expect(events.slice(2).sort()).toEqual([
        `add ${ns}/born`,
        `delete ${ns}/doomed`,
        `update ${ns}/kept 1→2`,
      ]);
    }, eventually);
    expect(await counterValue(metrics, 'relists')).toBeGreaterThanOrEqual(1);
    expect(await counterValue(metrics, 'watchRestarts')).toBeGreaterThanOrEqual(1);

    // Not a stall: the new watch delivers what happens next.
    await update(ns, 'kept', '3');
    await vi.waitFor(() => expect(events.at(-1)).toBe(`update ${ns}/kept 2→3`), eventually);
    informer.stop();
    await proxy.close();
  });

  it('recovers from an API server restart and sees changes made right after it', async () => {
    const ns = await namespace();
    const informer = configMaps({ namespaces: [ns] });
    const events = record(informer);
    await create(ns, 'old', '1');
    await informer.start();
    await cp.restart();
    await remove(ns, 'old');
    await create(ns, 'new', '1');
    await vi.waitFor(
      () => expect(events).toEqual([`add ${ns}/old`, `delete ${ns}/old`, `add ${ns}/new`]),
      eventually,
    );
    await update(ns, 'new', '2');
    await vi.waitFor(() => expect(events.at(-1)).toBe(`update ${ns}/new 1→2`), eventually);
    informer.stop();
  });

  it('re-watches a silent watch after watchdogMs and relists every relistIntervalMs of its clock, without spurious updates', async () => {
    const ns = await namespace();
    const metrics = createOperatorMetrics(new Registry());
    const clock = new ManualClock();
    const informer = configMaps({
      namespaces: [ns],
      watchdogMs: 300_000,
      relistIntervalMs: 450_000,
      metrics,
      clock,
    });
    const events = record(informer);
    await create(ns, 'quiet', '1');
    await informer.start();
    // Watching: the relist timer and the watch's watchdog wait on the clock.
    const watching = async () => await vi.waitFor(() => expect(clock.pendingTimers()).toBe(2), eventually);
    await watching();
    const count = async () => ({
      restarts: await counterValue(metrics, 'watchRestarts'),
      relists: await counterValue(metrics, 'relists'),
    });
    const before = await count();
    clock.advance(300_000);
    await vi.waitFor(async () => expect((await count()).restarts).toBe(before.restarts + 1), eventually);
    await watching();
    expect((await count()).relists).toBe(before.relists);
    clock.advance(150_000);
    await vi.waitFor(async () => expect((await count()).relists).toBe(before.relists + 1), eventually);
    await watching();
    expect((await count()).restarts).toBe(before.restarts + 2);
    expect(events).toEqual([`add ${ns}/quiet`]);
    await update(ns, 'quiet', '2');
    await vi.waitFor(() => expect(events).toEqual([`add ${ns}/quiet`, `update ${ns}/quiet 1→2`]), eventually);
    informer.stop();
    await vi.waitFor(() => expect(clock.pendingTimers()).toBe(0), eventually);
  });

  it('watches all namespaces when given none', async () => {
    const [a, b] = [await namespace(), await namespace()];
    const informer = configMaps({ namespaces: [], labelSelector: 'perfpilot.dev/test=all' });
    const events = record(informer);
    await informer.start();
    for (const ns of [a, b]) {
      await core.createNamespacedConfigMap({
        namespace: ns,
        body: { metadata: { name: 'labelled', labels: { 'perfpilot.dev/test': 'all' } } },
      });
      await create(ns, 'unlabelled', '1');
    }
    await vi.waitFor(
      () => expect(events.sort()).toEqual([`add ${a}/labelled`, `add ${b}/labelled`].sort()),
      eventually,
    );
    informer.stop();
  });

  it('stop() ends a start() that is still waiting on an API server that does not answer', async () => {
    // Accepts connections and never answers: the TLS handshake hangs, as with a dead load balancer.
    const sockets = new Set<Socket>();
    const closed = new Set<Socket>();
    const blackHole = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => closed.add(socket));
      // Read and drop the client's bytes, so its hang-up is seen.
      socket.resume();
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const address = blackHole.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const informer = configMaps({
      namespaces: ['anything'],
      kubeConfig: kubeConfigVia(cp.kubeConfig, `https://127.0.0.1:${port}`),
    });
    let resolved = false;
    const starting = informer.start().then(() => {
      resolved = true;
    });
    await vi.waitFor(() => expect(sockets.size).toBeGreaterThan(0), eventually);
    expect(resolved).toBe(false);
    informer.stop();
    await vi.waitFor(() => expect(resolved).toBe(true), { timeout: 2000, interval: 20 });
    await starting;
    expect(informer.hasSynced()).toBe(false);
    // The aborted request let go of its connection.
    await vi.waitFor(() => expect(closed.size).toBe(sockets.size), { timeout: 2000, interval: 20 });
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => blackHole.close(() => resolve()));
  });
});
