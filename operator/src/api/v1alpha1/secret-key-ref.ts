/**
 * A reference to one key of a Secret in the profile's namespace, the shape every credential of a
 * profile takes (Prometheus token and password, Redis and Sentinel passwords, CA bundles).
 */
import Type, { type Static } from 'typebox';
import { DNS_SUBDOMAIN } from './schema-builders.ts';

/** secretKeyRef is a Secret name and key, the key defaulting to `defaultKey`. */
export function secretKeyRef(defaultKey: string, description: string) {
  return Type.Object(
    {
      name: Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: DNS_SUBDOMAIN,
        description: 'name of the Secret in the profile’s namespace.',
      }),
      key: Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: '^[-._a-zA-Z0-9]+$',
        default: defaultKey,
        description: 'key of the Secret holding the value.',
      }),
    },
    { description },
  );
}

/** SecretKeyRef names one key of a Secret in the profile's namespace (a password by default). */
export const SecretKeyRef = secretKeyRef('password', 'A key of a Secret in the profile’s namespace.');
export type SecretKeyRef = Static<typeof SecretKeyRef>;
