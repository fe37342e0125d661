#!/usr/bin/env node
// Entry point of the `perfpilot` command. In a checkout, the sources are TypeScript run directly
// by Node 24's type stripping, so there is no build step between a change and the command. The npm
// package ships them compiled (dist/lib, `npm run build`): Node strips no types under node_modules.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `perfpilot: needs Node.js 24 or newer, but this is ${process.version}.\n` +
      '  run `npm run setup` (it installs Node 24 into node_modules/.bin) and start perfpilot\n' +
      '  through npm: `npx perfpilot ...` or `npm run <script>`.',
  );
  process.exit(1);
}
const { existsSync } = await import('node:fs');
const fromSources = existsSync(new URL('../cli/perfpilot.ts', import.meta.url));
/** module is a module of the project: its source in a checkout, its compiled JavaScript in the package. */
const projectModule = (path) =>
  new URL(fromSources ? `../${path}.ts` : `../dist/lib/${path}.js`, import.meta.url).href;
// Reuse V8's compiled code across runs (kept in the OS temp directory): start-up is most of a short command.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
// The operator's V8 heap and allocator settings are read only when a process starts: before the CLI
// loads, start again with them (same pid, same stdio) unless they were given (the container sets them).
if (process.argv[2] === 'operator' && typeof process.execve === 'function') {
  const { missingMallocEnv, missingNodeFlags, OPERATOR_NODE_FLAGS } = await import(
    projectModule('operator/src/node-flags')
  );
  const missing = missingNodeFlags(OPERATOR_NODE_FLAGS, process.execArgv, process.env.NODE_OPTIONS);
  const env = missingMallocEnv(process.env);
  if (missing.length > 0 || Object.keys(env).length > 0) {
    process.execve(
      process.execPath,
      [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)],
      { ...process.env, ...env },
    );
  }
}
const { main } = await import(projectModule('cli/perfpilot'));
process.exitCode = await main(process.argv);
