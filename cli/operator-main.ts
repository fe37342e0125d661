/**
 * Entry point of the operator's bundle, `dist/operator.js` (`npm run bundle`), which the image's
 * operator container runs: `node dist/operator.js [flags]` takes the flags and environment of
 * `perfpilot operator` (`--help` lists them). One file of plain JavaScript, the dependencies' unused
 * code left out and without comments, starts in about half the time of the TypeScript sources
 * (982 ms against 1,862 ms to /readyz, `npm run bench -- operator`) and holds less in V8's heap:
 * Node keeps every loaded module's source text for lazy compilation, and `@kubernetes/client-node`
 * alone is 25 MB of it in 1,800 files (see rolldown.config.ts).
 */
import { operatorCommand } from './operator-command.ts';
import { runProgram } from './run-program.ts';

const program = operatorCommand().showHelpAfterError().exitOverride();
process.exitCode = await runProgram(program, process.argv);
