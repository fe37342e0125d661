/**
 * Import rules that keep the layout of design.md: imports run one way, with no circles, and the
 * pure core (api, tuning, the simulator) never depends on the code that reconciles, measures or
 * writes. `npm run check:imports` runs them; .ci/run runs it before the tests.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Imports run one way: a circle (type-only imports included) has no order to read it in.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'api-imports-nothing-of-the-operator',
      severity: 'error',
      comment: 'The API types are the bottom layer: everything else imports them, they import none of it.',
      from: { path: '^operator/src/api/' },
      to: { path: '^operator/src/(?!api/)' },
    },
    {
      name: 'pure-core-stays-pure',
      severity: 'error',
      comment:
        'The engine and the simulator are pure: they never depend on the reconcile, the runtime or the I/O of measuring and writing.',
      from: { path: '^operator/src/(tuning|sim)/' },
      to: { path: '^operator/src/(controller|runtime|metrics|actuators|redis|telemetry)/' },
    },
    {
      name: 'measuring-does-not-depend-on-writing',
      severity: 'error',
      comment: 'metrics/ reads; actuators/ writes. Shared Redis connections live in redis/.',
      from: { path: '^operator/src/metrics/' },
      to: { path: '^operator/src/(actuators|controller)/' },
    },
    {
      name: 'actuators-do-not-depend-on-the-reconcile',
      severity: 'error',
      comment: 'The reconcile calls the actuators, never the other way round.',
      from: { path: '^operator/src/actuators/' },
      to: { path: '^operator/src/controller/' },
    },
    {
      name: 'product-does-not-import-tests-or-benchmarks',
      severity: 'error',
      comment:
        'What ships (operator, toolkit, risk API, CLI) never imports the test harness or the benchmarks.',
      from: { path: '^(operator|charts-ts|risk-api)/src/', pathNot: '\\.test\\.ts$|test-fixtures\\.ts$' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'soak-observer-is-independent',
      severity: 'error',
      comment:
        'The soak observer checks the operator from outside: it reads Redis, PostgreSQL, the API server and the load generator, and shares no code with the product or the soak runner.',
      from: { path: '^test/soak/observer/' },
      to: { path: '^(?!test/soak/observer/)(operator|charts-ts|risk-api|cli|demo|bench|test)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|\\.testenv)/' },
    // swc parses the sources: TypeScript 7 has no JavaScript API yet, so dependency-cruiser warns
    // that tsc is missing; with swc it still reads type-only imports (a circle of types fails here).
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
