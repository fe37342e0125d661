import { Construct } from 'constructs';
import { API_VERSION, KIND } from '../../operator/src/api/v1alpha1/constants.ts';
import type { PerformanceProfileSpec } from '../../operator/src/api/v1alpha1/performance-profile.ts';
import { kubeObject } from './kube-object.ts';
import { appLabels } from './labels.ts';

/** Props of PerformanceProfile. */
export interface PerformanceProfileProps {
  /** namespace of the profile and of its target. */
  readonly namespace: string;
  /** name of the profile. */
  readonly name: string;
  /** spec of the profile; fields the API server defaults may be left out. */
  readonly spec: PerformanceProfileSpec;
}

/** PerformanceProfile is one `perfpilot.dev/v1alpha1` PerformanceProfile object. */
export class PerformanceProfile extends Construct {
  constructor(scope: Construct, id: string, props: PerformanceProfileProps) {
    super(scope, id);
    const { knobs, database } = props.spec;
    const smallest = knobs.replicas.floor * (knobs.poolSize.min + knobs.maxOverflow.min);
    const budget = database.maxConnections - database.reservedConnections;
    if (smallest > budget) {
      throw new Error(
        `PerformanceProfile: spec.knobs allow no configuration within the connection budget: replicas.floor x (poolSize.min + maxOverflow.min) = ${smallest}, but maxConnections - reservedConnections = ${budget}`,
      );
    }
    kubeObject(this, 'Resource', {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: appLabels(props.name, 'performance-profile'),
      },
      spec: props.spec,
    });
  }
}
