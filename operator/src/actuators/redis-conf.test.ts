import { describe, expect, it } from 'vitest';
import { rewriteMaxMemoryLine } from './redis-conf.ts';

describe('rewriteMaxMemoryLine', () => {
  it.each([
    ['an empty file gets the line', '', 'maxmemory 768mb\n', 0, true],
    [
      'the one directive is rewritten, every other line kept',
      'bind 0.0.0.0\nmaxmemory 512mb\nmaxmemory-policy allkeys-lru\n',
      'bind 0.0.0.0\nmaxmemory 768mb\nmaxmemory-policy allkeys-lru\n',
      1,
      false,
    ],
    [
      'a file without the directive gets it at the end',
      'port 6379\nmaxmemory-policy allkeys-lru\n',
      'port 6379\nmaxmemory-policy allkeys-lru\nmaxmemory 768mb\n',
      0,
      true,
    ],
    [
      'maxmemory inside comments is left alone',
      '# maxmemory <bytes>\n  # maxmemory 1gb\nport 6379\n',
      '# maxmemory <bytes>\n  # maxmemory 1gb\nport 6379\nmaxmemory 768mb\n',
      0,
      true,
    ],
    [
      'CRLF line endings are kept, the added line too',
      'port 6379\r\nmaxmemory-policy noeviction\r\n',
      'port 6379\r\nmaxmemory-policy noeviction\r\nmaxmemory 768mb\r\n',
      0,
      true,
    ],
    [
      'a CRLF directive keeps its CRLF',
      'maxmemory 100mb\r\nport 6379\r\n',
      'maxmemory 768mb\r\nport 6379\r\n',
      1,
      false,
    ],
    [
      'a missing trailing newline is added before the new line',
      'port 6379',
      'port 6379\nmaxmemory 768mb\n',
      0,
      true,
    ],
    [
      'a last directive without a trailing newline stays without one',
      'port 6379\nmaxmemory 1gb',
      'port 6379\nmaxmemory 768mb',
      1,
      false,
    ],
    [
      'several directives all take the value (Redis applies the last)',
      'maxmemory 100mb\nport 6379\nMAXMEMORY 2gb\n',
      'maxmemory 768mb\nport 6379\nMAXMEMORY 768mb\n',
      2,
      false,
    ],
    ['indentation and a value in quotes', '  maxmemory "512mb"\n', '  maxmemory 768mb\n', 1, false],
    [
      'an include before the directive changes nothing more (Bitnami master.conf)',
      'include /opt/bitnami/redis/etc/redis.conf\nmaxmemory 512mb\n',
      'include /opt/bitnami/redis/etc/redis.conf\nmaxmemory 768mb\n',
      1,
      false,
    ],
    [
      'an include after the directive gets a line after it, as it could set maxmemory',
      'maxmemory 512mb\ninclude /etc/redis/overrides.conf\n',
      'maxmemory 768mb\ninclude /etc/redis/overrides.conf\nmaxmemory 768mb\n',
      1,
      true,
    ],
    [
      'blank lines and trailing spaces of other lines are kept',
      '\n\nport 6379   \n\n',
      '\n\nport 6379   \n\nmaxmemory 768mb\n',
      0,
      true,
    ],
  ])('%s', (_, conf, text, rewritten, appended) => {
    expect(rewriteMaxMemoryLine(conf, 768)).toEqual({ text, rewritten, appended });
  });

  it('names the value and its bound when it is not a whole number of MiB', () => {
    expect(() => rewriteMaxMemoryLine('', 0.5)).toThrow(
      'maxmemory must be a whole number of MiB ≥ 1, got 0.5',
    );
  });
});
