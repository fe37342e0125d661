/** The PerformanceProfile API (`perfpilot.dev/v1alpha1`): names, types, schemas and the CRD. */
export * from './config-hash.ts';
export * from './constants.ts';
export * from './crd.ts';
export * from './performance-profile.ts';
