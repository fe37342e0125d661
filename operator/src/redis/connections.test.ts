import { describe, expect, it } from 'vitest';
import type { RedisSource } from '../api/v1alpha1/metrics-spec.ts';
import {
  endpointSetOf,
  parseClusterNodes,
  parseSentinelReplicas,
  type RedisEndpointSet,
  type RedisSourceSecrets,
  redactSecret,
  splitAddress,
} from './connections.ts';

/** CLUSTER NODES of a 3 + 3 cluster after one master failed and its replica took over. */
const clusterNodes = [
  'e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460',
  '67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@40002 master - 0 1426238316232 2 connected 5461-10922',
  '292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@40003 master,fail - 1426238316232 1426238315732 3 disconnected',
  '6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30004@40004 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238316232 1 connected',
  '824fe116063bc5fcf9f4ffd895bc17aee7731ac3 127.0.0.1:30005@40005 slave 67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 0 1426238317741 2 connected',
  'a9bc7d8b1f8c2a0b14e29ab4d8aa40d5a4f8e6c1 127.0.0.1:30006@40006 master,fail? - 0 1426238317239 7 connected 10923-16383',
  '',
].join('\n');

describe('parseClusterNodes', () => {
  it('lists masters and replicas, failing or not, sorted by address', () => {
    expect(parseClusterNodes(clusterNodes, '127.0.0.1')).toEqual([
      { address: '127.0.0.1:30001', role: 'master', failing: false },
      { address: '127.0.0.1:30002', role: 'master', failing: false },
      { address: '127.0.0.1:30003', role: 'master', failing: true },
      { address: '127.0.0.1:30004', role: 'replica', failing: false },
      { address: '127.0.0.1:30005', role: 'replica', failing: false },
      { address: '127.0.0.1:30006', role: 'master', failing: true },
    ]);
  });

  it('prefers the announced hostname, which survives a pod getting a new IP', () => {
    const line =
      '6ec23923 10.244.1.7:6379@16379,redis-cluster-4.redis-cluster-headless.perfpilot.svc.cluster.local slave e7d1 0 1 1 connected';
    expect(parseClusterNodes(line, 'seed')).toEqual([
      {
        address: 'redis-cluster-4.redis-cluster-headless.perfpilot.svc.cluster.local:6379',
        role: 'replica',
        failing: false,
      },
    ]);
  });

  it('takes the seed host for a node that does not know its own IP yet', () => {
    expect(parseClusterNodes('e7d1 :7000@17000 myself,master - 0 0 0 connected', 'redis-0.redis')).toEqual([
      { address: 'redis-0.redis:7000', role: 'master', failing: false },
    ]);
  });

  it('leaves out nodes in handshake and nodes without an address', () => {
    const text = [
      'aaaa 127.0.0.1:30007@40007 handshake - 0 0 0 connected',
      'bbbb :0@0 master,fail,noaddr - 0 0 3 disconnected',
    ].join('\n');
    expect(parseClusterNodes(text, '127.0.0.1')).toEqual([]);
  });
});

describe('splitAddress', () => {
  it.each([
    ['127.0.0.1:6379', { host: '127.0.0.1', port: 6379 }],
    [
      'redis-0.redis-headless.ns.svc.cluster.local:6380',
      { host: 'redis-0.redis-headless.ns.svc.cluster.local', port: 6380 },
    ],
    ['[::1]:6379', { host: '::1', port: 6379 }],
  ])('splits %s', (address, expected) => {
    expect(splitAddress(address)).toEqual(expected);
  });

  it.each(['redis', 'redis:', ':6379', 'redis:70000', 'redis:abc'])('refuses %s, naming it', (address) => {
    expect(() => splitAddress(address)).toThrow(`Redis endpoint must be host:port, got "${address}"`);
  });
});

