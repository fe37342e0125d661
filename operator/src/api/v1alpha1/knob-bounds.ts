/**
 * How far the operator may move each knob, and the database's connection budget the pool knobs
 * must fit in over all replicas.
 */
import Type, { type Static } from 'typebox';
import { MAXMEMORY_WITHIN_CONTAINER, orderedPair, RESERVED_BELOW_MAX_CONNECTIONS } from './cel-rules.ts';
import {
  DEFAULT_DATABASE,
  DEFAULT_HPA_TARGET_CPU_PERCENT,
  DEFAULT_KNOB_BOUNDS,
  REQUEST_RATE_TARGET_MAX,
} from './defaults.ts';
import { MAXMEMORY_SHARE_PERCENT } from './redis-maxmemory-ceiling.ts';
import { intBound } from './schema-builders.ts';

/** IntRange is an inclusive integer range `[min, max]` for a knob. */
function intRange(owner: string, what: string, def: { min: number; max: number }, lo: number, hi: number) {
  return Type.Object(
    {
      min: intBound(`min is the smallest ${what} the operator may set.`, def.min, lo, hi),
      max: intBound(`max is the largest ${what} the operator may set.`, def.max, lo, hi),
    },
    {
      default: {},
      description: `${owner} bounds the ${what}.`,
      'x-kubernetes-validations': [orderedPair(owner, 'min', 'max')],
    },
  );
}

