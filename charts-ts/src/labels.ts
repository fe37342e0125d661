/** The stack's labels: the recommended `app.kubernetes.io` set and the stable selector subset. */

/** appLabels are the recommended `app.kubernetes.io` labels of one component. */
export function appLabels(name: string, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'perfpilot',
    'app.kubernetes.io/managed-by': 'perfpilot-synth',
  };
}

/** selectorLabels are the stable subset used in selectors (never changes across upgrades). */
export function selectorLabels(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name };
}
