/**
 * Reading the one Secret value an actuator needs (the Redis password), injected as a function so
 * tests and the offline `recommend` command can supply their own. The value is returned to the
 * caller only: it is never logged, and no error message carries it.
 */
import type { CoreV1Api } from '@kubernetes/client-node';

/** Names one key of a Secret. */
export interface SecretKeyLocation {
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
}

/** SecretReader returns the decoded value of one Secret key, or throws naming the Secret and key. */
export type SecretReader = (ref: SecretKeyLocation) => Promise<string>;

/** SecretKeyMissingError: the Secret exists and has no such key (a configuration error, not a transient one). */
export class SecretKeyMissingError extends Error {
  override readonly name = 'SecretKeyMissingError';
}

/**
 * kubeSecretReader reads a Secret by name with `get` (the Role grants it for named Secrets only)
 * and decodes the key; a missing key throws an error naming the Secret and the key.
 */
export function kubeSecretReader(core: Pick<CoreV1Api, 'readNamespacedSecret'>): SecretReader {
  return async (ref) => {
    const secret = await core.readNamespacedSecret({ namespace: ref.namespace, name: ref.name });
    const encoded = secret.data?.[ref.key];
    if (encoded === undefined) {
      throw new SecretKeyMissingError(`Secret ${ref.namespace}/${ref.name} has no key "${ref.key}"`);
    }
    return Buffer.from(encoded, 'base64').toString('utf8');
  };
}