/** KnobBounds: the ranges within which each knob may be moved. */
export const KnobBounds = Type.Object(
  {
    poolSize: intRange(
      'poolSize',
      'DB connection pool size per replica (DB_POOL_SIZE)',
      DEFAULT_KNOB_BOUNDS.poolSize,
      1,
      1000,
    ),
    maxOverflow: intRange(
      'maxOverflow',
      'DB pool overflow per replica (DB_MAX_OVERFLOW)',
      DEFAULT_KNOB_BOUNDS.maxOverflow,
      0,
      1000,
    ),
    redisMaxmemory: Type.Object(
      {
        minMiB: intBound(
          'minMiB is the smallest Redis maxmemory the operator may set, in MiB.',
          DEFAULT_KNOB_BOUNDS.redisMaxmemory.minMiB,
          16,
          1048576,
        ),
        maxMiB: intBound(
          `maxMiB is the largest Redis maxmemory the operator may set, in MiB; at most ${MAXMEMORY_SHARE_PERCENT}% of containerMemoryLimitMiB.`,
          DEFAULT_KNOB_BOUNDS.redisMaxmemory.maxMiB,
          16,
          1048576,
        ),
        containerMemoryLimitMiB: intBound(
          `containerMemoryLimitMiB is the memory limit of the Redis container, in MiB; maxmemory stays at or below ${MAXMEMORY_SHARE_PERCENT}% of it to leave room for fragmentation, replication buffers and forks.`,
          DEFAULT_KNOB_BOUNDS.redisMaxmemory.containerMemoryLimitMiB,
          32,
          2097152,
        ),
      },
      {
        default: {},
        description: 'redisMaxmemory bounds the Redis maxmemory setting of every node.',
        'x-kubernetes-validations': [
          orderedPair('redisMaxmemory', 'minMiB', 'maxMiB'),
          MAXMEMORY_WITHIN_CONTAINER,
        ],
      },
    ),
    replicas: Type.Object(
      {
        floor: intBound(
          'floor is the lowest HPA minReplicas the operator may set; at least 2 so a disruption never takes the API down.',
          DEFAULT_KNOB_BOUNDS.replicas.floor,
          2,
          1000,
        ),
        ceiling: intBound(
          'ceiling is the highest HPA maxReplicas the operator may set.',
          DEFAULT_KNOB_BOUNDS.replicas.ceiling,
          2,
          1000,
        ),
      },
      {
        default: {},
        description: 'replicas bounds the HPA’s minReplicas and maxReplicas.',
        'x-kubernetes-validations': [orderedPair('replicas', 'floor', 'ceiling')],
      },
    ),
    hpaTarget: Type.Optional(
      Type.Object(
        {
          cpuUtilization: Type.Object(
            {
              minPercent: intBound(
                'minPercent is the lowest average CPU utilization target, in percent of the pods’ CPU request, the operator may set on the HPA.',
                DEFAULT_HPA_TARGET_CPU_PERCENT.minPercent,
                1,
                100,
              ),
              maxPercent: intBound(
                'maxPercent is the highest average CPU utilization target, in percent of the pods’ CPU request, the operator may set on the HPA.',
                DEFAULT_HPA_TARGET_CPU_PERCENT.maxPercent,
                1,
                100,
              ),
            },
            {
              default: {},
              description:
                'cpuUtilization bounds the target of the HPA’s Resource cpu metric of type Utilization.',
              'x-kubernetes-validations': [
                orderedPair('hpaTarget.cpuUtilization', 'minPercent', 'maxPercent'),
              ],
            },
          ),
          requestRate: Type.Optional(
            Type.Object(
              {
                metricName: Type.String({
                  minLength: 1,
                  maxLength: 253,
                  description:
                    'metricName names the HPA’s request-rate metric: a Pods, Object or External metric with target.type AverageValue, counting the same requests per second as spec.metrics’ request rate.',
                }),
                minPerPod: Type.Integer({
                  minimum: 1,
                  maximum: REQUEST_RATE_TARGET_MAX,
                  description:
                    'minPerPod is the lowest request-rate target, in requests per second per pod, the operator may set on the HPA.',
                }),
                maxPerPod: Type.Integer({
                  minimum: 1,
                  maximum: REQUEST_RATE_TARGET_MAX,
                  description:
                    'maxPerPod is the highest request-rate target, in requests per second per pod, the operator may set on the HPA.',
                }),
              },
              {
                description:
                  'requestRate, when set, lets the operator tune the averageValue target of the HPA’s request-rate metric the same way as the CPU target: the highest rate per pod at which the measured p95 still met the SLO, with headroom for the load’s growth over one lead. No defaults: a rate per pod is the service’s own.',
                'x-kubernetes-validations': [orderedPair('hpaTarget.requestRate', 'minPerPod', 'maxPerPod')],
              },
            ),
          ),
        },
        {
          // No default: a profile without it keeps the HPA's target as written.
          description:
            'hpaTarget, when set, lets the operator tune the HPA’s CPU utilization target (and, with requestRate, its request-rate target): the hottest target at which the measured p95 still meets the SLO, with headroom for the load’s growth during one pod start-up and one HPA sync. The HPA’s spec.metrics is an atomic list, so the operator then owns the whole list: it writes it back as read, with only the tuned targets changed. Not set: the HPA’s targets are held as written.',
        },
      ),
    ),
  },
  { default: {}, description: 'knobs bounds every knob the operator tunes.' },
);
export type KnobBounds = Static<typeof KnobBounds>;

/** DatabaseBudget is the connection budget the pool knobs must fit in. */
export const DatabaseBudget = Type.Object(
  {
    maxConnections: intBound(
      'maxConnections is the database’s max_connections.',
      DEFAULT_DATABASE.maxConnections,
      1,
      100000,
    ),
    reservedConnections: intBound(
      'reservedConnections are kept free for administrators, migrations and other clients; the API may use maxConnections - reservedConnections.',
      DEFAULT_DATABASE.reservedConnections,
      0,
      100000,
    ),
  },
  {
    default: {},
    description:
      'database is the connection budget: maxReplicas x (poolSize + maxOverflow) <= maxConnections - reservedConnections.',
    'x-kubernetes-validations': [RESERVED_BELOW_MAX_CONNECTIONS],
  },
);
export type DatabaseBudget = Static<typeof DatabaseBudget>;
