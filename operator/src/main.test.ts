import { describe, expect, it } from 'vitest';
import { configFromEnvironment, parseWatchNamespaces } from './main.ts';

describe('parseWatchNamespaces', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['*', []],
    ['shop', ['shop']],
    [' shop , payments ,shop', ['shop', 'payments']],
    ['shop,*', []],
  ])('%j → %j', (value, expected) => {
    expect(parseWatchNamespaces(value)).toEqual(expected);
  });
});

describe('configFromEnvironment', () => {
  it('takes the defaults from an empty environment', () => {
    const config = configFromEnvironment({ HOSTNAME: 'ignored' });
    expect(config).toMatchObject({
      watchNamespaces: [],
      metricsPort: 8080,
      leaderElect: true,
      leaseNamespace: 'default',
      logLevel: 'info',
    });
  });

  it('reads every variable', () => {
    expect(
      configFromEnvironment({
        KUBECONFIG: '/k',
        WATCH_NAMESPACE: 'a,b',
        METRICS_PORT: '9090',
        LEADER_ELECT: 'false',
        POD_NAMESPACE: 'ops',
        POD_NAME: 'op-1',
        LOG_LEVEL: 'debug',
      }),
    ).toEqual({
      kubeconfig: '/k',
      watchNamespaces: ['a', 'b'],
      metricsPort: 9090,
      leaderElect: false,
      leaseNamespace: 'ops',
      identity: 'op-1',
      logLevel: 'debug',
    });
  });

  it('puts the Lease in the first watched namespace when POD_NAMESPACE is unset', () => {
    expect(configFromEnvironment({ WATCH_NAMESPACE: 'shop,payments' }).leaseNamespace).toBe('shop');
  });

  it.each(['http', '-1', '70000', '80.5'])(
    'rejects METRICS_PORT=%s naming the variable and the range',
    (port) => {
      expect(() => configFromEnvironment({ METRICS_PORT: port })).toThrow(
        `METRICS_PORT is "${port}"; it must be a port number from 0 to 65535`,
      );
    },
  );
});
