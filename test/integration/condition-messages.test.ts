/**
 * What a new user reads in `kubectl describe pp` when the monitoring stack is missing: the
 * synthesized profile, applied as it is to a cluster where neither its Prometheus nor its six
 * Redis nodes resolve, with the operator running against a real API server. The condition says
 * the two causes in one short line; the Event and the log say every signal and node.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, EventsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { PerformanceProfile } from '../../operator/src/api/v1alpha1/index.ts';
import { MAX_CONDITION_MESSAGE } from '../../operator/src/controller/conditions.ts';
import { type RunningOperator, startOperator } from '../../operator/src/controller/operator.ts';
import { createLogger } from '../../operator/src/telemetry/logger.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { createNamespace } from '../cluster/kube.ts';
import { createTargetStack, installCrd, profileApi } from './fixtures.ts';

const profilePath = fileURLToPath(new URL('../../manifests/performance-profile.yaml', import.meta.url));
/** The synthesized profile, as `kubectl apply -f manifests/` creates it. */
const synthesized = parseAllDocuments(readFileSync(profilePath, 'utf8'))
  .map((d) => d.toJS() as PerformanceProfile)
  .find((o) => o?.kind === 'PerformanceProfile');
if (!synthesized) throw new Error(`${profilePath} holds no PerformanceProfile`);
const ns = synthesized.metadata.namespace ?? 'perfpilot';
const name = synthesized.metadata.name ?? 'risk-api';
const url = synthesized.spec.metrics.prometheus?.url ?? '';
const nodes = synthesized.spec.metrics.redis?.endpoints ?? [];
/** Resolvers answer a name that does not exist with ENOTFOUND, some with EAI_AGAIN. */
const NOT_RESOLVED = '(ENOTFOUND|EAI_AGAIN)';
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

let cp: ControlPlane;
let operator: RunningOperator;
const logLines: string[] = [];

beforeAll(async () => {
  cp = await startControlPlane();
  await installCrd(cp);
  await createNamespace(cp.kubeConfig, ns);
  await createTargetStack(cp.kubeConfig, ns, synthesized.spec.targetRef.name);
  await cp.kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'redis-auth' }, stringData: { password: 'not-used' } },
  });
  operator = await startOperator({
    kubeConfig: cp.kubeConfig,
    namespaces: [ns],
    identity: 'operator-test',
    leaderElection: false,
    metricsPort: 0,
    healthPort: 0,
    metricsHost: '127.0.0.1',
    logger: createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _encoding, done) {
          logLines.push(...String(chunk).split('\n').filter(Boolean));
          done();
        },
      }),
    }),
  });
  await profileApi(cp.kubeConfig).create(synthesized);
}, 120_000);

afterAll(async () => {
  await operator?.stop();
  await cp?.stop();
});

describe('a profile whose Prometheus and Redis do not resolve', () => {
  it('says both causes in one short MetricsAvailable message, cause first', async () => {
    const profiles = profileApi(cp.kubeConfig);
    const condition = await vi.waitFor(
      async () => {
        const p = await profiles.get(ns, name);
        const c = p.status?.conditions?.find((c) => c.type === 'MetricsAvailable');
        expect(c?.status).toBe('False');
        return c;
      },
      { timeout: 30_000, interval: 200 },
    );
    expect(condition?.reason).toBe('MetricsUnavailable');
    expect(condition?.message).toMatch(
      new RegExp(
        `^Prometheus at ${literal(url)} unreachable \\(${NOT_RESOLVED}\\): 10 signals unknown; ` +
          `Redis: 6 of 6 nodes unreachable \\(${NOT_RESOLVED}\\)`,
      ),
    );
    expect(condition?.message.length).toBeLessThanOrEqual(MAX_CONDITION_MESSAGE);
    // What the user sees: the message on one line of `kubectl describe`, no ellipsis.
    const described = (await cp.kubectl(['describe', 'pp', '-n', ns, name])).stdout;
    const line = described.split('\n').find((l) => l.includes(`Prometheus at ${url} unreachable`)) ?? '';
    expect(line).toMatch(/^\s*Message:\s+Prometheus at /);
    expect(line.trimEnd().endsWith(condition?.message ?? '')).toBe(true);
    expect(described).not.toContain('…');
    console.info(`kubectl describe pp -n ${ns} ${name}:\n${described}`);
  }, 60_000);

  it('records a Warning Event naming every signal and every node, within 1 KiB', async () => {
    const note = await vi.waitFor(
      async () => {
        const list = await cp.kubeConfig.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: ns });
        const event = list.items.find((e) => e.regarding?.name === name && e.reason === 'MetricsUnavailable');
        expect(event?.type).toBe('Warning');
        return event?.note ?? '';
      },
      { timeout: 10_000, interval: 200 },
    );
    expect(note).toMatch(new RegExp(`^MetricsAvailable=False: Prometheus at ${literal(url)} unreachable`));
    for (const signal of [
      'requestsPerSecond',
      'p95LatencyMs',
      'poolWaitSecondsMean',
      'cacheHitRatePercent',
    ]) {
      expect(note).toContain(signal);
    }
    for (const node of nodes) expect(note).toContain(node);
    expect(Buffer.byteLength(note)).toBeLessThanOrEqual(1024);
  });

  it('logs each signal’s own message once', async () => {
    const lines = logLines.filter((l) => l.includes('"msg":"metrics unknown"'));
    expect(lines).toHaveLength(1);
    const unknown = (JSON.parse(lines[0] ?? '{}') as { unknown?: string[] }).unknown ?? [];
    expect(unknown).toContainEqual(
      expect.stringMatching(new RegExp(`^p95LatencyMs: Prometheus at ${literal(url)} is unreachable`)),
    );
    expect(unknown.filter((m) => m.startsWith('redis '))).toHaveLength(nodes.length);
  });
});