describe('redactSecret', () => {
  it('removes every occurrence of the password', () => {
    expect(redactSecret('AUTH s3cr3t failed; s3cr3t rejected', 's3cr3t')).toBe(
      'AUTH [redacted] failed; [redacted] rejected',
    );
  });
  it('leaves text alone without a password', () => {
    expect(redactSecret('connect ECONNREFUSED', undefined)).toBe('connect ECONNREFUSED');
  });
});

describe('parseSentinelReplicas', () => {
  const replica = (ip: string, port: string, flags: string) => [
    'name',
    `${ip}:${port}`,
    'ip',
    ip,
    'port',
    port,
    'runid',
    'abc',
    'flags',
    flags,
  ];

  it.each([
    ['a healthy replica', [replica('10.0.0.2', '6379', 'slave')], [['10.0.0.2:6379', false]]],
    ['one flagged down', [replica('10.0.0.3', '6379', 's_down,slave')], [['10.0.0.3:6379', true]]],
    ['one disconnected', [replica('10.0.0.4', '6380', 'slave,disconnected')], [['10.0.0.4:6380', true]]],
    ['an IPv6 replica', [replica('fd00::5', '6379', 'slave')], [['[fd00::5]:6379', false]]],
    [
      'two, sorted by address',
      [replica('10.0.0.9', '6379', 'slave'), replica('10.0.0.1', '6379', 'slave')],
      [
        ['10.0.0.1:6379', false],
        ['10.0.0.9:6379', false],
      ],
    ],
    ['none', [], []],
  ])('reads %s', (_, reply, expected) => {
    expect(parseSentinelReplicas(reply)).toEqual(
      expected.map(([address, failing]) => ({ address, role: 'replica', failing })),
    );
  });

  it('refuses an answer that is not a list', () => {
    expect(() => parseSentinelReplicas('ERR')).toThrow('SENTINEL REPLICAS answered ERR');
  });
});

describe('endpointSetOf', () => {
  const secret = (key: string) => ({ name: 'redis-auth', key });
  const sentinel = { endpoints: ['sentinel-0:26379', 'sentinel-1:26379'], masterName: 'mymaster' };
  const cases: [string, RedisSource, RedisSourceSecrets, RedisEndpointSet][] = [
    ['endpoints alone', { endpoints: ['redis-0:6379'] }, {}, { endpoints: ['redis-0:6379'] }],
    [
      'the ACL user and the password',
      { endpoints: ['redis-0:6379'], username: 'perfpilot', passwordSecretRef: secret('password') },
      { password: 's3cret' },
      { endpoints: ['redis-0:6379'], username: 'perfpilot', password: 's3cret' },
    ],
    [
      'the Sentinels in place of endpoints, with their own password',
      { sentinel: { ...sentinel, passwordSecretRef: secret('sentinel-password') } },
      { sentinelPassword: 'sentinel-s3cret' },
      { endpoints: [], sentinel: { ...sentinel, password: 'sentinel-s3cret' } },
    ],
    [
      'the Sentinels without a password, the nodes with one',
      { sentinel, passwordSecretRef: secret('password') },
      { password: 's3cret' },
      { endpoints: [], sentinel, password: 's3cret' },
    ],
    [
      'TLS with the CA bundle',
      { endpoints: ['redis-0:6380'], tls: { caBundleSecretRef: secret('ca.crt') } },
      { ca: 'PEM' },
      { endpoints: ['redis-0:6380'], tls: true, ca: 'PEM' },
    ],
    [
      'TLS with the system CAs',
      { endpoints: ['redis-0:6380'], tls: {} },
      {},
      { endpoints: ['redis-0:6380'], tls: true },
    ],
    [
      'no TLS, whatever CA was read',
      { endpoints: ['redis-0:6379'] },
      { ca: 'PEM' },
      { endpoints: ['redis-0:6379'] },
    ],
  ];

  it.each(cases)('connects with %s', (_, source, secrets, expected) => {
    expect(endpointSetOf(source, secrets)).toStrictEqual(expected);
  });
});
