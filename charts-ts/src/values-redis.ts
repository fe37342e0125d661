/** The Redis Cluster's values: the seed's redis.conf, the cluster's shape, its Secret, storage and resources. */
import Type from 'typebox';
import { bool, DNS_SUBDOMAIN, image, int, name, oneOf, resources, strict } from './values-fields.ts';

/** redis: the Redis Cluster. */
export const RedisValues = Type.Object(
  {
    image: image('Redis image (7.x, for cluster-announce-hostname).', 'redis:7.4.2-bookworm'),
    exporterImage: image('redis_exporter sidecar image.', 'oliver006/redis_exporter:v1.67.0'),
    masters: int('Number of Redis masters (hash slot owners).', 3, 3, 50),
    replicasPerMaster: int('Replicas per master.', 1, 0, 5),
    maxmemoryMiB: int(
      'maxmemory of each node in MiB (seed: 512mb); at most 75% of the memory limit.',
      512,
      16,
      1048576,
    ),
    maxmemoryPolicy: oneOf(
      'maxmemory-policy (seed: allkeys-lru).',
      [
        'allkeys-lru',
        'allkeys-lfu',
        'volatile-lru',
        'volatile-lfu',
        'allkeys-random',
        'volatile-ttl',
        'noeviction',
      ],
      'allkeys-lru',
    ),
    timeoutSeconds: int(
      'timeout: close idle client connections after this many seconds (seed: 300).',
      300,
      0,
      86400,
    ),
    tcpKeepaliveSeconds: int('tcp-keepalive in seconds (seed: 300).', 300, 0, 86400),
    hz: int('hz: background task frequency (seed: 10).', 10, 1, 500),
    hashMaxListpackEntries: int(
      'hash-max-listpack-entries (the seed’s hash-max-ziplist-entries 512).',
      512,
      0,
      1000000,
    ),
    maxclients: int('maxclients (seed: 1000).', 1000, 1, 100000),
    clusterNodeTimeoutMs: int('cluster-node-timeout in milliseconds.', 5000, 1000, 120000),
    appendonly: bool('appendonly: persist writes in the append-only file.', true),
    passwordSecret: Type.Object(
      {
        name: name(
          'Existing Secret holding the Redis password; never generated or committed.',
          'redis-auth',
          DNS_SUBDOMAIN,
        ),
        key: Type.String({
          description: 'Key in the Secret.',
          default: 'password',
          pattern: '^[-._a-zA-Z0-9]+$',
        }),
      },
      { ...strict, description: 'Reference to an existing Secret with the Redis password.' },
    ),
    storageGiB: int('Size of each node’s data volume in GiB.', 2, 1, 16384),
    storageClassName: Type.Optional(
      Type.String({
        description: 'StorageClass of the data volumes; the cluster default when unset.',
        pattern: DNS_SUBDOMAIN,
      }),
    ),
    resources: resources({
      cpuRequestMillis: 250,
      cpuLimitMillis: 1000,
      memoryRequestMiB: 1024,
      memoryLimitMiB: 1024,
    }),
    exporterResources: resources({
      cpuRequestMillis: 25,
      cpuLimitMillis: 100,
      memoryRequestMiB: 32,
      memoryLimitMiB: 64,
    }),
  },
  { ...strict, description: 'The Redis Cluster (the seed’s redis.conf plus cluster settings).' },
);
