/** The operator's values: its Deployment, the default PerformanceProfile, and the connection budget it enforces. */
import Type from 'typebox';
import { MODES, type Mode } from '../../operator/src/api/v1alpha1/constants.ts';
import {
  DEFAULT_DATABASE,
  DEFAULT_KNOB_BOUNDS,
  DEFAULT_POLICY,
} from '../../operator/src/api/v1alpha1/defaults.ts';
import { DEFAULT_HEALTH_PORT, DEFAULT_METRICS_PORT } from '../../operator/src/endpoints.ts';
import { ALL_NAMESPACES } from './operator-rbac.ts';
import {
  bool,
  DNS_LABEL,
  DNS_SUBDOMAIN,
  image,
  int,
  oneOf,
  PERFPILOT_IMAGE,
  resources,
  strict,
} from './values-fields.ts';

/**
 * watchNamespaces: where the operator tunes, one shape for the toolkit's values and the Helm
 * chart's. The release's default (all namespaces) is set where the release values are defined.
 */
export function watchNamespaces(def: readonly string[]) {
  return Type.Array(
    Type.String({
      pattern: `^(\\${ALL_NAMESPACES}|${DNS_LABEL.slice(1, -1)})$`,
      maxLength: 63,
      'x-allowed': `a namespace name, or "${ALL_NAMESPACES}" alone for all namespaces`,
    }),
    {
      description: `Namespaces whose profiles the operator tunes: a Role in each with only what the profile forms need. ["${ALL_NAMESPACES}"] tunes every namespace (a ClusterRole); an empty list, the operator's own namespace.`,
      default: [...def],
    },
  );
}

/** secretNames: the Secrets the operator may read, by name, in each tuned namespace. */
export const SecretNames = Type.Array(
  Type.String({
    pattern: DNS_SUBDOMAIN,
    minLength: 1,
    maxLength: 253,
    'x-allowed': 'a Secret name (a DNS subdomain)',
  }),
  {
    description:
      'Secrets the operator may get, by name, in each tuned namespace: the Redis password and ACL Secrets your profiles name (spec.metrics.redis). No other Secret is readable.',
    default: [],
  },
);

/** rbac: the roles for people beside the operator's own. */
export const RbacValues = Type.Object(
  {
    aggregateToDefaultRoles: bool(
      'Add the performanceprofiles-viewer ClusterRole to the built-in view role, and the editor to edit and admin.',
      false,
    ),
  },
  { ...strict, description: 'The per-CRD roles for people.' },
);

/** database: the connection budget the operator enforces. */
export const DatabaseValues = Type.Object(
  {
    maxConnections: int(
      'The database’s max_connections (PostgreSQL default 100).',
      DEFAULT_DATABASE.maxConnections,
      1,
      100000,
    ),
    reservedConnections: int(
      'Connections kept free for admins and jobs.',
      DEFAULT_DATABASE.reservedConnections,
      0,
      100000,
    ),
  },
  { ...strict, description: 'The database connection budget the operator enforces.' },
);

/** operator: the PerfPilot operator and its default profile. */
export const OperatorValues = Type.Object(
  {
    image: image('Image of the operator: the project’s one image.', PERFPILOT_IMAGE),
    args: Type.Array(Type.String({ minLength: 1 }), {
      description:
        'Flags of the operator (those of `perfpilot operator --help`), given to the image’s operator bundle (`node dist/operator.js`, see the Dockerfile).',
      default: [],
    }),
    replicas: int('Operator replicas; one leads through a Lease, the others stand by.', 2, 1, 5),
    metricsPort: int(
      'Port of /metrics: HTTPS, each scrape checked with a TokenReview and a SubjectAccessReview, unless metricsSecure is false.',
      DEFAULT_METRICS_PORT,
      1024,
      65535,
    ),
    healthPort: int(
      'Port of /healthz and /readyz: plain HTTP, for the kubelet’s probes.',
      DEFAULT_HEALTH_PORT,
      1024,
      65535,
    ),
    metricsSecure: bool(
      'Serve /metrics over HTTPS to callers allowed `get /metrics` only (the perfpilot-metrics-reader ClusterRole); false serves plain HTTP to anyone who reaches the port.',
      true,
    ),
    metricsCertSecret: Type.String({
      description:
        'A Secret in cert-manager’s layout (tls.crt, tls.key, ca.crt) whose certificate /metrics serves, and whose ca.crt the ServiceMonitor verifies it with; empty: a self-signed certificate generated at start, not verified by the scraper.',
      default: '',
      pattern: `^$|${DNS_SUBDOMAIN}`,
      maxLength: 253,
      'x-allowed': 'empty, or a Secret name: a DNS subdomain',
    }),
    logLevel: oneOf('Log level.', ['debug', 'info', 'warn', 'error'], 'info'),
    watchNamespaces: watchNamespaces([]),
    secretNames: SecretNames,
    rbac: RbacValues,
    resources: resources({
      cpuRequestMillis: 100,
      cpuLimitMillis: 500,
      memoryRequestMiB: 128,
      memoryLimitMiB: 256,
    }),
    profile: Type.Object(
      {
        enabled: bool('Create a PerformanceProfile for the stack.', true),
        mode: oneOf<Mode>('Mode of the default profile.', MODES, 'Recommend'),
        poolSizeMin: int('knobs.poolSize.min.', DEFAULT_KNOB_BOUNDS.poolSize.min, 1, 1000),
        poolSizeMax: int('knobs.poolSize.max.', DEFAULT_KNOB_BOUNDS.poolSize.max, 1, 1000),
        maxOverflowMin: int('knobs.maxOverflow.min.', DEFAULT_KNOB_BOUNDS.maxOverflow.min, 0, 1000),
        maxOverflowMax: int('knobs.maxOverflow.max.', DEFAULT_KNOB_BOUNDS.maxOverflow.max, 0, 1000),
        redisMaxmemoryMinMiB: int(
          'knobs.redisMaxmemory.minMiB.',
          DEFAULT_KNOB_BOUNDS.redisMaxmemory.minMiB,
          16,
          1048576,
        ),
        redisMaxmemoryMaxMiB: int(
          'knobs.redisMaxmemory.maxMiB.',
          DEFAULT_KNOB_BOUNDS.redisMaxmemory.maxMiB,
          16,
          1048576,
        ),
        replicaFloor: int('knobs.replicas.floor.', DEFAULT_KNOB_BOUNDS.replicas.floor, 2, 1000),
        replicaCeiling: int('knobs.replicas.ceiling.', DEFAULT_KNOB_BOUNDS.replicas.ceiling, 2, 1000),
        evaluationIntervalSeconds: int(
          'policy.evaluationIntervalSeconds.',
          DEFAULT_POLICY.evaluationIntervalSeconds,
          10,
          3600,
        ),
        cooldownSeconds: int('policy.cooldownSeconds.', DEFAULT_POLICY.cooldownSeconds, 0, 86400),
        verificationWindowSeconds: int(
          'policy.verificationWindowSeconds.',
          DEFAULT_POLICY.verificationWindowSeconds,
          10,
          86400,
        ),
      },
      { ...strict, description: 'The default PerformanceProfile for the stack.' },
    ),
  },
  { ...strict, description: 'The PerfPilot operator.' },
);
