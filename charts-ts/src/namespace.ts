import { Construct } from 'constructs';
import { kubeObject } from './kube-object.ts';

/** Props of StackNamespace. */
export interface StackNamespaceProps {
  /** name of the namespace. */
  readonly name: string;
  /**
   * podSecurityVersion pins the Pod Security Standards version the labels refer to.
   * @default 'latest'
   */
  readonly podSecurityVersion?: string;
}

/** StackNamespace is the stack's Namespace, enforcing, auditing and warning on Pod Security `restricted`. */
export class StackNamespace extends Construct {
  /** name of the namespace. */
  readonly name: string;

  constructor(scope: Construct, id: string, props: StackNamespaceProps) {
    super(scope, id);
    this.name = props.name;
    const version = props.podSecurityVersion ?? 'latest';
    kubeObject(this, 'Resource', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: props.name,
        labels: {
          'app.kubernetes.io/part-of': 'perfpilot',
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': version,
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/audit-version': version,
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/warn-version': version,
        },
      },
    });
  }
}
