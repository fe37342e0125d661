/**
 * The toolkit's values model: one typed, documented schema whose defaults are the seed guide's
 * numbers. A YAML values file overrides any of it (see load-values.ts); every field says what it
 * does, its default and its allowed range, and the same schema validates user input.
 */
import Type, { type Static } from 'typebox';
import { ApiValues, HpaValues } from './values-api.ts';
import { DNS_SUBDOMAIN, name } from './values-fields.ts';
import { AlertsValues, MonitoringValues, SloValues } from './values-monitoring.ts';
import { DatabaseValues, OperatorValues } from './values-operator.ts';
import { RedisValues } from './values-redis.ts';

/** ValuesSchema: the whole values model, one section per component. */
export const ValuesSchema = Type.Object(
  {
    namespace: name('Namespace of the whole stack; labelled for Pod Security restricted.', 'perfpilot'),
    clusterDomain: Type.String({
      description: 'DNS domain of the cluster, for the stable hostnames Redis nodes announce.',
      default: 'cluster.local',
      pattern: DNS_SUBDOMAIN,
      maxLength: 253,
    }),
    redis: RedisValues,
    api: ApiValues,
    hpa: HpaValues,
    slo: SloValues,
    alerts: AlertsValues,
    database: DatabaseValues,
    operator: OperatorValues,
    monitoring: MonitoringValues,
  },
  { additionalProperties: false, description: 'PerfPilot toolkit values.' },
);

/** Values is the complete, validated values model. */
export type Values = Static<typeof ValuesSchema>;

/** ContainerResources: one container's requests and limits, as every section's `resources` holds them. */
export type ContainerResources = Values['api']['resources'];
