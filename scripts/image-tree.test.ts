import { describe, expect, it } from 'vitest';
import { copies, ignoredBy, imageConfig } from './image-tree.ts';

describe('ignoredBy (.dockerignore as Docker reads it)', () => {
  const ignored = ignoredBy([
    'node_modules',
    'bench',
    '!bench/sim',
    '!bench/median.ts',
    '**/*.test.ts',
    '**/__snapshots__',
  ]);
  it.each([
    ['node_modules/x/index.js', true],
    ['bench/run.ts', true],
    ['bench/peers/go.mod', true],
    ['bench/sim/goal.ts', false],
    ['bench/median.ts', false],
    ['bench/sim/goal.test.ts', true],
    ['operator/src/runtime/http-server.test.ts', true],
    ['charts-ts/src/__snapshots__/operator.test.ts.snap', true],
    ['operator/src/runtime/http-server.ts', false],
    ['package.json', false],
  ])('%s → %s', (path, expected) => {
    expect(ignored(path)).toBe(expected);
  });
});

describe('the final stage of a Dockerfile', () => {
  const dockerfile = [
    'FROM node:24 AS deps',
    'WORKDIR /build',
    'COPY package.json ./',
    'FROM node:24-slim',
    'ENV NODE_ENV=production',
    'WORKDIR /app',
    'COPY --from=deps /build/node_modules ./node_modules',
    'COPY package.json ./',
    'COPY bin \\',
    '  ./bin',
    'USER 10001:10001',
    'EXPOSE 8080 8001/udp',
    'ENTRYPOINT ["node", "bin/perfpilot.js"]',
    'CMD ["operator"]',
  ].join('\n');

  it('lists its COPY lines only, destinations under WORKDIR', () => {
    expect(copies(dockerfile)).toEqual([
      { from: 'deps', sources: ['/build/node_modules'], dest: '/app/node_modules' },
      { sources: ['package.json'], dest: '/app/' },
      { sources: ['bin'], dest: '/app/bin' },
    ]);
  });

  it('reads its settings', () => {
    expect(imageConfig(dockerfile)).toEqual({
      env: { NODE_ENV: 'production' },
      workdir: '/app',
      user: '10001:10001',
      exposedPorts: ['8080/tcp', '8001/udp'],
      entrypoint: ['node', 'bin/perfpilot.js'],
      cmd: ['operator'],
    });
  });
});
