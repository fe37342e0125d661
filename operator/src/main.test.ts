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
      healthPort: 8081,
      secureMetrics: true,
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
        HEALTH_PORT: '9091',
        METRICS_CERT_DIR: '/certs',
        LEADER_ELECT: 'false',
        POD_NAMESPACE: 'ops',
        POD_NAME: 'op-1',
        LOG_LEVEL: 'debug',
      }),
    ).toEqual({
      kubeconfig: '/k',
      watchNamespaces: ['a', 'b'],
      metricsPort: 9090,
      healthPort: 9091,
      secureMetrics: true,
      metricsCertDir: '/certs',
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

  it.each(['HEALTH_PORT', 'METRICS_PORT'])('rejects %s=x naming the variable and the range', (name) => {
    expect(() => configFromEnvironment({ [name]: 'x' })).toThrow(
      `${name} is "x"; it must be a port number from 0 to 65535`,
    );
  });

  it('rejects one port for both servers', () => {
    expect(() => configFromEnvironment({ METRICS_PORT: '9000', HEALTH_PORT: '9000' })).toThrow(
      'HEALTH_PORT is 9000, the same as METRICS_PORT; the two servers need their own ports',
    );
  });

  it('turns secure metrics off only for INSECURE_METRICS=true, and refuses a certificate with it', () => {
    expect(configFromEnvironment({ INSECURE_METRICS: 'true' }).secureMetrics).toBe(false);
    expect(configFromEnvironment({ INSECURE_METRICS: 'false' }).secureMetrics).toBe(true);
    expect(() => configFromEnvironment({ INSECURE_METRICS: 'yes' })).toThrow(
      'INSECURE_METRICS is "yes"; it must be "true" or "false"',
    );
    expect(() => configFromEnvironment({ INSECURE_METRICS: 'true', METRICS_CERT_DIR: '/certs' })).toThrow(
      'METRICS_CERT_DIR is set with INSECURE_METRICS=true',
    );
  });
});
