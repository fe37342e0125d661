import { Construct } from 'constructs';
import { performanceProfileCrd } from '../../operator/src/api/v1alpha1/crd.ts';
import { kubeObject } from './kube-object.ts';

/** Props of PerformanceProfileCrd. */
export interface PerformanceProfileCrdProps {
  /**
   * labels added to the CRD's metadata.
   * @default { 'app.kubernetes.io/part-of': 'perfpilot' }
   */
  readonly labels?: Record<string, string>;
}

/**
 * PerformanceProfileCrd is the `perfpilot.dev/v1alpha1` PerformanceProfile CustomResourceDefinition,
 * generated from the one API definition in operator/src/api/v1alpha1.
 */
export class PerformanceProfileCrd extends Construct {
  constructor(scope: Construct, id: string, props: PerformanceProfileCrdProps = {}) {
    super(scope, id);
    kubeObject(
      this,
      'Resource',
      performanceProfileCrd(props.labels ?? { 'app.kubernetes.io/part-of': 'perfpilot' }),
    );
  }
}
