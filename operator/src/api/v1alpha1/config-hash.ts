import { createHash } from 'node:crypto';

/**
 * configHash is the value of the `perfpilot.dev/config-hash` pod-template annotation: a short,
 * stable digest of the tuning ConfigMap's data. synth and the operator must compute it the same
 * way, or every GitOps sync would roll the API's pods; so it is defined once, here.
 */
export function configHash(data: Readonly<Record<string, string>>): string {
  const canonical = JSON.stringify(
    Object.keys(data)
      .sort()
      .map((k) => [k, data[k]]),
  );
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
